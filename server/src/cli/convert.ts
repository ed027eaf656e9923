/**
 * `knee-tumor convert file.dcm out.png`: one image exactly as the detector sees it before the
 * letterbox (8-bit, after the modality and VOI LUTs), for an integrator to check the conversion of
 * their PACS's images. A file that cannot be read or decoded leaves no output file.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { KneeTumorError, messageOf } from '../errors';
import { grayPng } from '../imaging/annotate';
import { decodeForDetector } from '../pipeline/fetch-images';
import { EXIT, prepareOutputFolder, printOut, reportFailure, UsageError } from './output';

export const CONVERT_USAGE = 'knee-tumor convert <file.dcm> <out.png>';

export async function convertCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
    const [input, output] = positionals;
    if (!input || !output || positionals.length > 2) throw new UsageError(`usage: ${CONVERT_USAGE}`);
    // The site's image limits (KNEE_TUMOR_CONFIG), so that convert refuses what analysis would.
    const limits = loadConfig(env).analysis.imageLimits;
    let bytes: Buffer;
    try {
      bytes = await readFile(input);
    } catch (cause) {
      throw new KneeTumorError('dicom-unreadable', `cannot read ${input}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
    }
    const image = await decodeForDetector(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits);
    const png = await grayPng(image);
    await prepareOutputFolder(path.dirname(path.resolve(output)));
    // Write beside the target and rename, so a failure never leaves a partial PNG.
    const partial = `${output}.partial-${process.pid}`;
    try {
      await writeFile(partial, png);
      await rename(partial, output);
    } catch (cause) {
      await rm(partial, { force: true });
      throw new KneeTumorError('output-unwritable', `cannot write ${output}: ${messageOf(cause)}`, { cause });
    }
    printOut(`${output}: ${image.width} x ${image.height}, 8-bit, as the detector sees it before the letterbox`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, false);
  }
}
