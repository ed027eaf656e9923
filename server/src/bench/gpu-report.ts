/**
 * The GPU benchmark's judgements and its one table (scripts/gpu/device-bench.sh): whether two
 * runs of the ensemble found the same boxes, and each measured grouping against the PyTorch
 * reference of the same fold weights.
 */
import type { LesionBox } from '../domain/analysis';
import { iou } from '../pipeline/merge-boxes';

/** fp16 against fp32 (issue 7): the same boxes after NMS, confidences within this. */
export const SCORE_TOLERANCE = 1e-2;
/** Boxes this close count as the same box: fp16 moves a corner by a fraction of a pixel. */
export const SAME_BOX_IOU = 0.9;

export interface BoxAgreement {
  /** Box counts per view, reference then candidate. */
  counts: [number, number][];
  /** Lowest IoU of a reference box with its match (1 when there are no boxes). */
  minIou: number;
  maxScoreDiff: number;
  agree: boolean;
}

/** Matches each reference box to the unmatched candidate box it overlaps most, view by view. */
export function compareDetections(reference: LesionBox[][], candidate: LesionBox[][]): BoxAgreement {
  const counts: [number, number][] = reference.map((view, i) => [view.length, candidate[i]?.length ?? 0]);
  let minIou = 1;
  let maxScoreDiff = 0;
  reference.forEach((view, i) => {
    const unmatched = [...(candidate[i] ?? [])];
    for (const box of view) {
      let best = -1;
      let bestIou = 0;
      unmatched.forEach((other, j) => {
        const overlap = iou(box, other);
        if (overlap > bestIou) [best, bestIou] = [j, overlap];
      });
      minIou = Math.min(minIou, bestIou);
      const [match] = best >= 0 ? unmatched.splice(best, 1) : [];
      maxScoreDiff = Math.max(maxScoreDiff, match ? Math.abs(match.confidence - box.confidence) : box.confidence);
    }
  });
  const sameCounts = reference.length === candidate.length && counts.every(([a, b]) => a === b);
  return { counts, minIou, maxScoreDiff, agree: sameCounts && minIou >= SAME_BOX_IOU && maxScoreDiff <= SCORE_TOLERANCE };
}

/** One measured way of running a patient's network passes. */
export interface BenchRow {
  provider: string;
  precision: string;
  /** How the 30 passes are grouped into runs, e.g. "views x fold". */
  grouping: string;
  runsPerPatient: number;
  /** Patient time over the number of network passes (views x folds x TTA passes). */
  passMs: number;
  /** One view through the whole detector; absent for network-only rows. */
  viewMs?: number;
  patientMs: number;
  /** Whether pre- and post-processing are included (the runtime's detect()), or the network alone. */
  endToEnd: boolean;
}

export interface TorchReference {
  device: string;
  torch: string;
  dtype: string;
  passes: number;
  rows: { label: string; runs: number; batch: number; patientMs: number }[];
}

function cell(ms: number | undefined): string {
  return ms === undefined ? '' : ms.toFixed(1);
}

/** A Markdown table; the ratio is against the first reference row (a whole patient in one batch). */
export function renderTable(rows: BenchRow[], reference: TorchReference | undefined): string {
  const baseline = reference?.rows[0]?.patientMs;
  const ratio = (ms: number) => (baseline ? `${(ms / baseline).toFixed(2)}` : '');
  const lines = [
    '| runtime | precision | grouping (runs a patient) | what | ms a pass | ms a view | ms a patient | ours / PyTorch |',
    '|---|---|---|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| onnxruntime-node ${r.provider} | ${r.precision} | ${r.grouping} (${r.runsPerPatient}) | ${r.endToEnd ? 'detect(), pre + post included' : 'network only'} | ${cell(r.passMs)} | ${cell(r.viewMs)} | ${cell(r.patientMs)} | ${ratio(r.patientMs)} |`,
    ),
    ...(reference?.rows ?? []).map(
      (r) =>
        `| PyTorch ${reference?.torch} ${reference?.device} | ${reference?.dtype} | ${r.label} (${r.runs}) | network only | ${cell(r.patientMs / (reference?.passes ?? 1))} |  | ${cell(r.patientMs)} | ${ratio(r.patientMs)} |`,
    ),
  ];
  return lines.join('\n');
}

/** Per provider and precision, the network-only grouping with the shortest patient time. */
export function fastestGroupings(rows: BenchRow[]): BenchRow[] {
  const best = new Map<string, BenchRow>();
  for (const row of rows.filter((r) => !r.endToEnd)) {
    const key = `${row.provider} ${row.precision}`;
    const current = best.get(key);
    if (!current || row.patientMs < current.patientMs) best.set(key, row);
  }
  return [...best.values()];
}
