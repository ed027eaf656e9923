/** The EHR launch: authorize with PKCE S256 (required), asking for the patient and imaging reads. */
import FHIR from 'fhirclient';
import { CLIENT_ID, SCOPES } from './smart';

void FHIR.oauth2.authorize({ clientId: CLIENT_ID, scope: SCOPES, redirectUri: './index.html', pkceMode: 'required' });
