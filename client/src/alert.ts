/** A page-wide message for when the app cannot start (no launch, a refused EHR, a missing set-up). */
export function showAlert(title: string, text: string): void {
  const section = document.createElement('section');
  section.className = 'alert';
  section.setAttribute('role', 'alert');
  const heading = document.createElement('h1');
  heading.textContent = title;
  const paragraph = document.createElement('p');
  paragraph.textContent = text;
  section.append(heading, paragraph);
  document.body.replaceChildren(section);
}
