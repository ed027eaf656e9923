/**
 * A folder of DICOM files as a study source. Every file is identified by its content (the DICM
 * prefix and its attributes), never by its name. A file that is not a DICOM image of a study is
 * skipped, never silently: each is kept with the reason, for the result and for any refusal.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type * as dicomParser from 'dicom-parser';
import { KneeTumorError, isKneeTumorError } from '../errors';
import type { InstanceRef, SkippedFile } from '../domain/analysis';
import { parsePart10, storedTransferSyntax } from '../dicom/part10';
import { part10Reader, readViewCandidate } from '../dicom/candidate';
import { TAG } from '../dicom/tags';
import type { ViewCandidate } from '../domain/view-candidate';
import type { RetrievedInstance, StudySource } from './study-source';

/** Media Storage Directory Storage: a DICOMDIR, the index of a DICOM medium (PS3.10 8.6). */
const DICOMDIR_SOP_CLASS = '1.2.840.10008.1.3.10';

/** How many skipped files a refusal names before it only counts the rest. */
const SKIPPED_NAMED_IN_ERRORS = 10;

/** Files and links to files: a link that leads elsewhere is skipped with the reason readFile gives. */
async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => path.join(e.parentPath, e.name)).sort();
}

export interface FolderImage {
  file: string;
  candidate: ViewCandidate;
}

interface FolderScan {
  images: FolderImage[];
  skipped: SkippedFile[];
}

/** Why a readable DICOM object cannot stand for an image of a study, if it cannot. */
function notAStudyImage(dataSet: dicomParser.DataSet): string | undefined {
  if (dataSet.string(TAG.MediaStorageSOPClassUID) === DICOMDIR_SOP_CLASS) return 'a DICOMDIR (the index of a DICOM medium), not an image';
  if (!dataSet.string(TAG.SOPInstanceUID)) return 'a DICOM object without a SOP Instance UID';
  if (!dataSet.string(TAG.StudyInstanceUID)) return 'a DICOM object without a Study Instance UID';
  return undefined;
}

/** One file's view attributes from its header, or why it is skipped. */
async function readFolderFile(file: string): Promise<{ candidate: ViewCandidate } | { reason: string }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (cause) {
    // The code only: the system's message repeats the absolute path.
    return { reason: `the file cannot be read: ${(cause as NodeJS.ErrnoException).code ?? 'I/O error'}` };
  }
  try {
    const dataSet = parsePart10(bytes, { headerOnly: true });
    const reason = notAStudyImage(dataSet);
    return reason ? { reason } : { candidate: readViewCandidate(part10Reader(dataSet)) };
  } catch (error) {
    if (isKneeTumorError(error) && error.code === 'dicom-unreadable') return { reason: error.reason };
    throw error;
  }
}

/** "; 2 files skipped: notes.txt (not a DICOM Part 10 file ...), ..." for a refusal, or nothing. */
function skippedSummary(skipped: SkippedFile[]): string {
  if (skipped.length === 0) return '';
  const named = skipped.slice(0, SKIPPED_NAMED_IN_ERRORS).map((s) => `${s.file} (${s.reason})`);
  const rest = skipped.length - named.length;
  return `; ${skipped.length} file(s) skipped: ${named.join(', ')}${rest > 0 ? `, and ${rest} more` : ''}`;
}

export class FolderSource implements StudySource {
  readonly canTranscode = false;
  readonly description: string;
  private readonly directory: string;
  private scanned: Promise<FolderScan> | undefined;

  constructor(directory: string) {
    this.directory = path.resolve(directory);
    this.description = `folder ${this.directory}`;
  }

  /** Every DICOM image under the folder, read once. */
  async scan(): Promise<FolderImage[]> {
    return (await this.read()).images;
  }

  /** Every other file under the folder, with the reason it was skipped. */
  async skippedFiles(): Promise<SkippedFile[]> {
    return (await this.read()).skipped;
  }

  private read(): Promise<FolderScan> {
    this.scanned ??= this.readFiles();
    return this.scanned;
  }

  private async readFiles(): Promise<FolderScan> {
    let files: string[];
    try {
      files = await listFiles(this.directory);
    } catch (cause) {
      throw new KneeTumorError('study-not-found', `cannot read the folder ${this.directory}`, { cause });
    }
    const scan: FolderScan = { images: [], skipped: [] };
    for (const file of files) {
      const read = await readFolderFile(file);
      if ('candidate' in read) scan.images.push({ file, candidate: read.candidate });
      else scan.skipped.push({ file: path.relative(this.directory, file).split(path.sep).join('/'), reason: read.reason });
    }
    return scan;
  }

  /** The one study in the folder; a folder with several studies needs the study named. */
  async onlyStudy(): Promise<string> {
    const { images, skipped } = await this.read();
    const studies = [...new Set(images.map((i) => i.candidate.instance.studyInstanceUid))];
    if (studies.length === 0) throw new KneeTumorError('study-not-found', `no DICOM images in ${this.directory}${skippedSummary(skipped)}`);
    if (studies.length > 1) {
      throw new KneeTumorError('bad-request', `${this.directory} holds ${studies.length} studies; name one with --study (${studies.join(', ')})`);
    }
    return studies[0] as string;
  }

  async listCandidates(studyInstanceUid: string): Promise<ViewCandidate[]> {
    const { images, skipped } = await this.read();
    const candidates = images.map((i) => i.candidate).filter((c) => c.instance.studyInstanceUid === studyInstanceUid);
    if (candidates.length === 0) {
      throw new KneeTumorError('study-not-found', `study ${studyInstanceUid} is not in ${this.directory}${skippedSummary(skipped)}`);
    }
    return candidates;
  }

  async retrievePart10(instance: InstanceRef, transferSyntaxUid: '*' | string): Promise<RetrievedInstance> {
    const image = (await this.scan()).find((i) => i.candidate.instance.sopInstanceUid === instance.sopInstanceUid);
    if (!image) throw new KneeTumorError('study-not-found', `image ${instance.sopInstanceUid} is not in ${this.directory}`);
    const bytes = new Uint8Array(await readFile(image.file));
    const stored = storedTransferSyntax(bytes);
    if (transferSyntaxUid !== '*' && transferSyntaxUid !== stored) {
      throw new KneeTumorError('unsupported-transfer-syntax', `a folder cannot transcode ${stored} to ${transferSyntaxUid}`);
    }
    return { bytes, transferSyntaxUid: stored };
  }
}
