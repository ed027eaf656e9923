/** The FHIR server as a results reader: our DiagnosticReports of the patient with their Observations (_include). */
import type { DiagnosticReport, Observation } from 'fhir/r4';
import { SYSTEMS } from '../../../../fhir-profiles/codes';
import type { FhirClient } from '../../fhir/client';
import type { ResultsReader } from '../results-reader';

function analysedStudy(report: DiagnosticReport): string | undefined {
  return report.identifier?.find((i) => i.system === SYSTEMS.analysisId)?.value?.split('/')[0];
}

export function createFhirResultsReader(fhir: FhirClient): ResultsReader {
  return {
    async reportsFor(patient, studies) {
      const bundle = await fhir.searchUrl(
        `DiagnosticReport?patient=${encodeURIComponent(patient)}&identifier=${encodeURIComponent(SYSTEMS.analysisId)}|&_include=DiagnosticReport:result`,
      );
      const resources = (bundle.entry ?? []).map((e) => e.resource);
      const wanted = new Set(studies.map((s) => s.studyInstanceUid));
      return {
        reports: resources.filter((r): r is DiagnosticReport => r?.resourceType === 'DiagnosticReport' && wanted.has(analysedStudy(r) ?? '')),
        observations: resources.filter((r): r is Observation => r?.resourceType === 'Observation'),
      };
    },
  };
}
