/**
 * Configuration, read once at start-up (from a JSON file and/or environment variables), validated,
 * and passed into every module that needs it. No other module reads process.env.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { KneeTumorError, messageOf } from './errors';
import { describeIssues } from './validation-issues';

/** The repository root, whether this file runs compiled (dist/server/src) or as TypeScript (server/src). */
export const REPOSITORY_ROOT = path.resolve(__dirname, path.basename(path.resolve(__dirname, '../..')) === 'dist' ? '../../..' : '../..');

/** The shipped ensemble. */
export const DEFAULT_MANIFEST = path.join(REPOSITORY_ROOT, 'models/knee-tumor-v2/manifest.json');

/** Our FHIR ValueSet of the order codes that are knee radiographs (LOINC, CPT, SNOMED CT). */
export const KNEE_RADIOGRAPH_ORDERS_VALUE_SET = path.join(REPOSITORY_ROOT, 'fhir-profiles/ValueSet-knee-radiograph-orders.json');

const BasicAuthSchema = z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string() });
const BearerAuthSchema = z.object({ type: z.literal('bearer'), token: z.string().min(1) });

/** OAuth 2.0 client credentials with a shared secret sent as HTTP basic (client_secret_basic). */
const ClientCredentialsAuthSchema = z.object({
  type: z.literal('oauth2-client-credentials'),
  tokenUrl: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scope: z.string().min(1).optional(),
});

/** What the service reads, searches and writes on the EHR's FHIR server as a backend service. */
const DEFAULT_BACKEND_SCOPE =
  'system/ImagingStudy.rs system/ServiceRequest.rs system/DiagnosticReport.crs system/Observation.crs system/Device.crs system/Provenance.c';

/**
 * SMART Backend Services: client_credentials authenticated by a JWT assertion signed with this
 * service's private key (private_key_jwt); the EHR holds the public key under `kid`.
 */
const SmartBackendAuthSchema = z
  .object({
    type: z.literal('smart-backend'),
    /** The EHR's token endpoint; taken from {fhir.baseUrl}/.well-known/smart-configuration when omitted. */
    tokenUrl: z.url().optional(),
    clientId: z.string().min(1),
    scope: z.string().min(1).default(DEFAULT_BACKEND_SCOPE),
    alg: z.enum(['RS384', 'ES384']),
    kid: z.string().min(1),
    /** A PKCS#8 or PKCS#1/SEC1 PEM file, read once when the client is composed. */
    privateKeyPath: z.string().min(1).optional(),
    privateKeyJwk: z.looseObject({ kty: z.string() }).optional(),
  })
  .refine((a) => Boolean(a.privateKeyPath) !== Boolean(a.privateKeyJwk), { message: 'give exactly one of privateKeyPath and privateKeyJwk' });

const PacsAuthSchema = z.discriminatedUnion('type', [BasicAuthSchema, BearerAuthSchema, ClientCredentialsAuthSchema]);
const FhirAuthSchema = z.discriminatedUnion('type', [BasicAuthSchema, BearerAuthSchema, SmartBackendAuthSchema, ClientCredentialsAuthSchema]);

export const PacsConfigSchema = z.object({
  /** DICOMweb base URL (QIDO-RS, WADO-RS, STOW-RS), e.g. http://pacs/dicom-web */
  dicomWebUrl: z.url(),
  /** HTTP basic credentials, a bearer token or OAuth 2.0 client credentials for the PACS; never sent to browsers. */
  auth: PacsAuthSchema.optional(),
  /** Per-request timeout in milliseconds. */
  timeoutMs: z.number().int().positive().default(30000),
});

