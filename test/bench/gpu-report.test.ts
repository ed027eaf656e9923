import type { LesionBox } from '../../server/src/domain/analysis';
import { compareDetections, fastestGroupings, renderTable, type BenchRow } from '../../server/src/bench/gpu-report';

const box = (x: number, confidence: number): LesionBox => ({ x, y: 50, width: 100, height: 80, confidence, foldsAgreeing: 5, foldCount: 5 });

describe('compareDetections (fp16 against fp32)', () => {
  it('accepts the same boxes in another order with confidences within 1e-2', () => {
    const result = compareDetections([[box(0, 0.9), box(300, 0.5)], []], [[box(301, 0.505), box(0.5, 0.895)], []]);
    expect(result).toMatchObject({ counts: [[2, 2], [0, 0]], agree: true });
    expect(result.maxScoreDiff).toBeCloseTo(0.005, 6);
  });

  it('rejects a missing box, a moved box and a score off by more than 1e-2', () => {
    expect(compareDetections([[box(0, 0.9)]], [[]]).agree).toBe(false);
    expect(compareDetections([[box(0, 0.9)]], [[box(40, 0.9)]]).agree).toBe(false);
    expect(compareDetections([[box(0, 0.9)]], [[box(0, 0.88)]]).agree).toBe(false);
  });
});

describe('the table', () => {
  const row = (grouping: string, patientMs: number, endToEnd = false): BenchRow => ({
    provider: 'webgpu',
    precision: 'fp16',
    grouping,
    runsPerPatient: 3,
    passMs: patientMs / 30,
    patientMs,
    endToEnd,
    ...(endToEnd ? { viewMs: patientMs / 2 } : {}),
  });
  const rows = [row('views x fold', 120, true), row('views x fold', 90), row('views x merged folds', 45)];

  it('gives each row its ratio to the whole-patient PyTorch batch', () => {
    const table = renderTable(rows, {
      device: 'H100',
      torch: '2.11',
      dtype: 'float16',
      passes: 30,
      rows: [{ label: 'batch 30', runs: 1, batch: 30, patientMs: 15 }],
    });
    expect(table.split('\n')).toHaveLength(2 + rows.length + 1);
    expect(table).toContain('| onnxruntime-node webgpu | fp16 | views x merged folds (3) | network only | 1.5 |  | 45.0 | 3.00 |');
    expect(table).toContain('| 0.5 |  | 15.0 | 1.00 |');
  });

  it('picks the fastest network-only grouping', () => {
    expect(fastestGroupings(rows).map((r) => r.grouping)).toEqual(['views x merged folds']);
  });
});
