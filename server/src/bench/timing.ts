/** What the benchmarks share: the median of timed runs after a warm-up, and a synthetic view. */
import type { Gray8Image } from '../imaging/gray8';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export async function timeRuns(runs: number, task: () => Promise<unknown>): Promise<number> {
  await task();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await task();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** A radiograph-sized test view: smooth structure and noise, so the detector does real work. */
export function syntheticView(width: number, height: number, seed: number): Gray8Image {
  const data = new Uint8Array(width * height);
  let state = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1664525 + 1013904223) >>> 0;
      const bone = Math.abs(x - width / 2) < width / 6 ? 120 : 40;
      data[y * width + x] = Math.min(255, bone + ((state >>> 24) & 31));
    }
  }
  return { width, height, data };
}
