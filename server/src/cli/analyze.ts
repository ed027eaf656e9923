/**
 * `knee-tumor analyze`: one knee study, from a DICOMweb server or a folder, through the whole
 * method. Prints the boxes (original pixels), scores and decisions, as JSON with --json, and
 * writes an annotated PNG of each view and the JSON with --out.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config';
import { DicomWebClient } from '../dicomweb/client';
import { DEMONSTRATION_MODEL_NOTICE, isDemonstrationModel, type AnalysisResult } from '../domain/analysis';
import { annotatedPng } from '../imaging/annotate';
import { EnsembleDetector } from '../pipeline/detect';
import { analyseStudy } from '../pipeline/run-analysis';
import { DicomWebSource } from '../sources/dicomweb-source';
import { FolderSource } from '../sources/folder-source';
import type { StudySource } from '../sources/study-source';
import { choiceOption, EXIT, numberOption, prepareOutputFolder, printErr, printJson, printOut, reportFailure, UsageError } from './output';

export const ANALYZE_USAGE = `knee-tumor analyze (--dicomweb <url> --study <uid> | --dir <folder> [--study <uid>])
    [--json] [--out <dir> [--show-below-threshold]] [--model <manifest.json>] [--provider cpu|webgpu] [--threshold <0..1>] [--merge nms|wbf]
    [--accept-unconfirmed-body-part]`;

const OPTIONS = {
  dicomweb: { type: 'string' },
  study: { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean', default: false },
  out: { type: 'string' },
  'show-below-threshold': { type: 'boolean', default: false },
  model: { type: 'string' },
  provider: { type: 'string' },
  threshold: { type: 'string' },
  merge: { type: 'string' },
  'accept-unconfirmed-body-part': { type: 'boolean', default: false },
} as const;

type AnalyzeFlags = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

/** Command-line flags as configuration, so that they are validated with the rest. */
function explicitConfig(flags: AnalyzeFlags): Record<string, unknown> {
  const model: Record<string, unknown> = {};
  if (flags.model) model.manifestPath = path.resolve(flags.model);
  const provider = choiceOption('provider', flags.provider, ['cpu', 'webgpu']);
  if (provider) model.executionProvider = provider;
  const threshold = numberOption('threshold', flags.threshold, (t) => t >= 0 && t <= 1, 'a number from 0 to 1');
  if (threshold !== undefined) model.operatingThreshold = threshold;
  const merge = choiceOption('merge', flags.merge, ['nms', 'wbf']);
  if (merge) model.merge = merge;
  return {
    ...(Object.keys(model).length ? { model } : {}),
    ...(flags.dicomweb ? { pacs: { dicomWebUrl: flags.dicomweb } } : {}),
    ...(flags['accept-unconfirmed-body-part'] ? { analysis: { acceptUnconfirmedBodyPart: true } } : {}),
  };
}

function summary(result: AnalysisResult): string[] {
  const lines = [
    `Study ${result.studyInstanceUid}`,
    `Model ${result.model.name} ${result.model.version}; operating threshold ${result.operatingThreshold.toFixed(3)}`,
  ];
  for (const view of result.views) {
    const boxes = view.boxes.map(
      (b) => `    box at x ${b.x.toFixed(0)}, y ${b.y.toFixed(0)}, ${b.width.toFixed(0)} x ${b.height.toFixed(0)} px: confidence ${b.confidence.toFixed(3)}, ${b.foldsAgreeing}/${b.foldCount} folds`,
    );
    const decision = view.domain?.outside ? 'OUTSIDE THE MODEL\'S VALIDATED DOMAIN, no finding' : view.positive ? 'POSITIVE' : 'negative';
    const domain = view.domain ? `, domain distance ${view.domain.distance.toFixed(1)} (limit ${view.domain.threshold.toFixed(1)})` : '';
    lines.push(`${view.view === 'AP' ? 'AP' : 'Lateral'} view: ${decision} (score ${view.score.toFixed(3)}, ${view.boxes.length} box(es)${domain})`, ...boxes);
  }
  const patient = result.patient.positive ? 'POSSIBLE BONE TUMOR' : result.patient.abstained ? 'NO RESULT (a view is outside the model\'s validated domain)' : 'no tumor detected';
  lines.push(`Patient: ${patient} (score ${result.patient.score.toFixed(3)})`);
  for (const flag of result.flags) lines.push(`Note (${flag.code}): ${flag.message}`);
  for (const skipped of result.skippedFiles ?? []) lines.push(`Skipped file ${skipped.file}: ${skipped.reason}`);
  lines.push(result.notice);
  return lines;
}

/** A folder analysis lists the files it skipped, so that none is left out silently. */
async function withSkippedFiles(result: AnalysisResult, source: StudySource): Promise<AnalysisResult> {
  return source instanceof FolderSource ? { ...result, skippedFiles: await source.skippedFiles() } : result;
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
    if (flags.out) await prepareOutputFolder(flags.out);
    const detector = await EnsembleDetector.fromConfig(config.model, (message) => printErr(`knee-tumor: ${message}`));
    // Once per run, before the result, on stderr so that the JSON on stdout stays as it is.
    if (isDemonstrationModel(detector.identity)) printErr(`knee-tumor: ${DEMONSTRATION_MODEL_NOTICE}`);
    try {
      const { result: analysed, images } = await analyseStudy(
        { source, detector, operatingThreshold: config.model.operatingThreshold, acceptUnconfirmedBodyPart: config.analysis.acceptUnconfirmedBodyPart, imageLimits: config.analysis.imageLimits },
        study,
      );
      const result = await withSkippedFiles(analysed, source);
      if (flags.out) {
        await writeFile(path.join(flags.out, 'analysis.json'), `${JSON.stringify(result, null, 2)}\n`);
        await Promise.all(
          result.views.map(async (view, i) => {
            const image = images[i];
            if (!image) return;
            const png = await annotatedPng(image, view, result, { showBelowThreshold: flags['show-below-threshold'] });
            await writeFile(path.join(flags.out as string, `${view.view.toLowerCase()}.png`), png);
          }),
        );
      }
      if (json) printJson(result);
      else printOut(...summary(result));
      return EXIT.ok;
    } finally {
      await detector.release();
    }
  } catch (error) {
    return reportFailure(error, json);
  }
}