export const ModelConfigSchema = z.object({
  manifestPath: z.string().min(1).default(DEFAULT_MANIFEST),
  executionProvider: z.enum(['cpu', 'webgpu']).default('cpu'),
  /** Overrides of the manifest's thresholds, for a site that validated its own operating point. */
  operatingThreshold: z.number().min(0).max(1).optional(),
  merge: z.enum(['nms', 'wbf']).optional(),
  /**
   * Threads onnxruntime may use per session on the CPU provider (0 = its default, one per core),
   * whether idle ones spin, and whether the folds run at the same time: the defaults (2, no
   * spinning, folds at once) were the fastest of `npm run bench -- --threading` on the 2-core
   * machine (README, performance; not measured on a larger one).
   */
  cpuThreads: z.number().int().nonnegative().default(2),
  cpuSpinning: z.boolean().default(false),
  parallelFolds: z.boolean().default(true),
  /**
   * Lets the CDS service run a demonstration model (manifest intendedUse "demonstration", trained
   * on synthetic images), whose findings on real radiographs mean nothing: for demos only.
   */
  allowDemonstrationModel: z.boolean().default(false),
});

/**
 * Resource limits checked from the header, before any pixel buffer is allocated. The largest
 * flat-panel detectors are 43 x 43 cm at 100 um (4300 x 4300, 18.5 M pixels); stitched long-leg
 * images reach about 4300 x 13000 (56 M). The defaults leave room above both and refuse the
 * 16384 x 16384 or gigabyte-sized images no radiograph is.
 */
export const ImageLimitsSchema = z.object({
  /** Rows and Columns each at most this. */
  maxSide: z.number().int().positive().default(16384),
  /** Rows x Columns of one frame at most this (64 M: 128 MiB of 16-bit stored values). */
  maxPixelsPerFrame: z.number().int().positive().default(64 * 1024 * 1024),
  /** A radiograph has one frame; a few views stored as frames of one object pass, a cine does not. */
  maxFrames: z.number().int().positive().default(16),
  /** A deflated data set stops inflating past this many bytes (256 MiB: a largest 16-bit frame twice over). */
  maxInflatedBytes: z.number().int().positive().default(256 * 1024 * 1024),
});

/**
 * The CDS service decodes and infers in a worker thread, away from the event loop that answers
 * hooks; these limits stop an analysis that runs away (the job fails analysis-limit-exceeded).
 */
export const AnalysisWorkerSchema = z.object({
  /**
   * Longest time one study's analysis may take; past it the worker thread is ended. Fetching two
   * radiographs, decoding them and running every fold and pass takes seconds, so less than 5 s is
   * a typing error; the service also refuses to start when warming the model up takes more than
   * half of it on this machine.
   */
  timeoutMs: z.number().int().min(5000).default(120000),
  /**
   * The worker thread's JavaScript heap limit, in MiB. Pixel buffers live outside this heap; they
   * are bounded by imageLimits before they are allocated. Loading the ensemble needs more than 256.
   */
  maxHeapMb: z.number().int().min(256).default(2048),
});

/** How a study is admitted to the analysis. */
export const AnalysisConfigSchema = z.object({
  /**
   * Analyse, and flag body-part-unconfirmed, a study whose attributes neither confirm the knee nor
   * name another part and for which no knee radiograph order is known; refused when false.
   */
  acceptUnconfirmedBodyPart: z.boolean().default(false),
  /** What an image may cost before it is decoded; see ImageLimitsSchema. */
  imageLimits: ImageLimitsSchema.default(ImageLimitsSchema.parse({})),
  /** The service's analysis worker thread; see AnalysisWorkerSchema. */
  worker: AnalysisWorkerSchema.default(AnalysisWorkerSchema.parse({})),
});

/** Which orders are knee radiographs: our ValueSet, which a site extends (or replaces) with its own. */
export const OrdersConfigSchema = z.object({
  /** A site's own FHIR ValueSet file whose compose.include lists its knee radiograph order codes. */
  kneeRadiographValueSet: z.string().min(1).optional(),
  /** `extend` (default): its codes count besides ours; `replace`: only its codes count. */
  kneeRadiographValueSetUse: z.enum(['extend', 'replace']).default('extend'),
});

export const FhirConfigSchema = z.object({
  /** FHIR R4 base URL where results are written and ImagingStudies are looked up. */
  baseUrl: z.url(),
  /** Credentials of this service (a system account or SMART backend client), never those of a clinician. */
  auth: FhirAuthSchema.optional(),
  timeoutMs: z.number().int().positive().default(15000),
});

