/**
 * The corrupt-image corpus (test/support/corrupt-corpus.ts, 289 files from the shared real
 * radiographs and a phantom): every truncation, header/data mismatch, blank image, bomb and huge
 * image is refused with its documented code, in process for all of them and through the built CLI's
 * `analyze` (exit 3, refused) for the phantom member of each class. Bit flips are counted: how many
 * still decode to a plausible image is printed, and each one refused is refused as input.
 * Needs `npx tsc -p tsconfig.build.json` for the CLI part.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePatient } from '../../models/phantoms/generate';
import { EXIT, exitCodeFor } from '../../server/src/cli/output';
import { isKneeTumorError } from '../../server/src/errors';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { runCli } from '../support/cli';
import {
  buildCorruptCorpus,
  corpusSources,
  CORRUPT_CLASSES,
  COUNTED_CLASSES,
  EXPECTED_CODES,
  intactFile,
  PHANTOM,
  type CorruptCase,
} from '../support/corrupt-corpus';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

jest.setTimeout(120_000);

let corpus: CorruptCase[];
let dir: string;

beforeAll(async () => {
  corpus = await buildCorruptCorpus();
  dir = await mkdtemp(path.join(os.tmpdir(), 'corrupt-corpus-'));
}, 180_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

/** What the conversion says about a file: `converted`, or the refusal's code, or `crash: ...` for anything else thrown. */
async function outcome(bytes: Uint8Array): Promise<string> {
  try {
    await decodeForDetector(bytes);
    return 'converted';
  } catch (error) {
    return isKneeTumorError(error) ? error.code : `crash: ${String(error)}`;
  }
}

const refusedClasses = CORRUPT_CLASSES.filter((c) => !COUNTED_CLASSES.has(c)) as (keyof typeof EXPECTED_CODES)[];

it('holds at least 250 files over every class, made from intact files that convert', async () => {
  expect(corpus.length).toBeGreaterThanOrEqual(250);
  expect(new Set(corpus.map((c) => c.corruption))).toEqual(new Set(CORRUPT_CLASSES));
  for (const source of await corpusSources()) expect([source.name, await outcome(intactFile(source))]).toEqual([source.name, 'converted']);
});

it.each(refusedClasses)('refuses every %s file with its documented code', async (corruption) => {
  const members = corpus.filter((c) => c.corruption === corruption);
  const wrong: string[] = [];
  for (const member of members) {
    const result = await outcome(member.bytes);
    if (!(EXPECTED_CODES[corruption] as readonly string[]).includes(result)) wrong.push(`${member.name}: ${result}`);
  }
  expect(members.length).toBeGreaterThan(0);
  expect(wrong).toEqual([]);
});

it('counts the bit flips that still convert; every other one is refused as input, never a crash', async () => {
  const counts: Record<string, { total: number; converted: number }> = {};
  const notRefusals: string[] = [];
  for (const member of corpus.filter((c) => COUNTED_CLASSES.has(c.corruption))) {
    const count = (counts[`${member.corruption} (${member.source})`] ??= { total: 0, converted: 0 });
    count.total++;
    try {
      await decodeForDetector(member.bytes);
      count.converted++;
    } catch (error) {
      if (!isKneeTumorError(error) || exitCodeFor(error) !== EXIT.refused) notRefusals.push(`${member.name}: ${String(error)}`);
    }
  }
  const lines = Object.entries(counts).map(([name, c]) => `${name}: ${c.converted} of ${c.total} still convert`);
  const total = Object.values(counts).reduce((sum, c) => ({ total: sum.total + c.total, converted: sum.converted + c.converted }), { total: 0, converted: 0 });
  process.stdout.write(`bit flips that still decode to a plausible image: ${total.converted} of ${total.total}\n${lines.join('\n')}\n`);
  expect(notRefusals).toEqual([]);
  expect(total.total).toBeGreaterThan(0);
});

describe('the CLI', () => {
  const phantom = generatePatient(PHANTOM.seed, PHANTOM.index, PHANTOM.options);

  it.each(refusedClasses)('analyze exits 3 (refused) on a %s knee study, naming the reason', async (corruption) => {
    const member = corpus.find((c) => c.corruption === corruption && c.phantom);
    if (!member) throw new Error(`no phantom member in ${corruption}`);
    const study = path.join(dir, corruption);
    await mkdir(study, { recursive: true });
    await writeFile(path.join(study, 'AP.dcm'), member.bytes);
    await writeFile(path.join(study, 'LAT.dcm'), phantom.lateral);
    const run = await runCli(['analyze', '--dir', study], { KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST });
    expect(run.code).toBe(EXIT.refused);
    const named = EXPECTED_CODES[corruption].some((code) => run.stderr.includes(`knee-tumor: ${code}: `));
    expect({ named, stderr: run.stderr }).toEqual({ named: true, stderr: run.stderr });
    expect(run.stdout).not.toMatch(/POSITIVE|no tumor detected/);
  });
});
