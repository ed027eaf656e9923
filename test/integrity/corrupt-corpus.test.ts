/**
 * The corrupt-image corpus (test/support/corrupt-corpus.ts, from the shared real radiographs and a
 * phantom): every truncation, header/data mismatch, signed label on unsigned data, multi-frame
 * image, appended second image, blank image, bomb and huge image is refused with its documented
 * code, in process for all of them and through the built CLI's `analyze` (exit 3, refused) for the
 * phantom member of each class. Bit flips are counted per source, each one refused is refused as
 * input, and the README's Input integrity section must state exactly the measured figures.
 * Needs `npx tsc -p tsconfig.build.json` for the CLI part.
 */
import { readFileSync } from 'node:fs';
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

interface Count {
  converted: number;
  total: number;
}

/** Per counted class and source, how many files still convert; the bit flips refused as anything but input. */
interface BitFlipCounts {
  bySource: Record<string, Record<string, Count>>;
  notRefusals: string[];
}

let bitFlips: Promise<BitFlipCounts> | undefined;

/** Measured once for the tests that need it. */
function countBitFlips(): Promise<BitFlipCounts> {
  bitFlips ??= (async () => {
    const counts: BitFlipCounts = { bySource: {}, notRefusals: [] };
    for (const member of corpus.filter((c) => COUNTED_CLASSES.has(c.corruption))) {
      const count = ((counts.bySource[member.corruption] ??= {})[member.source] ??= { converted: 0, total: 0 });
      count.total++;
      try {
        await decodeForDetector(member.bytes);
        count.converted++;
      } catch (error) {
        if (!isKneeTumorError(error) || exitCodeFor(error) !== EXIT.refused) counts.notRefusals.push(`${member.name}: ${String(error)}`);
      }
    }
    return counts;
  })();
  return bitFlips;
}

function sum(counts: Record<string, Count> = {}): Count {
  return Object.values(counts).reduce((total, c) => ({ converted: total.converted + c.converted, total: total.total + c.total }), { converted: 0, total: 0 });
}

it('counts the bit flips that still convert; every other one is refused as input, never a crash', async () => {
  const { bySource, notRefusals } = await countBitFlips();
  const lines = Object.entries(bySource).flatMap(([corruption, sources]) => Object.entries(sources).map(([source, c]) => `${corruption} (${source}): ${c.converted} of ${c.total} still convert`));
  process.stdout.write(`bit flips that still decode to a plausible image:\n${lines.join('\n')}\n`);
  expect(notRefusals).toEqual([]);
  expect(sum(bySource['bit-flip-data']).total).toBeGreaterThan(0);
});

/** The section of the README that states the corpus figures. */
function readmeInputIntegrity(): string {
  const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const start = readme.indexOf('### Input integrity');
  return readme.slice(start, readme.indexOf('\n## ', start));
}

it("the README's Input integrity section states the measured figures", async () => {
  const { bySource } = await countBitFlips();
  const refused = corpus.filter((c) => !COUNTED_CLASSES.has(c.corruption)).length;
  const header = sum(bySource['bit-flip-header']);
  const data = sum(bySource['bit-flip-data']);
  const measured = {
    files: corpus.length,
    refused,
    header: `${header.converted} of ${header.total}`,
    data: `${data.converted} of ${data.total}`,
    perSource: Object.fromEntries(Object.entries(bySource['bit-flip-data'] ?? {}).map(([source, c]) => [source, `${c.converted} of ${c.total}`])),
  };
  const section = readmeInputIntegrity();
  // The sentences wrap anywhere; the table rows are lines.
  const text = section.replace(/\s+/g, ' ');
  const stated = {
    files: Number(/corrupt-corpus\.ts` \((\d+) files/.exec(text)?.[1]),
    refused: Number(/: 0 of the (\d+) converts/.exec(text)?.[1]),
    header: /(\d+ of \d+) flips in the image pixel attributes convert/.exec(text)?.[1],
    data: /\*\*(\d+ of \d+) files with 1 or 10 bits flipped inside the entropy-coded data/.exec(text)?.[1],
    perSource: Object.fromEntries([...section.matchAll(/^\| (.+?) \| (\d+ of \d+) \|$/gm)].map((m) => [m[1], m[2]])),
  };
  if (JSON.stringify(stated) !== JSON.stringify(measured)) {
    // The table to paste into the README as it is.
    process.stdout.write(`${Object.entries(measured.perSource).map(([source, figure]) => `| ${source} | ${figure} |`).join('\n')}\n`);
  }
  expect(stated).toEqual(measured);
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
