/**
 * The EHR launch: authorize with PKCE S256 (required), asking for the patient and imaging reads,
 * as the client the EHR registered (settings from config.json), and only from an allowed EHR.
 */
import FHIR from 'fhirclient';
import { issuerAllowed, loadAppConfig } from './app-config';
import { showAlert } from './alert';
import { messageOf } from '../../server/src/errors';

/**
 * The one place the app's token requests are sent elsewhere than the EHR's token endpoint: when
 * the service brokers them (its `fhir` mode, where the token response is the only word on the
 * launch patient), fhirclient's stored state.tokenUri, which ready() posts the code to and
 * refresh() the refresh token, is pointed at the service's broker, which forwards to the EHR.
 * fhirclient 2.6.3 keeps the state as JSON in sessionStorage under the key stored at SMART_KEY.
 */
function sendTokenRequestsTo(brokerUrl: string): void {
  const stateKey = JSON.parse(sessionStorage.getItem('SMART_KEY') ?? 'null') as string | null;
  const stored = stateKey ? sessionStorage.getItem(stateKey) : null;
  if (!stateKey || !stored) throw new Error('The SMART launch state was not stored; open the viewer again from the chart.');
  const state = JSON.parse(stored) as Record<string, unknown>;
  sessionStorage.setItem(stateKey, JSON.stringify({ ...state, tokenUri: brokerUrl }));
}

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
  const authorizeUrl = await FHIR.oauth2.authorize({ clientId: config.clientId, scope: config.scope, redirectUri: './index.html', pkceMode: 'required', noRedirect: true });
  if (config.tokenBroker) sendTokenRequestsTo(new URL(config.tokenBroker, window.location.href).href);
  if (typeof authorizeUrl === 'string') window.location.href = authorizeUrl;
}

launch().catch((error: unknown) => showAlert('The viewer could not be launched', messageOf(error)));
