/**
 * Benchmark (not a test): the demo EHR's in-process FHIR engine (server/src/fhir/memory-engine.ts)
 * once it holds many analysis reports. It writes the service's own transactions (conditional
 * creates on identifier) for BENCH_REPORTS studies, then prints the median time of an
 * `Observation?identifier=system|value` search, the hook's report prefetch (identifier `system|`,
 * patient, _include), and one more report's transaction. Every one of these runs on the event loop
 * that answers the demo's hooks.
 * Run: node -r ./test/support/ts-register.js server/src/bench/fhir-engine-bench.ts
 */
import type { Bundle, FhirResource, Observation } from 'fhir/r4';
import { SYSTEMS } from '../../../fhir-profiles/codes';
import { PREFETCH, resolveTemplate } from '../../../cds-hooks/patient-data';
import { AI_NOTICE, type AnalysisResult, type ModelIdentity } from '../domain/analysis';
import { createFhirEngine, type FhirEngine } from '../fhir/memory-engine';
import { toFhirTransaction } from '../results/fhir/to-fhir';
import { timeRuns } from './timing';

const REPORTS = Number(process.env.BENCH_REPORTS ?? 104);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const model: ModelIdentity = { name: 'knee-tumor', version: 'bench', manifestSha256: '0'.repeat(64), trainingData: 'clinical', intendedUse: 'clinical-evaluation' };

/** A computed result for study `n`: both views, a box on each, so that each report has several Observations. */
function result(n: number): AnalysisResult {
  const uid = `1.2.826.0.1.3680043.8.498.${n + 1}`;
  const instance = (view: number) => ({ studyInstanceUid: uid, seriesInstanceUid: `${uid}.${view}`, sopInstanceUid: `${uid}.${view}.1` });
  const box = { x: 200, y: 180, width: 60, height: 48, confidence: 0.93, foldsAgreeing: 4, foldCount: 5 };
  return {
    kind: 'knee-tumor-analysis', schemaVersion: 1, studyInstanceUid: uid, model, operatingThreshold: 0.5,
    views: [
      { view: 'AP', instance: instance(1), imageSize: { width: 512, height: 512 }, boxes: [box, { ...box, x: 300 }], score: 0.93, positive: true },
      { view: 'LATERAL', instance: instance(2), imageSize: { width: 512, height: 512 }, boxes: [box, { ...box, y: 300 }], score: 0.93, positive: true },
    ],
    patient: { score: 0.93, positive: true }, flags: [], aiGenerated: true, notice: AI_NOTICE, analysedAt: new Date().toISOString(),
  };
}

async function write(fhir: FhirEngine, n: number): Promise<void> {
  const bundle = toFhirTransaction(result(n), { patient: `Patient/p${n % 20}`, imagingStudy: `ImagingStudy/s${n}` });
  const { status, body } = await fhir.handle('POST', '', bundle);
  if (status !== 200) throw new Error(`transaction ${n} answered ${status}: ${JSON.stringify(body).slice(0, 300)}`);
}

async function main(): Promise<void> {
  const fhir = createFhirEngine();
  for (let n = 0; n < REPORTS; n++) await write(fhir, n);
  const observations = await fhir.search<Observation>('Observation?_count=100000');
  const wanted = observations[Math.floor(observations.length / 2)]?.identifier?.[0];
  if (!wanted?.system || !wanted.value) throw new Error('no Observation with an identifier');
  const identifierSearch = `Observation?identifier=${encodeURIComponent(wanted.system)}|${encodeURIComponent(wanted.value)}`;
  const prefetch = resolveTemplate(PREFETCH.analysisReports, { patientId: 'p3' });
  let next = REPORTS;
  const rows: [string, number][] = [
    [`Observation?identifier=system|value`, await timeRuns(RUNS, () => fhir.search(identifierSearch))],
    [`report prefetch (${SYSTEMS.analysisId}|, _include)`, await timeRuns(RUNS, () => fhir.handle('GET', prefetch, undefined) as Promise<{ body: Bundle<FhirResource> }>)],
    ['one report transaction (conditional creates)', await timeRuns(RUNS, () => write(fhir, next++))],
  ];
  console.log(`FHIR engine holding ${REPORTS} reports and ${observations.length} Observations, median of ${RUNS} runs:`);
  for (const [label, ms] of rows) console.log(`  ${label.padEnd(60)} ${ms.toFixed(1).padStart(9)} ms`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
