/** order-sign: signing a knee radiograph order shows the AI result of the patient's recent knee studies. */
import { studyCardsFor } from './answer';
import { hasKneeRadiographOrder } from '../fhir-profiles/knee-radiograph-orders';
import { PREFETCH } from './patient-data';
import type { CdsService } from './types';

export const orderSignService: CdsService = {
  id: 'knee-tumor-order-sign',
  hook: 'order-sign',
  title: 'Knee bone tumor AI: prior results when signing knee imaging orders',
  description: 'When a knee radiograph order is signed, shows the AI second reader result of the patient\'s recent knee radiographs.',
  prefetch: PREFETCH,
  handle: async (request, context) => (hasKneeRadiographOrder(context.kneeRadiographCodes, request.context.draftOrders) ? studyCardsFor(request, context) : { cards: [] }),
};
