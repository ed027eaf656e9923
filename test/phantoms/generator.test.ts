/**
 * The phantom generator: deterministic bytes, valid DICOM with the tags the pipeline reads, a
 * reference that matches the images, and lesions that are actually visible in the presented image.
 */
import { generatePatient, renderPatientView, type GeneratedPatient } from '../../models/phantoms/generate';
import { planPatient } from '../../models/phantoms/plan';
import type { PixelBox } from '../../server/src/domain/analysis';
import { present, parse, storedPixels } from './present';

const SMALL = { width: 320, height: 400, tumorFraction: 0.25 };
const MEDIUM = { width: 440, height: 560, tumorFraction: 1 };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe('determinism', () => {
  it('gives byte-identical files for the same seed and index', () => {
    const a = generatePatient(7, 3, SMALL);
    const b = generatePatient(7, 3, SMALL);
    expect(sameBytes(a.ap, b.ap)).toBe(true);
    expect(sameBytes(a.lateral, b.lateral)).toBe(true);
    expect(a.reference).toEqual(b.reference);
  });

  it('gives different studies for another seed or another index', () => {
    const a = generatePatient(7, 3, SMALL);
    const otherSeed = generatePatient(8, 3, SMALL);
    const otherIndex = generatePatient(7, 4, SMALL);
    expect(sameBytes(a.ap, otherSeed.ap)).toBe(false);
    expect(sameBytes(a.ap, otherIndex.ap)).toBe(false);
    expect(otherSeed.reference.studyInstanceUid).not.toBe(a.reference.studyInstanceUid);
  });
});

describe('DICOM', () => {
  const patients: GeneratedPatient[] = [0, 1, 2, 3, 4, 5].map((i) => generatePatient(11, i, SMALL));

  it('writes Part 10 files with the tags the pipeline reads', () => {
    for (const p of patients) {
      for (const [bytes, view] of [
        [p.ap, 'AP'],
        [p.lateral, 'LATERAL'],
      ] as const) {
        const ds = parse(bytes);
        expect(ds.string('x00020010')).toBe('1.2.840.10008.1.2.1');
        const modality = ds.string('x00080060');
        expect(['CR', 'DX']).toContain(modality);
        expect(ds.string('x00080016')).toBe(modality === 'CR' ? '1.2.840.10008.5.1.4.1.1.1' : '1.2.840.10008.5.1.4.1.1.1.1');
        expect(ds.string('x00020002')).toBe(ds.string('x00080016'));
        expect(ds.string('x00020003')).toBe(ds.string('x00080018'));
        expect(ds.string('x00180015')).toBe('KNEE');
        expect(ds.string('x00081030')).toBe('XR KNEE 2 VIEWS');
        expect(ds.string('x0008103e')).toBe(view === 'AP' ? 'KNEE AP' : 'KNEE LAT');
        const position = ds.string('x00185101');
        if (view === 'AP') expect(position).toBe('AP');
        else expect(['LL', 'RL', 'LAT']).toContain(position);
        expect(ds.string('x00200062')).toBe(p.reference.laterality);
        expect(ds.string('x00200060')).toBe(p.reference.laterality);
        expect(['MONOCHROME1', 'MONOCHROME2']).toContain(ds.string('x00280004'));
        expect(ds.uint16('x00280100')).toBe(16);
        const bits = ds.uint16('x00280101') ?? 0;
        expect(bits).toBeGreaterThanOrEqual(10);
        expect(bits).toBeLessThanOrEqual(16);
        expect(ds.uint16('x00280102')).toBe(bits - 1);
        expect(ds.uint16('x00280103')).toBe(0);
        expect(ds.uint16('x00280010')).toBe(SMALL.height);
        expect(ds.uint16('x00280011')).toBe(SMALL.width);
        expect(ds.elements.x7fe00010?.length).toBe(SMALL.width * SMALL.height * 2);
        expect(storedPixels(ds).reduce((m, v) => Math.max(m, v), 0)).toBeLessThan(2 ** bits);
        expect(ds.floatString('x00281051')).toBeGreaterThan(0);
        expect(ds.floatString('x00280030')).toBeGreaterThan(0);
        expect(ds.floatString('x00181164')).toBeGreaterThan(0);
        expect(ds.string('x00100020')).toBe(p.reference.patientId);
        expect(ds.string('x00100010')).toMatch(/^PHANTOM\^/);
        expect(['M', 'F']).toContain(ds.string('x00100040'));
        expect(ds.string('x00101010')).toMatch(/^\d{3}Y$/);
        expect(ds.string('x00080020')).toMatch(/^\d{8}$/);
        expect(ds.string('x00080050')).toBeTruthy();
        expect(ds.string('x00080070')).toBeTruthy();
        expect(ds.string('x00081090')).toBeTruthy();
        expect(ds.string('x00080080')).toBeTruthy();
      }
    }
  });

  it('puts both views in one study, each in its own series, with unique UIDs', () => {
    const uids = new Set<string>();
    for (const p of patients) {
      const ap = parse(p.ap);
      const lat = parse(p.lateral);
      expect(ap.string('x0020000d')).toBe(p.reference.studyInstanceUid);
      expect(lat.string('x0020000d')).toBe(p.reference.studyInstanceUid);
      expect(ap.string('x0020000e')).not.toBe(lat.string('x0020000e'));
      for (const uid of [ap.string('x0020000d'), ap.string('x0020000e'), ap.string('x00080018'), lat.string('x0020000e'), lat.string('x00080018')]) {
        expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
        expect((uid ?? '').length).toBeLessThanOrEqual(64);
      }
      for (const uid of [ap.string('x0020000d'), ap.string('x0020000e'), ap.string('x00080018'), lat.string('x0020000e'), lat.string('x00080018')]) {
        expect(uids.has(uid ?? '')).toBe(false);
        uids.add(uid ?? '');
      }
      expect(p.reference.images.map((im) => im.imageId)).toEqual([ap.string('x00080018'), lat.string('x00080018')]);
    }
  });
});

