/**
 * Which FHIR servers a CDS client may send us to (pure). A hook names its `fhirServer`, and we
 * would call it with the hook's token: only a server configured for that client is called, so a
 * hook cannot make this service request an arbitrary URL (SSRF).
 */

interface ServerBase {
  origin: string;
  /** Without a trailing slash; "" for the root. */
  path: string;
}

/** Scheme, host, port and path of a base URL; undefined when it is not one we would ever call. */
function serverBase(url: string): ServerBase | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  // Credentials, a query or a fragment in a base URL are never part of a FHIR base.
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password || parsed.search || parsed.hash) return undefined;
  return { origin: parsed.origin, path: parsed.pathname.replace(/\/+$/, '') };
}

/** True when `fhirServer` is one of `listed`, or lies under one of them (a path below it, segment by segment). */
export function isListedFhirServer(fhirServer: string, listed: readonly string[]): boolean {
  const asked = serverBase(fhirServer);
  if (!asked) return false;
  return listed.some((entry) => {
    const allowed = serverBase(entry);
    return allowed !== undefined && allowed.origin === asked.origin && (asked.path === allowed.path || asked.path.startsWith(`${allowed.path}/`));
  });
}
