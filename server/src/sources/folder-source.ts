/**
 * A folder of DICOM files as a study source. Every file is identified by its content (the DICM
 * prefix and its attributes), never by its name. A file that is not a DICOM image of a study is
 * skipped, never silently: each is kept with the reason, for the result and for any refusal. A
 * refusal for what the study lacks names first the DICOM files that could not be parsed: one of
 * them may be the missing image, and "the AP view is missing" would hide what happened.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type * as dicomParser from 'dicom-parser';
import { KneeTumorError, isKneeTumorError, type ErrorCode } from '../errors';
import type { InstanceRef, SkippedFile } from '../domain/analysis';
import { hasPart10Prefix, parsePart10, storedTransferSyntax } from '../dicom/part10';
import { part10Reader, readViewCandidate } from '../dicom/candidate';
import { TAG } from '../dicom/tags';
import type { ViewCandidate } from '../domain/view-candidate';
import type { RetrievedInstance, StudySource } from './study-source';

/** Media Storage Directory Storage: a DICOMDIR, the index of a DICOM medium (PS3.10 8.6). */
const DICOMDIR_SOP_CLASS = '1.2.840.10008.1.3.10';

/** How many skipped files a refusal names before it only counts the rest. */
const SKIPPED_NAMED_IN_ERRORS = 10;

/** Refusals for what the study lacks or is, which a DICOM file that cannot be parsed may cause by holding the missing image. */
const REFUSALS_OF_WHAT_WAS_READ: ReadonlySet<ErrorCode> = new Set(['study-not-found', 'view-missing', 'not-radiograph', 'not-knee']);

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
  /** The skipped files that begin as DICOM files do (the DICM prefix) but cannot be parsed. */
  unreadableDicom: SkippedFile[];
}

/** Why a readable DICOM object cannot stand for an image of a study, if it cannot. */
function notAStudyImage(dataSet: dicomParser.DataSet): string | undefined {
  if (dataSet.string(TAG.MediaStorageSOPClassUID) === DICOMDIR_SOP_CLASS) return 'a DICOMDIR (the index of a DICOM medium), not an image';
  if (!dataSet.string(TAG.SOPInstanceUID)) return 'a DICOM object without a SOP Instance UID';
  if (!dataSet.string(TAG.StudyInstanceUID)) return 'a DICOM object without a Study Instance UID';
  return undefined;
}

/** One file's view attributes from its header, or why it is skipped and whether it looked like DICOM. */
async function readFolderFile(file: string): Promise<{ candidate: ViewCandidate } | { reason: string; unreadableDicom: boolean }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (cause) {
    // The code only: the system's message repeats the absolute path.
    return { reason: `the file cannot be read: ${(cause as NodeJS.ErrnoException).code ?? 'I/O error'}`, unreadableDicom: false };
  }
  try {
    const dataSet = parsePart10(bytes, { headerOnly: true });
    const reason = notAStudyImage(dataSet);
    return reason ? { reason, unreadableDicom: false } : { candidate: readViewCandidate(part10Reader(dataSet)) };
  } catch (error) {
    if (isKneeTumorError(error) && error.code === 'dicom-unreadable') return { reason: error.reason, unreadableDicom: hasPart10Prefix(bytes) };
    throw error;
  }
}

/** The first files of a list as `name(file)`, joined, and how many more there are. */
function namedFiles(files: SkippedFile[], name: (file: SkippedFile) => string, separator: string): string {
  const named = files.slice(0, SKIPPED_NAMED_IN_ERRORS).map(name);
  const rest = files.length - named.length;
  return `${named.join(separator)}${rest > 0 ? `${separator}and ${rest} more` : ''}`;
}

/** "; 2 files skipped: notes.txt (not a DICOM Part 10 file ...), ..." for a refusal, or nothing. */
function skippedSummary(skipped: SkippedFile[]): string {
  if (skipped.length === 0) return '';
  return `; ${skipped.length} file(s) skipped: ${namedFiles(skipped, (s) => `${s.file} (${s.reason})`, ', ')}`;
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
    const scan: FolderScan = { images: [], skipped: [], unreadableDicom: [] };
    for (const file of files) {
      const read = await readFolderFile(file);
      if ('candidate' in read) {
        scan.images.push({ file, candidate: read.candidate });
        continue;
      }
      const skipped = { file: path.relative(this.directory, file).split(path.sep).join('/'), reason: read.reason };
      scan.skipped.push(skipped);
      if (read.unreadableDicom) scan.unreadableDicom.push(skipped);
    }
    return scan;
  }

  /**
   * A refusal for what the study lacks, told as dicom-unreadable when the folder holds DICOM files
   * that cannot be parsed: "ap.dcm cannot be read: …; without it, the AP view is missing: …".
   */
  async explainRefusal(refusal: KneeTumorError): Promise<KneeTumorError> {
    const { unreadableDicom } = await this.read();
    if (unreadableDicom.length === 0 || !REFUSALS_OF_WHAT_WAS_READ.has(refusal.code)) return refusal;
    const unread = namedFiles(unreadableDicom, (s) => `${s.file} cannot be read: ${s.reason}`, '; ');
    return new KneeTumorError('dicom-unreadable', `${unread}; without ${unreadableDicom.length > 1 ? 'them' : 'it'}, ${refusal.reason}`, { cause: refusal });
  }

  /** The one study in the folder; a folder with several studies needs the study named. */
  async onlyStudy(): Promise<string> {
    const { images, skipped } = await this.read();
    const studies = [...new Set(images.map((i) => i.candidate.instance.studyInstanceUid))];
    if (studies.length === 0) throw await this.explainRefusal(new KneeTumorError('study-not-found', `no DICOM images in ${this.directory}${skippedSummary(skipped)}`));
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
