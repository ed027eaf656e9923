/**
 * What the EHR told the viewer at launch: the patient, and the study (and report) the clinician
 * opened, from `fhirContext` (SMART 2) or the CDS card's `appContext`, both in the token response
 * (fhirclient has no helper for either). The launch settings come from config.json (app-config.ts).
 */
import type Client from 'fhirclient/lib/Client';

export interface LaunchContext {
  studyInstanceUid?: string;
  /** "ImagingStudy/<id>" */
  imagingStudy?: string;
  /** "DiagnosticReport/<id>" */
  diagnosticReport?: string;
}

function parseAppContext(value: unknown): LaunchContext {
  if (typeof value !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { studyInstanceUid, imagingStudy, diagnosticReport } = parsed as Record<string, unknown>;
    return {
      studyInstanceUid: typeof studyInstanceUid === 'string' ? studyInstanceUid : undefined,
      imagingStudy: typeof imagingStudy === 'string' ? imagingStudy : undefined,
      diagnosticReport: typeof diagnosticReport === 'string' ? diagnosticReport : undefined,
    };
  } catch {
    // An appContext that is not our JSON names nothing we can use; the newest study is shown.
    return {};
  }
}

function fhirContextReference(value: unknown, type: string): string | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const item of value as unknown[]) {
    const reference = (item as { reference?: unknown } | null)?.reference;
    if (typeof reference === 'string' && reference.startsWith(`${type}/`)) return reference;
  }
  return undefined;
}

export function launchContext(client: Client): LaunchContext {
  const token = client.state.tokenResponse ?? {};
  const app = parseAppContext(token.appContext);
  return {
    ...app,
    imagingStudy: fhirContextReference(token.fhirContext, 'ImagingStudy') ?? app.imagingStudy,
    diagnosticReport: fhirContextReference(token.fhirContext, 'DiagnosticReport') ?? app.diagnosticReport,
  };
}
