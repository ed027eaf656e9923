/** patient-view: opening the chart shows the AI result of the patient's recent knee radiographs. */
import { studyCardsFor } from './answer';
import { PREFETCH } from './patient-data';
import type { CdsService } from './types';

export const patientViewService: CdsService = {
  id: 'knee-tumor-patient-view',
  hook: 'patient-view',
  title: 'Knee bone tumor AI: results on chart open',
  description:
    'Shows the AI second reader result (possible primary bone tumor, no tumor detected, in progress, or could not analyse) for the patient\'s recent two-view knee radiographs.',
  prefetch: PREFETCH,
  usageRequirements: 'Register the PACS stable-study trigger or a FHIR Subscription so that studies are analysed when complete.',
  handle: studyCardsFor,
};
