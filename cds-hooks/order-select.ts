/** order-select: selecting a knee radiograph order shows the AI result of the patient's recent knee studies. */
import { studyCardsFor } from './answer';
import { hasKneeRadiographOrder } from '../fhir-profiles/knee-radiograph-orders';
import { PREFETCH } from './patient-data';
import type { CdsService } from './types';

export const orderSelectService: CdsService = {
  id: 'knee-tumor-order-select',
  hook: 'order-select',
  title: 'Knee bone tumor AI: prior results when ordering knee imaging',
  description: 'When a knee radiograph is selected, shows the AI second reader result of the patient\'s recent knee radiographs.',
  prefetch: PREFETCH,
  handle: async (request, context) =>
    hasKneeRadiographOrder(context.kneeRadiographCodes, request.context.draftOrders, request.context.selections) ? studyCardsFor(request, context) : { cards: [] },
};
