/** The viewer page: completes the SMART launch (code → token with PKCE), then shows the app. */
import FHIR from 'fhirclient';
import { showAlert } from './alert';
import './components/knee-app';
import { launchContext } from './smart';
import { smartStudySource } from './study-source';

FHIR.oauth2
  .ready()
  .then((client) => {
    // The app starts loading when connected, so it is given its source before it is added.
    const app = document.createElement('knee-app');
    app.context = launchContext(client);
    app.source = smartStudySource(client);
    document.body.append(app);
  })
  .catch(() => {
    // No SMART state (the tab was reloaded after the session, or opened directly): say so.
    showAlert('Your session has ended or the viewer was not launched from a chart', 'Open the viewer from the patient\'s chart in the EHR.');
  });