/** A JSON Web Key Set given inline, for EHRs whose keys cannot be fetched from the service. */
const JwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional(), alg: z.string().optional() })).min(1) });

export const CdsClientSchema = z
  .object({
    /** The `iss` the EHR puts in its CDS Hooks JWT. */
    issuer: z.string().min(1),
    /** Where the issuer's public keys are published; a token's `jku` must equal it when present. */
    jwksUrl: z.url().optional(),
    /** The issuer's public keys, given here: a token's `jku` is then ignored (never fetched) and its `kid` must be in this set. */
    jwks: JwksSchema.optional(),
    /**
     * FHIR base URLs this client's hooks may send us to (a hook's `fhirServer`, at or below one of
     * them); any other is never called. None: we never query, prefetch must be complete.
     */
    fhirServers: z.array(z.url()).optional(),
  })
  .refine((c) => Boolean(c.jwksUrl) !== Boolean(c.jwks), { message: 'give exactly one of jwksUrl and jwks' });

export const ServiceConfigSchema = z.object({
  /** Public base URL of this service; CDS clients use `${baseUrl}/cds-services/{id}` as the JWT aud. */
  baseUrl: z.url(),
  port: z.number().int().min(0).max(65535).default(8080),
  /** The address `serve` listens on: loopback unless set (a reverse proxy in front terminates TLS). */
  host: z.string().min(1).default('127.0.0.1'),
  /** Origins (besides our own) whose pages may frame the SMART app: an EHR that embeds it. */
  frameAncestors: z.array(z.url()).default([]),
  /** Launch URL of the SMART viewer app that cards link to. */
  appLaunchUrl: z.url(),
  /** The model card, shown as the source of every card. */
  modelCardUrl: z.url(),
  /**
   * Oldest `iat` accepted on a CDS client's JWT, in seconds; also the longest lifetime (exp - iat)
   * accepted, and so how long a token id stays in the replay cache.
   */
  maxTokenAgeSeconds: z.number().int().positive().default(300),
  /** How many recent studies of a patient a hook reports on. */
  studiesPerCard: z.number().int().positive().default(3),
  /** A positive study taken longer ago than this raises no warning card (it is shown as info). */
  currentStudyDays: z.number().int().positive().default(30),
});

/** How /app-api checks the app's access token; each EHR issues a different kind of token. */
const TokenValidationSchema = z.discriminatedUnion('mode', [
  /** A JWT signed with an asymmetric key by the EHR's authorization server, `aud` = fhirBaseUrl. */
  z.object({ mode: z.literal('jwt'), issuer: z.url(), jwksUrl: z.url() }),
  /**
   * RFC 7662 introspection (any token, opaque included), this service authenticating as a client
   * with a secret (basic or post), or with a bearer token where the endpoint takes only that: `token`,
   * else the service's own token from fhir.auth (checked when the service is composed).
   */
  z
    .object({
      mode: z.literal('introspection'),
      introspectionUrl: z.url(),
      clientId: z.string().min(1).optional(),
      clientSecret: z.string().min(1).optional(),
      clientAuth: z.enum(['client_secret_basic', 'client_secret_post', 'bearer']).default('client_secret_basic'),
      token: z.string().min(1).optional(),
    })
    .superRefine((v, ctx) => {
      if (v.clientAuth === 'bearer') return;
      for (const key of ['clientId', 'clientSecret'] as const) {
        if (!v[key]) ctx.addIssue({ code: 'custom', path: [key], message: `clientAuth ${v.clientAuth} needs ${key} (or set clientAuth bearer)` });
      }
    }),
  /**
   * The token must read the launch patient and the requested study on the EHR's FHIR server; the
   * launch patient is the one the EHR named when the app's token request went through our broker.
   */
  z.object({
    mode: z.literal('fhir'),
    /** The EHR's token endpoint the broker forwards to; from {fhirBaseUrl}/.well-known/smart-configuration when omitted. */
    tokenUrl: z.url().optional(),
  }),
]);

