/** The CDS services, defined once: the discovery document and the routes are both derived from this list. */
import { orderSelectService } from './order-select';
import { orderSignService } from './order-sign';
import { patientViewService } from './patient-view';
import type { CdsService } from './types';

export const CDS_SERVICES: readonly CdsService[] = [patientViewService, orderSelectService, orderSignService];

export function discovery(services: readonly CdsService[]) {
  return {
    services: services.map(({ id, hook, title, description, prefetch, usageRequirements }) => ({
      id,
      hook,
      title,
      description,
      prefetch,
      ...(usageRequirements ? { usageRequirements } : {}),
    })),
  };
}
