/**
 * Writes one analysis to the FHIR server at most once: finds the study's ImagingStudy (for the
 * patient), returns the existing DiagnosticReport when this analysis was already written (a job
 * retried after a crash), else validates and sends the transaction.
 */
import type { DiagnosticReport } from 'fhir/r4';
import type { AnalysisResult } from '../../domain/analysis';
import { KneeTumorError } from '../../errors';
import type { FhirClient } from '../../fhir/client';
import { findImagingStudy, identifierToken } from '../../fhir/imaging-study';
import { assertValidBundle } from '../../fhir/validate';
import { SYSTEMS, analysisKey } from '../../../../fhir-profiles/codes';
import type { ResultWriter } from '../result-writer';
import { toFhirTransaction } from './to-fhir';

/** The FHIR writer's name, under which the job store keeps its outcome. */
export const FHIR_WRITER = 'fhir';

export interface WrittenReport {
  /** e.g. "DiagnosticReport/123". */
  report: string;
  /** False when the report already existed and nothing was sent. */
  created: boolean;
}

export async function writeReport(fhir: FhirClient, result: AnalysisResult): Promise<WrittenReport> {
  const study = await findImagingStudy(fhir, result.studyInstanceUid);
  if (!study?.id || !study.subject?.reference) {
    throw new KneeTumorError('imaging-study-not-in-fhir', `the FHIR server has no ImagingStudy with a subject for study ${result.studyInstanceUid}`);
  }
  const key = analysisKey(result.studyInstanceUid, result.model);
  const [existing] = await fhir.search<DiagnosticReport>('DiagnosticReport', `identifier=${identifierToken(SYSTEMS.analysisId, key)}`);
  if (existing?.id) return { report: `DiagnosticReport/${existing.id}`, created: false };

  const bundle = toFhirTransaction(result, { patient: study.subject.reference, imagingStudy: `ImagingStudy/${study.id}`, started: study.started });
  assertValidBundle(bundle);
  const response = await fhir.transaction(bundle);
  const reportIndex = (bundle.entry ?? []).findIndex((e) => e.resource?.resourceType === 'DiagnosticReport');
  const location = response.entry?.[reportIndex]?.response?.location;
  if (!location) throw new KneeTumorError('fhir-error', 'the transaction response has no location for the DiagnosticReport');
  return { report: location.split('/_history')[0] ?? location, created: true };
}

/** The FHIR server as a result destination: the DiagnosticReport is where the result went. */
export function createFhirResultWriter(fhir: FhirClient): ResultWriter {
  return {
    name: FHIR_WRITER,
    async write(result) {
      const { report, created } = await writeReport(fhir, result);
      return { writer: FHIR_WRITER, location: report, created };
    },
  };
}