/** What the app is told at run time (GET /app/config.json): what the EHR registered it as, and where it may be launched from. */
const SmartAppSchema = z.object({
  clientId: z.string().min(1).default('knee-tumor-viewer'),
  scope: z.string().min(1).default('launch openid fhirUser patient/Patient.rs patient/ImagingStudy.rs patient/DiagnosticReport.rs patient/Observation.rs'),
  /** The `iss` (FHIR base URLs) the app accepts a launch from; fhirBaseUrl when not given. */
  allowedIssuers: z.array(z.url()).optional(),
});

/** Today's flat `{ issuer, jwksUrl, fhirBaseUrl }` is the `jwt` mode, so existing files stay valid. */
function flatJwtShape(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || 'tokenValidation' in input) return input;
  const { issuer, jwksUrl, ...rest } = input as Record<string, unknown>;
  return issuer === undefined && jwksUrl === undefined ? input : { ...rest, tokenValidation: { mode: 'jwt', issuer, jwksUrl } };
}

/** The SMART viewer's image and feedback API: whose access tokens it accepts, and the app's launch settings. */
export const SmartConfigSchema = z.preprocess(
  flatJwtShape,
  z.object({
    /** The EHR's FHIR base URL: the `iss` of its launches and the `aud` the app asks its token for. */
    fhirBaseUrl: z.url(),
    tokenValidation: TokenValidationSchema,
    app: SmartAppSchema.default(SmartAppSchema.parse({})),
    /** Per-request timeout of the introspection endpoint and of the FHIR check, in milliseconds. */
    timeoutMs: z.number().int().positive().default(10000),
    /** The longest lifetime accepted on an access token (exp - iat, or exp - now without iat), in seconds. */
    maxTokenLifetimeSeconds: z.number().int().positive().default(3600),
  }),
);

export const JobsConfigSchema = z.object({
  /** SQLite file holding jobs and card feedback; survives restarts. */
  databasePath: z.string().min(1).default('knee-tumor-jobs.sqlite'),
  /** Attempts before a job that keeps meeting a retryable error is marked failed. */
  maxAttempts: z.number().int().positive().default(8),
  /** Attempts for a study the PACS does not list: it may still be arriving, or the UID is wrong. */
  missingStudyAttempts: z.number().int().positive().default(4),
  /** Backoff before the n-th retry: initialBackoffMs x 2^(n-1), capped at maxBackoffMs. */
  initialBackoffMs: z.number().int().positive().default(5000),
  maxBackoffMs: z.number().int().positive().default(600000),
  /** How often an idle worker looks for due jobs. */
  pollIntervalMs: z.number().int().positive().default(1000),
  /**
   * When the job database cannot be written (disk full): how long the worker pauses before trying
   * again, and the Retry-After of a trigger answered 503.
   */
  storeRetryMs: z.number().int().positive().default(5000),
});

/** Reconciliation: the periodic search for studies whose trigger was missed (server/src/triggers/reconcile.ts). */
export const ReconcileConfigSchema = z.object({
  /** Searches at start and every intervalMs; false leaves the triggers alone responsible. */
  enabled: z.boolean().default(true),
  intervalMs: z.number().int().positive().default(300000),
  /** The PACS is searched from this many days before the newest study date seen (studies can arrive late); also the first window. */
  lookbackDays: z.number().int().positive().default(3),
  /** ImagingStudies asked for per FHIR search page (QIDO-RS is asked once per modality, bounded by the date window). */
  pageSize: z.number().int().positive().max(1000).default(200),
});

/** Shared secrets of the trigger endpoints; an endpoint whose secret is unset is not served. */
export const TriggersConfigSchema = z.object({
  /** Bearer token of `POST /triggers/studies`, for PACS other than Orthanc. */
  httpToken: z.string().min(32).optional(),
  /** Bearer token the Orthanc Lua script sends to `POST /triggers/orthanc`. */
  orthancToken: z.string().min(32).optional(),
  /** Bearer token set in the FHIR Subscription's channel.header for `POST /triggers/fhir-subscription`. */
  subscriptionToken: z.string().min(32).optional(),
});

