/**
 * The job store as a results reader: the analysis stored with each done job, mapped to the FHIR
 * resources the FHIR writer sends (results/fhir/to-fhir.ts), with ids as the FHIR server would give
 * them: the report's own where the FHIR writer wrote it (job.report), else ones derived from the
 * analysis key. Cards made from them read the same as cards made from the FHIR server.
 */
import type { DiagnosticReport, FhirResource, Observation } from 'fhir/r4';
import { toFhirTransaction } from '../results/fhir/to-fhir';
import type { ResultReports, ResultsReader, ResultStudy } from '../results/results-reader';
import type { Job, JobStore } from './store';

/** The transaction's urn:uuid references as "Type/id" references, each resource given its id. */
function asStored(result: Parameters<typeof toFhirTransaction>[0], study: ResultStudy, patient: string, job: Job): ResultReports {
  const bundle = toFhirTransaction(result, { patient, imagingStudy: study.imagingStudy ?? '', started: study.started });
  const ids = new Map<string, string>();
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as FhirResource;
    const own = resource.resourceType === 'DiagnosticReport' && job.report ? job.report.split('/')[1] : undefined;
    ids.set(entry.fullUrl ?? '', `${resource.resourceType}/${own ?? (entry.fullUrl ?? '').replace('urn:uuid:', '')}`);
  }
  const resolved = JSON.parse(JSON.stringify(bundle.entry ?? []), (key, value: unknown) =>
    key === 'reference' && typeof value === 'string' ? (ids.get(value) ?? value) : value,
  ) as { fullUrl: string; resource: FhirResource }[];
  const resources = resolved.map(({ fullUrl, resource }) => ({ ...resource, id: (ids.get(fullUrl) ?? '').split('/')[1] }) as FhirResource);
  return {
    reports: resources.filter((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport'),
    observations: resources.filter((r): r is Observation => r.resourceType === 'Observation'),
  };
}

export function createStoredResultsReader(jobs: JobStore): ResultsReader {
  return {
    async reportsFor(patient, studies) {
      const byStudy = await jobs.forStudies(studies.map((s) => s.studyInstanceUid));
      const found: ResultReports = { reports: [], observations: [] };
      for (const study of studies) {
        const job = byStudy.get(study.studyInstanceUid);
        if (job?.state !== 'done') continue;
        const { result } = await jobs.progress(job.id);
        if (!result) continue;
        const stored = asStored(result, study, patient, job);
        found.reports.push(...stored.reports);
        found.observations.push(...stored.observations);
      }
      return found;
    },
  };
}
