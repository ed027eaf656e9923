/** Writes sample PNGs under test-output/phantoms/ for a person to judge the phantoms' realism. */
import { access } from 'node:fs/promises';
import { DEFAULT_OPTIONS } from '../../models/phantoms/generate';
import { writeSamples } from './samples';

it('writes presented sample views of a young normal knee and of each lesion kind', async () => {
  const files = await writeSamples(1, { ...DEFAULT_OPTIONS, width: 440, height: 560 });
  expect(files).toHaveLength(14);
  await Promise.all(files.map((file) => access(file)));
}, 300000);
