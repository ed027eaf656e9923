/**
 * The app's SMART settings, served by the service at run time (GET config.json beside the app,
 * from the `smart.app` configuration): the client_id the EHR registered, the scopes to ask for,
 * the EHRs (their FHIR base URLs, the launch's `iss`) the app may be launched from, and, when the
 * service must see the token response to know the launch patient, its token broker.
 */
export interface AppConfig {
  clientId: string;
  scope: string;
  allowedIssuers: string[];
  /** Where the token requests go instead of the EHR's token endpoint (the service's `fhir` mode). */
  tokenBroker?: string;
}

function isAppConfig(value: unknown): value is AppConfig {
  const v = value as Partial<AppConfig> | null;
  return (
    typeof v?.clientId === 'string' &&
    typeof v.scope === 'string' &&
    Array.isArray(v.allowedIssuers) &&
    v.allowedIssuers.every((i) => typeof i === 'string') &&
    (v.tokenBroker === undefined || typeof v.tokenBroker === 'string')
  );
}

export async function loadAppConfig(): Promise<AppConfig> {
  const response = await fetch('./config.json', { cache: 'no-cache' });
  const body: unknown = response.ok ? await response.json() : undefined;
  if (!isAppConfig(body)) throw new Error(`The viewer's settings (config.json) could not be read (HTTP ${response.status}): the service's smart section is missing or invalid.`);
  return body;
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** True when the launch's `iss` is one of the allowed EHRs (pure). */
export function issuerAllowed(iss: string, config: AppConfig): boolean {
  return config.allowedIssuers.some((allowed) => withoutTrailingSlash(allowed) === withoutTrailingSlash(iss));
}
