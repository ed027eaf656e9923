/**
 * `knee-tumor phantoms`: writes a synthetic knee radiograph reference set (DICOM studies plus
 * reference.json) for training and tests. The dispatcher passes the arguments after the command.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS, generateReferenceSet } from '../../../models/phantoms/generate';
import { EXIT, numberOption, ownLines, prepareOutputFolder, printErr, printOut, reportFailure, UsageError } from './output';

const USAGE = `Usage: knee-tumor phantoms --out DIR [options]

Writes DIR/<patientId>/{AP,LAT}.dcm and DIR/reference.json (synthetic phantoms, not patient data).

Options:
  --out DIR               output folder (created if missing)
  --seed N                seed; the same seed gives byte-identical files (default 1)
  --patients N            number of patients (default 100)
  --first-index N         index of the first patient, to continue a seed's sequence (default 0)
  --tumor-fraction F      share of patients with a tumor, 0..1 (default ${DEFAULT_OPTIONS.tumorFraction})
  --width W, --height H   image size in pixels (default ${DEFAULT_OPTIONS.width} x ${DEFAULT_OPTIONS.height})
  --size WxH              both at once, e.g. 2048x2560
  --quiet                 no progress lines
  -h, --help              this text
`;

function whole(name: string, text: string | undefined, fallback: number): number {
  return numberOption(name, text, (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number') ?? fallback;
}

function size(values: { size?: string; width?: string; height?: string }): { width: number; height: number } {
  if (values.size !== undefined) {
    const match = /^(\d+)x(\d+)$/i.exec(values.size.trim());
    if (!match) throw new UsageError(`--size must look like 1100x1400, got "${values.size}"`);
    return { width: Number(match[1]), height: Number(match[2]) };
  }
  return { width: whole('width', values.width, DEFAULT_OPTIONS.width), height: whole('height', values.height, DEFAULT_OPTIONS.height) };
}

export async function phantomsCommand(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        seed: { type: 'string' },
        patients: { type: 'string' },
        'first-index': { type: 'string' },
        'tumor-fraction': { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        size: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
    if (values.help) {
      printOut(...ownLines(USAGE));
      return EXIT.ok;
    }
    if (!values.out) throw new UsageError('--out is required');
    const options = {
      out: values.out,
      seed: whole('seed', values.seed, 1),
      patients: whole('patients', values.patients, 100),
      firstIndex: whole('first-index', values['first-index'], 0),
      tumorFraction:
        numberOption('tumor-fraction', values['tumor-fraction'], (f) => f >= 0 && f <= 1, 'a number from 0 to 1') ?? DEFAULT_OPTIONS.tumorFraction,
      ...size(values),
    };
    await prepareOutputFolder(values.out);
    const started = Date.now();
    const set = await generateReferenceSet({
      ...options,
      onPatient: values.quiet
        ? undefined
        : (done, total) => {
            if (done === total || done % 25 === 0) printErr(`phantoms: ${done}/${total} patients`);
          },
    });
    const tumors = set.patients.filter((p) => p.tumor).length;
    printOut(`wrote ${set.patients.length} patients (${tumors} with a tumor) to ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, false, USAGE);
  }
}
