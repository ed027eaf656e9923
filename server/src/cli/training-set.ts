/**
 * `knee-tumor training-set`: turns labelled knee studies into the training recipe's input
 * (models/training): <out>/images/<imageId>.png, 8-bit gray exactly as the detector sees each
 * image before the letterbox, and <out>/labels.json. Two sources: a reference set (the phantom
 * generator's reference.json) or a site's DICOM folder with its boxes as CSV or LabelMe JSON.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseBoxesCsv, parseLabelMe, type ImageAnnotation } from '../training-set/annotations';
import { itemsFromReference, itemsFromSite, type TrainingItem } from '../training-set/items';
import { writeTrainingSet } from '../training-set/write';
import { EXIT, prepareOutputFolder, reportFailure, UsageError } from './output';

export const TRAINING_SET_USAGE = `knee-tumor training-set --out <dir> (--reference <reference.json> | --dicom <folder> (--csv <boxes.csv> | --labelme <folder>))`;

const HELP = `usage: ${TRAINING_SET_USAGE}

  --reference FILE   a reference set whose images name their DICOM files (knee-tumor phantoms writes one)
  --dicom FOLDER     a site's studies; each study's AP and lateral views are chosen as in an analysis
  --csv FILE         boxes: header imageId (SOP Instance UID) or file (path in the DICOM folder),
                     x, y, width, height in the image's pixels; one row per lesion
  --labelme FOLDER   boxes: LabelMe JSON files, rectangles or polygons; labelme/<p>/AP.json
                     annotates dicom/<p>/AP.dcm (or the image named by its imagePath)
  --out DIR          images/<imageId>.png and labels.json
Images of the DICOM folder without boxes are normal radiographs.
`;

async function labelMeAnnotations(folder: string): Promise<ImageAnnotation[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => path.join(e.parentPath, e.name)).sort();
  if (files.length === 0) throw new UsageError(`no LabelMe .json files under ${folder}`);
  return Promise.all(
    files.map(async (file) => {
      const key = path.relative(folder, file).split(path.sep).join('/').replace(/\.json$/, '');
      return parseLabelMe(JSON.parse(await readFile(file, 'utf8')), key, file);
    }),
  );
}

async function collectItems(values: { reference?: string; dicom?: string; csv?: string; labelme?: string }): Promise<TrainingItem[]> {
  if (values.reference) {
    if (values.dicom || values.csv || values.labelme) throw new UsageError('--reference cannot be combined with --dicom, --csv or --labelme');
    return itemsFromReference(values.reference);
  }
  if (!values.dicom || Boolean(values.csv) === Boolean(values.labelme)) throw new UsageError(`usage: ${TRAINING_SET_USAGE}`);
  const annotations = values.csv ? parseBoxesCsv(await readFile(values.csv, 'utf8'), values.csv) : await labelMeAnnotations(values.labelme as string);
  const { items, skipped } = await itemsFromSite(values.dicom, annotations);
  for (const s of skipped) process.stderr.write(`knee-tumor: study ${s.studyInstanceUid} left out: ${s.reason}\n`);
  return items;
}

export async function trainingSetCommand(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        reference: { type: 'string' },
        dicom: { type: 'string' },
        csv: { type: 'string' },
        labelme: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    if (!values.out) throw new UsageError(`--out is required; usage: ${TRAINING_SET_USAGE}`);
    await prepareOutputFolder(values.out);
    const items = await collectItems(values);
    const progressEvery = Math.max(1, Math.round(items.length / 20));
    const labels = await writeTrainingSet(items, values.out, (done, total) => {
      if (done % progressEvery === 0 || done === total) process.stderr.write(`training-set: ${done}/${total} images\n`);
    });
    const patients = new Set(labels.images.map((i) => i.patientId)).size;
    const lesions = labels.images.reduce((n, i) => n + i.boxes.length, 0);
    process.stdout.write(`${values.out}: ${labels.images.length} images of ${patients} patients, ${lesions} lesion boxes\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, false);
  }
}
