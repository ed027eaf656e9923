/** CDS Hooks 2.0 shapes: the request a CDS client sends, and cards and services we answer with. */
import { z } from 'zod';
import type { Bundle, DiagnosticReport, FhirResource, ImagingStudy, Observation } from 'fhir/r4';
import type { JobStore } from '../server/src/jobs/store';
import type { Log } from '../server/src/log';
import type { CdsCaller } from './auth';
import { BundleSchema, FhirResourceSchema } from './fhir-shapes';
import type { KneeRadiographCodes } from '../fhir-profiles/knee-radiograph-orders';

export const HookRequestSchema = z.object({
  hook: z.string().min(1),
  hookInstance: z.string().min(1),
  fhirServer: z.url().optional(),
  fhirAuthorization: z
    .object({
      access_token: z.string().min(1),
      token_type: z.literal('Bearer'),
      expires_in: z.number(),
      scope: z.string(),
      subject: z.string(),
      patient: z.string().optional(),
    })
    .optional(),
  context: z.looseObject({
    patientId: z.string().min(1),
    userId: z.string().optional(),
    encounterId: z.string().optional(),
    selections: z.array(z.string()).optional(),
    draftOrders: BundleSchema.optional(),
  }),
  /**
   * A key with null: the client looked and found nothing; a missing key, or an OperationOutcome
   * (the client's own prefetch failed, CDS Hooks 2.0): we must look.
   */
  prefetch: z.record(z.string(), FhirResourceSchema.nullable()).optional(),
});

export type HookRequest = Omit<z.infer<typeof HookRequestSchema>, 'prefetch' | 'context'> & {
  context: z.infer<typeof HookRequestSchema>['context'] & { draftOrders?: Bundle<FhirResource> };
  prefetch?: Record<string, FhirResource | null>;
};

export interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
}

export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic?: { system: string; code: string; display: string } };
  links?: Link[];
  overrideReasons?: Array<{ system: string; code: string; display: string }>;
}

export interface HookResponse {
  cards: Card[];
}

/** What a hook knows about the patient: from prefetch or from the EHR's FHIR server. */
export interface PatientData {
  studies: ImagingStudy[];
  reports: DiagnosticReport[];
  /** The reports' Observations, when the prefetch or the query included them. */
  observations: Observation[];
}

/** What a hook may ask the EHR's FHIR server: searches only, never writes. */
export interface EhrFhirReader {
  /** One page of results (matches only). */
  search<T extends FhirResource>(resourceType: T['resourceType'], query: string): Promise<T[]>;
  /** A search URL relative to the base, e.g. a resolved prefetch template; the whole Bundle. */
  searchUrl(relativeUrl: string): Promise<Bundle<FhirResource>>;
}

/** What every hook call shares: the service's settings and stores; no hook waits for inference. */
export interface HookSettings {
  jobs: JobStore;
  log: Log;
  appLaunchUrl: string;
  modelCardUrl: string;
  studiesPerCard: number;
  currentStudyDays: number;
  /** A reader of the hook's FHIR server with the hook's access token (the service's FHIR client). */
  ehrFhir: (baseUrl: string, accessToken: string) => EhrFhirReader;
  /** The order codes that are knee radiographs (the order hooks answer only for those). */
  kneeRadiographCodes: KneeRadiographCodes;
}

/** Everything a hook needs besides the request: the settings, and who called (which FHIR servers it may make us query). */
export interface HookContext extends HookSettings {
  caller: CdsCaller;
}

/** One CDS service, defined once: discovery and the route are both derived from it. */
export interface CdsService {
  id: string;
  hook: 'patient-view' | 'order-select' | 'order-sign';
  title: string;
  description: string;
  prefetch: Record<string, string>;
  usageRequirements?: string;
  handle(request: HookRequest, context: HookContext): Promise<HookResponse>;
}
