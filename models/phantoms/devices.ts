/**
 * The fictitious centers and imaging devices of the phantom population. Each device has its own
 * habits (modality, photometric interpretation, bit depth, rescale, noise, shutter), so that
 * per-device and per-center subgroups differ the way real sites do.
 */
import type { Rng } from './random';

export interface Device {
  manufacturer: string;
  model: string;
  modality: 'CR' | 'DX';
  /** Share of its images stored MONOCHROME1. */
  monochrome1: number;
  bitsStored: readonly number[];
  /** Rescale slope/intercept pairs it writes, the first being the usual one. */
  rescale: readonly (readonly [number, number])[];
  noise: readonly [number, number];
  outside: 'unexposed' | 'masked';
}

export const DEVICES: readonly Device[] = [
  { manufacturer: 'Phantasia Medical', model: 'PM-CR 400', modality: 'CR', monochrome1: 0.9, bitsStored: [10, 12], rescale: [[1, 0]], noise: [0.012, 0.02], outside: 'unexposed' },
  { manufacturer: 'Northwind Imaging (synthetic)', model: 'NW-DR 2', modality: 'DX', monochrome1: 0.1, bitsStored: [12, 14], rescale: [[1, 0], [1, -1024]], noise: [0.006, 0.011], outside: 'masked' },
  { manufacturer: 'Lumen Synthetics', model: 'LS FlatPanel 3', modality: 'DX', monochrome1: 0.5, bitsStored: [14, 15, 16], rescale: [[1, 0], [0.5, 0], [2, -100]], noise: [0.005, 0.009], outside: 'masked' },
  { manufacturer: 'Kestrel Fictional Systems', model: 'KCR-10', modality: 'CR', monochrome1: 0.6, bitsStored: [10, 12], rescale: [[1, 0]], noise: [0.014, 0.024], outside: 'unexposed' },
  { manufacturer: 'Orthovue Simulated', model: 'OV-15 DR', modality: 'DX', monochrome1: 0, bitsStored: [15, 16], rescale: [[1, 0], [1, 200]], noise: [0.006, 0.012], outside: 'unexposed' },
];

export interface Center {
  name: string;
  /** Indices into DEVICES. */
  devices: readonly number[];
  weight: number;
  /** Share of patients under 18 among the normal studies (a children's hospital sees more). */
  youngShare: number;
}

export const CENTERS: readonly Center[] = [
  { name: 'Synthetic General Hospital', devices: [0, 1], weight: 0.35, youngShare: 0.2 },
  { name: 'Phantom University Medical Center', devices: [2, 1], weight: 0.3, youngShare: 0.25 },
  { name: "Simulated Children's Hospital", devices: [3], weight: 0.15, youngShare: 0.8 },
  { name: 'Virtual Orthopaedic Institute', devices: [4, 0], weight: 0.2, youngShare: 0.3 },
];

export function drawCenter(rng: Rng): Center {
  return rng.weighted(CENTERS.map((c) => [c, c.weight] as const));
}

export function drawDevice(rng: Rng, center: Center): Device {
  const index = rng.pick(center.devices);
  const device = DEVICES[index];
  if (!device) throw new RangeError(`center ${center.name} names device ${index}, which does not exist`);
  return device;
}
