/** The answer every service gives once it has decided to speak: the cards of the patient's recent studies. */
import { patientData } from './patient-data';
import { recentStudies, studyCards } from './study-cards';
import type { HookContext, HookRequest, HookResponse } from './types';

export async function studyCardsFor(request: HookRequest, context: HookContext): Promise<HookResponse> {
  const data = await patientData(request, context);
  const studies = recentStudies(data, context.studiesPerCard);
  const jobs = await context.jobs.forStudies(studies.map((s) => s.studyInstanceUid));
  return { cards: studyCards(context, data, jobs, studies, Date.now()) };
}
