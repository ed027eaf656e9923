/**
 * The EHR launch: authorize with PKCE S256 (required), asking for the patient and imaging reads,
 * as the client the EHR registered (settings from config.json), and only from an allowed EHR.
 */
import FHIR from 'fhirclient';
import { issuerAllowed, loadAppConfig } from './app-config';
import { showAlert } from './alert';

async function launch(): Promise<void> {
  const config = await loadAppConfig();
  const iss = new URLSearchParams(window.location.search).get('iss');
  if (!iss) {
    showAlert('The viewer was not launched by an EHR', 'Open the viewer from the patient\'s chart in the EHR: the launch must name the EHR (iss).');
    return;
  }
  if (!issuerAllowed(iss, config)) {
    showAlert(
      'This EHR may not launch the viewer',
      `The launch came from ${iss}, which is not one of the EHRs this viewer is set up for. The integrator must add it to smart.app.allowedIssuers in the service's configuration.`,
    );
    return;
  }
  await FHIR.oauth2.authorize({ clientId: config.clientId, scope: config.scope, redirectUri: './index.html', pkceMode: 'required' });
}

launch().catch((error: unknown) => showAlert('The viewer could not be launched', (error as Error).message));
