/**
 * The images of a training set and their boxes: from a reference set (the phantom generator's
 * reference.json, whose images name their DICOM files, or an imported picture set's, whose images
 * name their PNGs) or from a site's DICOM folder plus its
 * annotations. A site's studies go through the same view selection as an analysis, so training
 * sees exactly the two radiographs the runtime would analyse.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { PixelBox, ViewName } from '../domain/analysis';
import type { ReferenceSet } from '../domain/reference';
import { isKneeTumorError, KneeTumorError } from '../errors';
import { selectViews, type LocatedStudy } from '../pipeline/locate-study';
import { FolderSource, type FolderImage } from '../sources/folder-source';
import type { ImageAnnotation } from './annotations';
import { PICTURE_EXTENSIONS } from './picture';

export interface TrainingItem {
  imageId: string;
  patientId: string;
  view: ViewName;
  file: string;
  /** A DICOM file, converted as the pipeline converts it; or a JPEG/PNG picture, made gray. */
  format: 'dicom' | 'picture';
  boxes: PixelBox[];
  /** The size the boxes were drawn on; the decoded image must have it. */
  expectedSize?: { width: number; height: number };
}

export async function itemsFromReference(referencePath: string): Promise<TrainingItem[]> {
  let set: ReferenceSet;
  try {
    set = JSON.parse(await readFile(referencePath, 'utf8')) as ReferenceSet;
  } catch (cause) {
    throw new KneeTumorError('bad-request', `cannot read the reference set ${referencePath}`, { cause });
  }
  if (set.kind !== 'knee-tumor-reference' || !Array.isArray(set.patients)) {
    throw new KneeTumorError('bad-request', `${referencePath} is not a knee-tumor reference set`);
  }
  const base = path.dirname(path.resolve(referencePath));
  return set.patients.flatMap((patient) =>
    patient.images.map((image): TrainingItem => {
      if (!image.file) throw new KneeTumorError('bad-request', `image ${image.imageId} of ${referencePath} names no file`);
      return {
        imageId: image.imageId,
        patientId: patient.patientId,
        view: image.view,
        file: path.resolve(base, image.file),
        // An imported picture set's reference names its training PNGs; the phantoms' names DICOM files.
        format: (PICTURE_EXTENSIONS as readonly string[]).includes(path.extname(image.file).toLowerCase()) ? 'picture' : 'dicom',
        boxes: image.boxes,
        expectedSize: { width: image.width, height: image.height },
      };
    }),
  );
}

export interface SiteItems {
  items: TrainingItem[];
  /** Studies left out, with the reason the view selection gave. */
  skipped: { studyInstanceUid: string; reason: string }[];
}

function keysOf(image: FolderImage, directory: string): string[] {
  const relative = path.relative(directory, image.file).split(path.sep).join('/');
  return [image.candidate.instance.sopInstanceUid, relative, relative.replace(/\.[^./]*$/, '')];
}

export async function itemsFromSite(dicomDirectory: string, annotations: ImageAnnotation[]): Promise<SiteItems> {
  const directory = path.resolve(dicomDirectory);
  const images = await new FolderSource(directory).scan();
  if (images.length === 0) throw new KneeTumorError('bad-request', `no DICOM images under ${directory}`);

  const byKey = new Map<string, FolderImage>();
  for (const image of images) for (const key of keysOf(image, directory)) byKey.set(key, image);
  const boxesBySop = new Map<string, { boxes: PixelBox[]; size?: { width: number; height: number } }>();
  for (const annotation of annotations) {
    const image = annotation.keys.map((k) => byKey.get(k)).find((i) => i !== undefined);
    if (!image) {
      throw new KneeTumorError('bad-request', `${annotation.origin}: no DICOM image under ${directory} has the SOP Instance UID or path ${annotation.keys.map((k) => `"${k}"`).join(' or ')}`);
    }
    const sop = image.candidate.instance.sopInstanceUid;
    const entry = boxesBySop.get(sop) ?? { boxes: [] };
    entry.boxes.push(...annotation.boxes);
    if (annotation.size) entry.size = annotation.size;
    boxesBySop.set(sop, entry);
  }

  const studies = new Map<string, FolderImage[]>();
  for (const image of images) {
    const uid = image.candidate.instance.studyInstanceUid;
    studies.set(uid, [...(studies.get(uid) ?? []), image]);
  }
  const items: TrainingItem[] = [];
  const skipped: SiteItems['skipped'] = [];
  const used = new Set<string>();
  for (const [studyInstanceUid, studyImages] of studies) {
    let located: LocatedStudy;
    try {
      located = selectViews(studyInstanceUid, studyImages.map((i) => i.candidate));
    } catch (error) {
      if (!isKneeTumorError(error)) throw error;
      skipped.push({ studyInstanceUid, reason: error.reason });
      continue;
    }
    for (const view of [located.views.AP, located.views.LATERAL]) {
      const sop = view.candidate.instance.sopInstanceUid;
      const image = studyImages.find((i) => i.candidate.instance.sopInstanceUid === sop);
      if (!image) throw new KneeTumorError('internal', `the selected view ${sop} is not among the study's files`);
      const labelled = boxesBySop.get(sop);
      used.add(sop);
      items.push({
        imageId: sop,
        patientId: located.patientId ?? studyInstanceUid,
        view: view.view,
        file: image.file,
        format: 'dicom',
        boxes: labelled?.boxes ?? [],
        ...(labelled?.size ? { expectedSize: labelled.size } : {}),
      });
    }
  }
  const unused = [...boxesBySop.keys()].filter((sop) => !used.has(sop));
  if (unused.length > 0) {
    throw new KneeTumorError(
      'bad-request',
      `${unused.length} annotated image(s) are not the AP or lateral view chosen for their study (e.g. ${unused.slice(0, 3).join(', ')}); their boxes would be lost`,
    );
  }
  return { items, skipped };
}