/** What an operator watches the service with: readiness, metrics and the audit trail. */
export const OperationsConfigSchema = z.object({
  /**
   * The audit trail (image views, refused tokens, feedback; ids only) as JSON lines appended to
   * this file; on stdout when unset, apart from the operational log on stderr.
   */
  auditLogPath: z.string().min(1).optional(),
  /** How long /ready waits for each dependency (PACS, FHIR, job store, model). */
  readinessTimeoutMs: z.number().int().positive().default(3000),
  /** When set, GET /metrics requires this bearer token. */
  metricsToken: z.string().min(32).optional(),
});

export const ConfigSchema = z.object({
  pacs: PacsConfigSchema.optional(),
  model: ModelConfigSchema.default(ModelConfigSchema.parse({})),
  analysis: AnalysisConfigSchema.default(AnalysisConfigSchema.parse({})),
  orders: OrdersConfigSchema.default(OrdersConfigSchema.parse({})),
  fhir: FhirConfigSchema.optional(),
  service: ServiceConfigSchema.optional(),
  smart: SmartConfigSchema.optional(),
  cdsClients: z.array(CdsClientSchema).default([]),
  jobs: JobsConfigSchema.default(JobsConfigSchema.parse({})),
  triggers: TriggersConfigSchema.default({}),
  reconcile: ReconcileConfigSchema.default(ReconcileConfigSchema.parse({})),
  operations: OperationsConfigSchema.default(OperationsConfigSchema.parse({})),
});

export type Config = z.infer<typeof ConfigSchema>;
export type PacsConfig = z.infer<typeof PacsConfigSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type AnalysisConfig = z.infer<typeof AnalysisConfigSchema>;
export type ImageLimits = z.infer<typeof ImageLimitsSchema>;
export type OrdersConfig = z.infer<typeof OrdersConfigSchema>;
export type FhirConfig = z.infer<typeof FhirConfigSchema>;
/** The credentials this service presents to a PACS or a FHIR server. */
export type HttpAuth = z.infer<typeof PacsAuthSchema> | z.infer<typeof FhirAuthSchema>;
export type SmartBackendAuth = z.infer<typeof SmartBackendAuthSchema>;
export type ClientCredentialsAuth = z.infer<typeof ClientCredentialsAuthSchema>;
export type CdsClientConfig = z.infer<typeof CdsClientSchema>;
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;
export type SmartConfig = z.infer<typeof SmartConfigSchema>;
export type TokenValidation = SmartConfig['tokenValidation'];
export type JobsConfig = z.infer<typeof JobsConfigSchema>;
export type TriggersConfig = z.infer<typeof TriggersConfigSchema>;
export type ReconcileConfig = z.infer<typeof ReconcileConfigSchema>;
export type OperationsConfig = z.infer<typeof OperationsConfigSchema>;

