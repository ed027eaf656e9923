/**
 * `knee-tumor training-set`: turns labelled knee radiographs into the training recipe's input
 * (models/training): <out>/images/<imageId>.png, 8-bit gray exactly as the detector sees each
 * image before the letterbox, and <out>/labels.json. Three sources: a reference set (the phantom
 * generator's reference.json), a site's DICOM folder with its boxes as CSV or LabelMe JSON, or a
 * folder of JPEG/PNG radiographs with LabelMe boxes and a metadata table (CSV or XLSX); the last
 * also writes reference.json (for `knee-tumor evaluate`) and import-summary.json.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ReferenceSet } from '../domain/reference';
import { parseBoxesCsv, readLabelMeFolder } from '../training-set/annotations';
import { DEFAULT_COLUMNS, importImageFolder, METADATA_FIELDS, type ImportSummary, type MetadataField, type PatientGrouping } from '../training-set/image-folder';
import { itemsFromReference, itemsFromSite, type TrainingItem } from '../training-set/items';
import { readMetadataTable } from '../training-set/metadata-table';
import { writeTrainingSet } from '../training-set/write';
import { EXIT, ownLines, prepareOutputFolder, printErr, printOut, reportFailure, UsageError } from './output';
import { messageOf } from '../errors';

export const TRAINING_SET_USAGE = `knee-tumor training-set --out <dir> (--reference <reference.json> | --dicom <folder> (--csv <boxes.csv> | --labelme <folder>) | --images <folder> --metadata <table.xlsx|csv> [--labelme <folder>] (--patient-key <column> | --patient-rule <regex>) [--column <field>=<header> ...] [--where <column>=<value> ...])`;

const HELP = `usage: ${TRAINING_SET_USAGE}

  --reference FILE   a reference set whose images name their DICOM files (knee-tumor phantoms writes one)
  --dicom FOLDER     a site's studies; each study's AP and lateral views are chosen as in an analysis
  --csv FILE         boxes: header imageId (SOP Instance UID) or file (path in the DICOM folder),
                     x, y, width, height in the image's pixels; one row per lesion
  --labelme FOLDER   boxes: LabelMe JSON files, rectangles or polygons; with --dicom,
                     labelme/<p>/AP.json annotates dicom/<p>/AP.dcm (or the image named by its
                     imagePath); with --images, the picture its imagePath names
  --images FOLDER    JPEG/PNG radiographs (any depth); the file name without extension is the
                     image id. Made gray; no DICOM windowing applies to them
  --metadata FILE    one row per radiograph, CSV or XLSX (first sheet), header in the first row
  --column F=HEADER  the column of field F when it is not the default (repeat):
                     ${METADATA_FIELDS.map((f) => `${f}=${DEFAULT_COLUMNS[f]}`).join(', ')}.
                     The view is read from flag columns frontal and lateral (1/0), or from one
                     view column (AP, PA, frontal / lateral) when the table has it instead
  --where COL=VALUE  import only the rows with this value in the column (repeat: any of them),
                     e.g. --where knee-joint=1 --where femur=1 --where tibia=1 for the public
                     data set's knee and long-bone radiographs; the others are counted, not listed
  --patient-key COL  the column that names each radiograph's patient
  --patient-rule RE  a regular expression on the image id; its first group (else the whole
                     match) names the patient, e.g. "^(P\\d+)_" for P012_ap.jpeg; ".*" makes
                     every radiograph its own (single-view) patient
                     (default: the column patient_id, when the table has one)
  --out DIR          images/<imageId>.png and labels.json; with --images also reference.json
                     (patients with one frontal and one lateral view) and import-summary.json
Images of the DICOM folder without boxes are normal radiographs. With --images the table's tumor
flag decides: a tumor image needs a box, a normal one must have none.
`;

const MAX_LISTED_SKIPS = 20;

interface Collected {
  items: TrainingItem[];
  reference?: ReferenceSet;
  summary?: ImportSummary;
}

type Values = {
  reference?: string;
  dicom?: string;
  csv?: string;
  labelme?: string;
  images?: string;
  metadata?: string;
  column?: string[];
  where?: string[];
  'patient-key'?: string;
  'patient-rule'?: string;
};

function columnOverrides(specs: string[]): Partial<Record<MetadataField, string>> {
  const columns: Partial<Record<MetadataField, string>> = {};
  for (const spec of specs) {
    const match = /^([a-z]+)=(.+)$/.exec(spec);
    const field = match?.[1] as MetadataField | undefined;
    if (!match || !field || !METADATA_FIELDS.includes(field)) {
      throw new UsageError(`--column must be FIELD=HEADER with FIELD one of ${METADATA_FIELDS.join(', ')}; got "${spec}"`);
    }
    columns[field] = (match[2] as string).trim();
  }
  return columns;
}

function whereConditions(specs: string[]): { column: string; value: string }[] {
  return specs.map((spec) => {
    const at = spec.indexOf('=');
    if (at <= 0) throw new UsageError(`--where must be COLUMN=VALUE, got "${spec}"`);
    return { column: spec.slice(0, at).trim(), value: spec.slice(at + 1).trim() };
  });
}

function grouping(values: Values, headers: string[]): PatientGrouping {
  const key = values['patient-key'];
  const rule = values['patient-rule'];
  if (key !== undefined && rule !== undefined) throw new UsageError('--patient-key and --patient-rule cannot be combined');
  if (key !== undefined) return { kind: 'column', column: key };
  if (rule !== undefined) {
    try {
      return { kind: 'rule', pattern: new RegExp(rule) };
    } catch (error) {
      throw new UsageError(`--patient-rule is not a regular expression: ${messageOf(error)}`);
    }
  }
  if (headers.includes('patient_id')) return { kind: 'column', column: 'patient_id' };
  throw new UsageError('say which radiographs belong to one patient: --patient-key COLUMN or --patient-rule REGEX (the table has no patient_id column)');
}

async function collectImageFolder(values: Values): Promise<Collected> {
  if (values.dicom || values.csv || values.reference) throw new UsageError('--images cannot be combined with --dicom, --csv or --reference');
  if (!values.metadata) throw new UsageError('--images needs --metadata (a CSV or XLSX table, one row per radiograph)');
  const columns = columnOverrides(values.column ?? []);
  const table = await readMetadataTable(values.metadata);
  const { items, reference, summary } = await importImageFolder(
    {
      imagesDirectory: values.images as string,
      table,
      annotations: values.labelme ? await readLabelMeFolder(values.labelme) : [],
      columns,
      grouping: grouping(values, table.headers),
      where: whereConditions(values.where ?? []),
    },
    path.basename(values.metadata),
  );
  summary.skipped.slice(0, MAX_LISTED_SKIPS).forEach((s) => printErr(`knee-tumor: ${s.item} left out: ${s.reason}`));
  if (summary.skipped.length > MAX_LISTED_SKIPS) printErr(`knee-tumor: and ${summary.skipped.length - MAX_LISTED_SKIPS} more left out (import-summary.json lists all)`);
  return { items, ...(reference ? { reference } : {}), summary };
}

async function collect(values: Values): Promise<Collected> {
  if (values.images) return collectImageFolder(values);
  if (values.metadata || values['patient-key'] || values['patient-rule'] || values.column || values.where) {
    throw new UsageError('--metadata, --patient-key, --patient-rule, --column and --where go with --images');
  }
  if (values.reference) {
    if (values.dicom || values.csv || values.labelme) throw new UsageError('--reference cannot be combined with --dicom, --csv or --labelme');
    return { items: await itemsFromReference(values.reference) };
  }
  if (!values.dicom || Boolean(values.csv) === Boolean(values.labelme)) throw new UsageError(`usage: ${TRAINING_SET_USAGE}`);
  const annotations = values.csv ? parseBoxesCsv(await readFile(values.csv, 'utf8'), values.csv) : await readLabelMeFolder(values.labelme as string);
  const { items, skipped } = await itemsFromSite(values.dicom, annotations);
  for (const s of skipped) printErr(`knee-tumor: study ${s.studyInstanceUid} left out: ${s.reason}`);
  return { items };
}

function importLine(summary: ImportSummary): string {
  return (
    `${summary.pairedStudies} patients with a frontal and a lateral view in reference.json; ` +
    `${summary.singleView.length} single-view and ${summary.unpaired.length} unpaired patients (trained on, not in reference.json); ` +
    `${summary.skipped.length} left out (import-summary.json)` +
    (summary.filteredOut > 0 ? `; ${summary.filteredOut} rows not selected by --where` : '')
  );
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
        images: { type: 'string' },
        metadata: { type: 'string' },
        column: { type: 'string', multiple: true },
        where: { type: 'string', multiple: true },
        'patient-key': { type: 'string' },
        'patient-rule': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      printOut(...ownLines(HELP));
      return EXIT.ok;
    }
    if (!values.out) throw new UsageError(`--out is required; usage: ${TRAINING_SET_USAGE}`);
    await prepareOutputFolder(values.out);
    const { items, reference, summary } = await collect(values);
    if (summary) await writeFile(path.join(values.out, 'import-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    // A reference.json left by an earlier import must not outlive an import that has no pairs.
    if (reference) await writeFile(path.join(values.out, 'reference.json'), `${JSON.stringify(reference, null, 2)}\n`);
    else if (summary) await rm(path.join(values.out, 'reference.json'), { force: true });
    const progressEvery = Math.max(1, Math.round(items.length / 20));
    const labels = await writeTrainingSet(items, values.out, (done, total) => {
      if (done % progressEvery === 0 || done === total) printErr(`training-set: ${done}/${total} images`);
    });
    const patients = new Set(labels.images.map((i) => i.patientId)).size;
    const lesions = labels.images.reduce((n, i) => n + i.boxes.length, 0);
    printOut(`${values.out}: ${labels.images.length} images of ${patients} patients, ${lesions} lesion boxes`);
    if (summary) printOut(importLine(summary));
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, false);
  }
}
