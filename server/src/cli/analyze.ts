/**
 * `knee-tumor analyze`: one knee study, from a DICOMweb server or a folder, through the whole
 * method. Prints the boxes (original pixels), scores and decisions, as JSON with --json, and
 * writes an annotated PNG of each view and the JSON with --out.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config';
import { DicomWebClient } from '../dicomweb/client';
import type { AnalysisResult } from '../domain/analysis';
import { annotatedPng } from '../imaging/annotate';
import { EnsembleDetector } from '../pipeline/detect';
import { analyseStudy } from '../pipeline/run-analysis';
import { DicomWebSource } from '../sources/dicomweb-source';
import { FolderSource } from '../sources/folder-source';
import type { StudySource } from '../sources/study-source';
import { EXIT, reportFailure, UsageError } from './output';

export const ANALYZE_USAGE = `knee-tumor analyze (--dicomweb <url> --study <uid> | --dir <folder> [--study <uid>])
    [--json] [--out <dir>] [--model <manifest.json>] [--provider cpu|webgpu] [--threshold <0..1>] [--merge nms|wbf]`;

const OPTIONS = {
  dicomweb: { type: 'string' },
  study: { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean', default: false },
  out: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  threshold: { type: 'string' },
  merge: { type: 'string' },
} as const;

type AnalyzeFlags = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** Command-line flags as configuration, so that they are validated with the rest. */
function explicitConfig(flags: AnalyzeFlags): Record<string, unknown> {
  const model: Record<string, unknown> = {};
  if (flags.model) model.manifestPath = path.resolve(flags.model);
  if (flags.provider) model.executionProvider = flags.provider;
  if (flags.threshold !== undefined) model.operatingThreshold = Number(flags.threshold);
  if (flags.merge) model.merge = flags.merge;
  return {
    ...(Object.keys(model).length ? { model } : {}),
    ...(flags.dicomweb ? { pacs: { dicomWebUrl: flags.dicomweb } } : {}),
  };
}

function summary(result: AnalysisResult): string {
  const lines = [
    `Study ${result.studyInstanceUid}`,
    `Model ${result.model.name} ${result.model.version}; operating threshold ${result.operatingThreshold}`,
  ];
  for (const view of result.views) {
    const boxes = view.boxes
      .map((b) => `    box at x ${b.x.toFixed(0)}, y ${b.y.toFixed(0)}, ${b.width.toFixed(0)} x ${b.height.toFixed(0)} px: confidence ${b.confidence.toFixed(3)}, ${b.foldsAgreeing}/${b.foldCount} folds`)
      .join('\n');
    lines.push(`${view.view === 'AP' ? 'AP' : 'Lateral'} view: ${view.positive ? 'POSITIVE' : 'negative'} (score ${view.score.toFixed(3)}, ${view.boxes.length} box(es))${boxes ? `\n${boxes}` : ''}`);
  }
  lines.push(`Patient: ${result.patient.positive ? 'POSSIBLE BONE TUMOR' : 'no tumor detected'} (score ${result.patient.score.toFixed(3)})`);
  for (const flag of result.flags) lines.push(`Note (${flag.code}): ${flag.message}`);
  lines.push(result.notice);
  return `${lines.join('\n')}\n`;
}

async function studySource(config: Config, flags: AnalyzeFlags): Promise<{ source: StudySource; study: string }> {
  if (flags.dir && flags.dicomweb) throw new UsageError('give either --dir or --dicomweb, not both');
  if (flags.dir) {
    const source = new FolderSource(flags.dir);
    return { source, study: flags.study ?? (await source.onlyStudy()) };
  }
  if (!config.pacs) throw new UsageError(`name a study source\nusage: ${ANALYZE_USAGE}`);
  if (!flags.study) throw new UsageError('--study <StudyInstanceUID> is required with --dicomweb');
  return { source: new DicomWebSource(new DicomWebClient(config.pacs)), study: flags.study };
}

export async function analyzeCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let json = false;
  try {
    const { values: flags } = parseArgs({ args: argv, options: OPTIONS, strict: true });
    json = flags.json;
    const config = loadConfig(env, explicitConfig(flags));
    const { source, study } = await studySource(config, flags);
    const detector = await EnsembleDetector.fromConfig(config.model, (message) => process.stderr.write(`knee-tumor: ${message}\n`));
    try {
      const { result, images } = await analyseStudy({ source, detector, operatingThreshold: config.model.operatingThreshold }, study);
      if (flags.out) {
        await mkdir(flags.out, { recursive: true });
        await writeFile(path.join(flags.out, 'analysis.json'), `${JSON.stringify(result, null, 2)}\n`);
        await Promise.all(
          result.views.map(async (view, i) => {
            const image = images[i];
            if (!image) return;
            const caption = `${view.view} view - AI-generated (${result.model.name} ${result.model.version}), not a diagnosis`;
            await writeFile(path.join(flags.out as string, `${view.view.toLowerCase()}.png`), await annotatedPng(image, view.boxes, result.operatingThreshold, caption));
          }),
        );
      }
      process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : summary(result));
      return EXIT.ok;
    } finally {
      await detector.release();
    }
  } catch (error) {
    return reportFailure(error, json);
  }
}