/** Validates a configuration object; every problem is listed in one config-invalid error. */
export function parseConfig(input: unknown): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw new KneeTumorError('config-invalid', `invalid configuration: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Environment variables that override the configuration file, by their place in the config. */
function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const config: Record<string, Record<string, unknown>> = {};
  const pacs: Record<string, unknown> = {};
  if (env.KNEE_TUMOR_DICOMWEB_URL) pacs.dicomWebUrl = env.KNEE_TUMOR_DICOMWEB_URL;
  if (env.KNEE_TUMOR_DICOMWEB_USER) {
    pacs.auth = { type: 'basic', username: env.KNEE_TUMOR_DICOMWEB_USER, password: env.KNEE_TUMOR_DICOMWEB_PASSWORD ?? '' };
  } else if (env.KNEE_TUMOR_DICOMWEB_TOKEN) {
    pacs.auth = { type: 'bearer', token: env.KNEE_TUMOR_DICOMWEB_TOKEN };
  }
  if (Object.keys(pacs).length > 0) config.pacs = pacs;
  const model: Record<string, unknown> = {};
  if (env.KNEE_TUMOR_MODEL) model.manifestPath = env.KNEE_TUMOR_MODEL;
  if (env.KNEE_TUMOR_EXECUTION_PROVIDER) model.executionProvider = env.KNEE_TUMOR_EXECUTION_PROVIDER;
  const allowDemonstration = env.KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL;
  // Anything but "true" or "false" is passed on as it is, so that validation names it.
  if (allowDemonstration) model.allowDemonstrationModel = allowDemonstration === 'true' ? true : allowDemonstration === 'false' ? false : allowDemonstration;
  if (Object.keys(model).length > 0) config.model = model;
  if (env.KNEE_TUMOR_FHIR_URL) {
    config.fhir = { baseUrl: env.KNEE_TUMOR_FHIR_URL };
    if (env.KNEE_TUMOR_FHIR_TOKEN) config.fhir.auth = { type: 'bearer', token: env.KNEE_TUMOR_FHIR_TOKEN };
  }
  const service: Record<string, unknown> = {};
  if (env.KNEE_TUMOR_BASE_URL) service.baseUrl = env.KNEE_TUMOR_BASE_URL;
  if (env.KNEE_TUMOR_PORT) service.port = Number(env.KNEE_TUMOR_PORT);
  if (env.KNEE_TUMOR_HOST) service.host = env.KNEE_TUMOR_HOST;
  if (env.KNEE_TUMOR_APP_LAUNCH_URL) service.appLaunchUrl = env.KNEE_TUMOR_APP_LAUNCH_URL;
  if (env.KNEE_TUMOR_MODEL_CARD_URL) service.modelCardUrl = env.KNEE_TUMOR_MODEL_CARD_URL;
  if (Object.keys(service).length > 0) config.service = service;
  if (env.KNEE_TUMOR_JOBS_DB) config.jobs = { databasePath: env.KNEE_TUMOR_JOBS_DB };
  if (env.KNEE_TUMOR_AUDIT_LOG) config.operations = { auditLogPath: env.KNEE_TUMOR_AUDIT_LOG };
  const triggers: Record<string, unknown> = {};
  if (env.KNEE_TUMOR_TRIGGER_TOKEN) triggers.httpToken = env.KNEE_TUMOR_TRIGGER_TOKEN;
  if (env.KNEE_TUMOR_ORTHANC_TOKEN) triggers.orthancToken = env.KNEE_TUMOR_ORTHANC_TOKEN;
  if (env.KNEE_TUMOR_SUBSCRIPTION_TOKEN) triggers.subscriptionToken = env.KNEE_TUMOR_SUBSCRIPTION_TOKEN;
  if (Object.keys(triggers).length > 0) config.triggers = triggers;
  return config;
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (cause) {
    throw new KneeTumorError('config-invalid', `cannot read the configuration file ${file}: ${messageOf(cause)}`, { cause });
  }
}

function mergeSections(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] =
      typeof current === 'object' && current !== null && typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { ...(current as Record<string, unknown>), ...(value as Record<string, unknown>) }
        : value;
  }
  return merged;
}

/**
 * The configuration of a process: the file named by KNEE_TUMOR_CONFIG (if any), overridden by the
 * KNEE_TUMOR_* variables, then by explicit values (command-line flags).
 */
export function loadConfig(env: NodeJS.ProcessEnv, explicit: Record<string, unknown> = {}): Config {
  return parseConfig(configSections(env, explicit));
}

/**
 * The sections loadConfig validates, not yet validated: for a process (the demo) that lays them
 * over defaults of its own before parseConfig.
 */
export function configSections(env: NodeJS.ProcessEnv, explicit: Record<string, unknown> = {}): Record<string, unknown> {
  const file = env.KNEE_TUMOR_CONFIG ? readConfigFile(env.KNEE_TUMOR_CONFIG) : {};
  return mergeSections(mergeSections(file, fromEnvironment(env)), explicit);
}
