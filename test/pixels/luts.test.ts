import { invertsOutput, toGray8, windowValue } from '../../server/src/dicom/luts';
import type { ImageHeader } from '../../server/src/dicom/image-header';

function header(overrides: Partial<ImageHeader>): ImageHeader {
  return {
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
    modality: 'DX',
    rows: 1,
    columns: 4,
    samplesPerPixel: 1,
    photometricInterpretation: 'MONOCHROME2',
    numberOfFrames: 1,
    bitsAllocated: 16,
    bitsStored: 12,
    highBit: 11,
    pixelRepresentation: 0,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: [],
    voiLutFunction: 'LINEAR',
    ...overrides,
  };
}

const gray = (h: ImageHeader, stored: number[]) => Array.from(toGray8(h, Uint16Array.from(stored)).data);

describe('the VOI window functions of PS3.3 C.11.2.1.2', () => {
  it('LINEAR: the worked edges of a window 2048 / 4096', () => {
    expect(windowValue(0, 2048, 4096, 'LINEAR')).toBe(0);
    expect(windowValue(4095.5, 2048, 4096, 'LINEAR')).toBe(255);
    expect(windowValue(2047.5, 2048, 4096, 'LINEAR')).toBeCloseTo(127.5, 6);
  });
  it('LINEAR_EXACT and SIGMOID', () => {
    expect(windowValue(100, 100, 50, 'LINEAR_EXACT')).toBeCloseTo(127.5, 6);
    expect(windowValue(75, 100, 50, 'LINEAR_EXACT')).toBe(0);
    expect(windowValue(100, 100, 50, 'SIGMOID')).toBeCloseTo(127.5, 6);
    // 255 / (1 + e^-4) at one width above the centre.
    expect(windowValue(150, 100, 50, 'SIGMOID')).toBeCloseTo(255 / (1 + Math.exp(-4)), 6);
  });
});

describe('the conversion of stored values to 8 bits', () => {
  it('applies rescale slope and intercept before the window', () => {
    // Modality values -1000, 0, 1000, 3000 through a window 0 / 2000 (LINEAR).
    const h = header({ rescaleSlope: 2, rescaleIntercept: -1000, windows: [{ center: 0, width: 2001 }] });
    expect(gray(h, [0, 500, 1000, 2000])).toEqual([0, 128, 255, 255]);
  });

  it('uses the Modality LUT Sequence instead of the rescale when present', () => {
    const lut = { firstMapped: 10, bitsPerEntry: 16, data: Uint16Array.from([0, 100, 200, 300]) };
    const h = header({ rescaleSlope: 99, modalityLut: lut, windows: [{ center: 150, width: 301 }] });
    // Below the first mapped value takes the first entry, above the last the last.
    expect(gray(h, [0, 11, 12, 40])).toEqual([0, 85, 170, 255]);
  });

  it('uses the VOI LUT Sequence when the image has no window', () => {
    const lut = { firstMapped: 0, bitsPerEntry: 8, data: Uint16Array.from([255, 128, 0, 64]) };
    expect(gray(header({ voiLut: lut }), [0, 1, 2, 3])).toEqual([255, 128, 0, 64]);
  });

  it('prefers the window over the VOI LUT, and the first window of several', () => {
    const lut = { firstMapped: 0, bitsPerEntry: 8, data: Uint16Array.from([7, 7, 7, 7]) };
    const h = header({ voiLut: lut, windows: [{ center: 2, width: 3 }, { center: 100, width: 10 }] });
    // LINEAR, centre 2, width 3: ((x - 1.5) / 2 + 0.5) * 255 between 0.5 and 2.5.
    expect(gray(h, [0, 1, 2, 3])).toEqual([0, 64, 191, 255]);
  });

  it('inverts MONOCHROME1 so that the highest attenuation is bright', () => {
    const h = header({ photometricInterpretation: 'MONOCHROME1', windows: [{ center: 2048, width: 4096 }] });
    expect(gray(h, [0, 4095, 0, 4095])).toEqual([255, 0, 255, 0]);
  });

  it('inverts by the Presentation LUT Shape when the image states one, else by MONOCHROME1 (PS3.3 C.11.6.1.2)', () => {
    const window = { windows: [{ center: 2048, width: 4096 }] };
    expect(gray(header({ ...window, presentationLutShape: 'INVERSE' }), [0, 4095, 0, 4095])).toEqual([255, 0, 255, 0]);
    expect(gray(header({ ...window, presentationLutShape: 'IDENTITY' }), [0, 4095, 0, 4095])).toEqual([0, 255, 0, 255]);
    // The shape and MONOCHROME1 are one inversion step, never two.
    expect(invertsOutput({ photometricInterpretation: 'MONOCHROME1', presentationLutShape: 'INVERSE' })).toBe(true);
    expect(invertsOutput({ photometricInterpretation: 'MONOCHROME1' })).toBe(true);
    expect(invertsOutput({ photometricInterpretation: 'MONOCHROME2' })).toBe(false);
    // Against the standard (IDENTITY belongs to MONOCHROME2), but the last step the image states wins.
    expect(invertsOutput({ photometricInterpretation: 'MONOCHROME1', presentationLutShape: 'IDENTITY' })).toBe(false);
  });

  it('masks bits above BitsStored and sign-extends signed pixels', () => {
    // 0xF005 with 12 bits stored is 5; the overlay bits above must not count.
    expect(gray(header({ windows: [{ center: 5, width: 1 }] }), [0xf005, 4, 6, 5])).toEqual([255, 0, 255, 255]);
    const signed = header({ pixelRepresentation: 1, bitsStored: 12, windows: [{ center: 0, width: 2 }] });
    // 0x0FFF is -1 in 12-bit two's complement.
    expect(gray(signed, [0x0fff, 0, 1, 0x0800])).toEqual([0, 255, 255, 0]);
  });

  it('stretches the full range of modality values when the image defines no VOI', () => {
    expect(gray(header({}), [100, 200, 300, 100])).toEqual([0, 128, 255, 0]);
  });
});
