/**
 * A folder of DICOM files as a study source. Every file is identified by its content (the DICM
 * prefix and its attributes), never by its name; files that are not DICOM are skipped.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { KneeTumorError, isKneeTumorError } from '../errors';
import type { InstanceRef } from '../domain/analysis';
import { parsePart10, storedTransferSyntax } from '../dicom/part10';
import { part10Reader, readViewCandidate } from '../dicom/candidate';
import { TAG } from '../dicom/tags';
import type { RetrievedInstance, StudySource, ViewCandidate } from './study-source';

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

export interface FolderImage {
  file: string;
  candidate: ViewCandidate;
}

export class FolderSource implements StudySource {
  readonly canTranscode = false;
  readonly description: string;
  private readonly directory: string;
  private images: Promise<FolderImage[]> | undefined;

  constructor(directory: string) {
    this.directory = path.resolve(directory);
    this.description = `folder ${this.directory}`;
  }

  /** Every DICOM image under the folder, read once. */
  scan(): Promise<FolderImage[]> {
    this.images ??= this.readImages();
    return this.images;
  }

  private async readImages(): Promise<FolderImage[]> {
    let files: string[];
    try {
      files = await listFiles(this.directory);
    } catch (cause) {
      throw new KneeTumorError('study-not-found', `cannot read the folder ${this.directory}`, { cause });
    }
    const images: FolderImage[] = [];
    for (const file of files) {
      try {
        const dataSet = parsePart10(new Uint8Array(await readFile(file)), { headerOnly: true });
        if (!dataSet.elements[TAG.SOPInstanceUID]) continue;
        images.push({ file, candidate: readViewCandidate(part10Reader(dataSet)) });
      } catch (error) {
        if (!(isKneeTumorError(error) && error.code === 'dicom-unreadable')) throw error;
      }
    }
    return images;
  }

  /** The one study in the folder; a folder with several studies needs the study named. */
  async onlyStudy(): Promise<string> {
    const studies = [...new Set((await this.scan()).map((i) => i.candidate.instance.studyInstanceUid))];
    if (studies.length === 0) throw new KneeTumorError('study-not-found', `no DICOM images in ${this.directory}`);
    if (studies.length > 1) {
      throw new KneeTumorError('bad-request', `${this.directory} holds ${studies.length} studies; name one with --study (${studies.join(', ')})`);
    }
    return studies[0] as string;
  }

  async listCandidates(studyInstanceUid: string): Promise<ViewCandidate[]> {
    const candidates = (await this.scan()).map((i) => i.candidate).filter((c) => c.instance.studyInstanceUid === studyInstanceUid);
    if (candidates.length === 0) throw new KneeTumorError('study-not-found', `study ${studyInstanceUid} is not in ${this.directory}`);
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
