/**
 * Configuration, read once at start-up (from a JSON file and/or environment variables), validated,
 * and passed into every module that needs it. No other module reads process.env.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { KneeTumorError } from './errors';

/** The shipped ensemble, relative to the repository root. */
export const DEFAULT_MANIFEST = path.resolve(__dirname, '../../..', 'models/knee-tumor-v1/manifest.json');

export const PacsConfigSchema = z.object({
  /** DICOMweb base URL (QIDO-RS, WADO-RS, STOW-RS), e.g. http://pacs/dicom-web */
  dicomWebUrl: z.url(),
  /** HTTP basic credentials or a bearer token for the PACS; never sent to browsers. */
  auth: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
      z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
    ])
    .optional(),
  /** Per-request timeout in milliseconds. */
  timeoutMs: z.number().int().positive().default(30000),
});

export const ModelConfigSchema = z.object({
  manifestPath: z.string().min(1).default(DEFAULT_MANIFEST),
  executionProvider: z.enum(['cpu', 'webgpu']).default('cpu'),
  /** Overrides of the manifest's thresholds, for a site that validated its own operating point. */
  operatingThreshold: z.number().min(0).max(1).optional(),
  merge: z.enum(['nms', 'wbf']).optional(),
  /** Threads onnxruntime may use per session on the CPU provider (0 = its default). */
  cpuThreads: z.number().int().nonnegative().default(0),
});

export const ConfigSchema = z.object({
  pacs: PacsConfigSchema.optional(),
  model: ModelConfigSchema.default(ModelConfigSchema.parse({})),
});

export type Config = z.infer<typeof ConfigSchema>;
export type PacsConfig = z.infer<typeof PacsConfigSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates a configuration object; every problem is listed in one config-invalid error. */
export function parseConfig(input: unknown): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw new KneeTumorError('config-invalid', `invalid configuration: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Environment variables that override the configuration file, by their place in the config. */
function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const config: { pacs?: Record<string, unknown>; model?: Record<string, unknown> } = {};
  if (env.KNEE_TUMOR_DICOMWEB_URL) {
    config.pacs = { dicomWebUrl: env.KNEE_TUMOR_DICOMWEB_URL };
    if (env.KNEE_TUMOR_DICOMWEB_USER) {
      config.pacs.auth = { type: 'basic', username: env.KNEE_TUMOR_DICOMWEB_USER, password: env.KNEE_TUMOR_DICOMWEB_PASSWORD ?? '' };
    } else if (env.KNEE_TUMOR_DICOMWEB_TOKEN) {
      config.pacs.auth = { type: 'bearer', token: env.KNEE_TUMOR_DICOMWEB_TOKEN };
    }
  }
  const model: Record<string, unknown> = {};
  if (env.KNEE_TUMOR_MODEL) model.manifestPath = env.KNEE_TUMOR_MODEL;
  if (env.KNEE_TUMOR_EXECUTION_PROVIDER) model.executionProvider = env.KNEE_TUMOR_EXECUTION_PROVIDER;
  if (Object.keys(model).length > 0) config.model = model;
  return config;
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (cause) {
    throw new KneeTumorError('config-invalid', `cannot read the configuration file ${file}: ${(cause as Error).message}`, { cause });
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
  const file = env.KNEE_TUMOR_CONFIG ? readConfigFile(env.KNEE_TUMOR_CONFIG) : {};
  return parseConfig(mergeSections(mergeSections(file, fromEnvironment(env)), explicit));
}