describe('reference', () => {
  it('has about a quarter tumors, with a box on both views at a consistent level', () => {
    const n = 200;
    let tumors = 0;
    const kinds = new Set<string>();
    const modalities = new Set<string>();
    for (let i = 0; i < n; i++) {
      const plan = planPatient(5, i, SMALL);
      if (plan.lesion) tumors++;
      modalities.add(plan.device.modality);
      if (plan.lesion) kinds.add(plan.lesion.kind);
    }
    expect(tumors / n).toBeGreaterThan(0.17);
    expect(tumors / n).toBeLessThan(0.33);
    expect(kinds.size).toBe(5);
    expect(modalities).toEqual(new Set(['CR', 'DX']));

    for (let i = 0; i < 40; i++) {
      const { reference } = generatePatient(5, i, SMALL);
      const [ap, lat] = reference.images;
      expect(ap?.view).toBe('AP');
      expect(lat?.view).toBe('LATERAL');
      for (const image of reference.images) {
        expect(image.file).toBe(`${reference.patientId}/${image.view === 'AP' ? 'AP' : 'LAT'}.dcm`);
        expect(image.boxes).toHaveLength(reference.tumor ? 1 : 0);
        for (const box of image.boxes) {
          expect(box.x).toBeGreaterThanOrEqual(0);
          expect(box.y).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width).toBeLessThanOrEqual(image.width);
          expect(box.y + box.height).toBeLessThanOrEqual(image.height);
          expect(box.width).toBeGreaterThan(2);
          expect(box.height).toBeGreaterThan(2);
        }
      }
      if (reference.tumor) {
        const a = ap?.boxes[0] as PixelBox;
        const b = lat?.boxes[0] as PixelBox;
        const centerA = a.y + a.height / 2;
        const centerB = b.y + b.height / 2;
        // same craniocaudal level on both views: within a fifth of the lesion's own height
        expect(Math.abs(centerA - centerB)).toBeLessThan(Math.max(a.height, b.height) * 0.35 + SMALL.height * 0.03);
        expect(reference.attributes?.lesionSizeMm).toBeGreaterThanOrEqual(8);
        expect(reference.attributes?.lesionSizeMm).toBeLessThanOrEqual(130);
        expect(['<50mm', '>=50mm']).toContain(reference.attributes?.sizeGroup);
      }
      expect(reference.attributes?.ageGroup).toBe(Number(reference.attributes?.ageYears) < 18 ? '<18' : '>=18');
    }
  });
});

/** Mean absolute difference of two presented images inside a box, and in a ring around it. */
function changeInsideAndAround(a: Uint8Array, b: Uint8Array, width: number, height: number, box: PixelBox): { inside: number; ring: number } {
  const grow = Math.round(Math.max(box.width, box.height) * 0.35);
  const sums = { inside: [0, 0], ring: [0, 0] };
  for (let y = Math.max(0, box.y - grow); y < Math.min(height, box.y + box.height + grow); y++) {
    for (let x = Math.max(0, box.x - grow); x < Math.min(width, box.x + box.width + grow); x++) {
      const inBox = x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
      const s = inBox ? sums.inside : sums.ring;
      s[0]! += 1;
      s[1]! += Math.abs(a[y * width + x]! - b[y * width + x]!);
    }
  }
  return { inside: sums.inside[1]! / sums.inside[0]!, ring: sums.ring[1]! / Math.max(1, sums.ring[0]!) };
}

describe('lesion visibility', () => {
  const kinds = ['bone-cyst', 'non-ossifying-fibroma', 'giant-cell-tumor', 'enchondroma', 'osteosarcoma'];

  it.each(kinds)('shows a %s on both presented views', (kind) => {
    let index = 0;
    while (planPatient(21, index, MEDIUM).lesion?.kind !== kind) index++;
    const plan = planPatient(21, index, MEDIUM);
    const normal = { ...plan, lesion: undefined };
    for (const viewIndex of [0, 1] as const) {
      const withLesion = renderPatientView(plan, viewIndex, MEDIUM);
      const without = renderPatientView(normal, viewIndex, MEDIUM);
      const box = withLesion.box;
      expect(box).toBeDefined();
      if (!box) continue;
      const a = present(withLesion.bytes);
      const b = present(without.bytes);
      // the same patient, noise and window: what differs is the lesion, and it lies in its box
      const change = changeInsideAndAround(a.gray, b.gray, a.width, a.height, box);
      expect(change.inside).toBeGreaterThan(4);
      expect(change.ring).toBeLessThan(change.inside / 4);
    }
  });
});
