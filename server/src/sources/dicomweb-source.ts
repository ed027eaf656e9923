/** A study on a DICOMweb server: QIDO-RS describes its images, WADO-RS hands them over. */
import { KneeTumorError } from '../errors';
import type { InstanceRef } from '../domain/analysis';
import type { DicomWebClient } from '../dicomweb/client';
import { dicomJsonReader, readViewCandidate } from '../dicom/candidate';
import { storedTransferSyntax } from '../dicom/part10';
import { jsonKey, type TagKeyword } from '../dicom/tags';
import type { RetrievedInstance, StudySource, ViewCandidate } from './study-source';

/** Attributes QIDO-RS does not return by default but view location needs. */
const INSTANCE_FIELDS: TagKeyword[] = [
  'PatientID', 'Modality', 'ViewPosition', 'ImageLaterality', 'Laterality', 'BodyPartExamined', 'SeriesDescription',
  'ProtocolName', 'StudyDescription', 'ViewCodeSequence', 'SeriesNumber', 'InstanceNumber', 'Rows', 'Columns',
];

export class DicomWebSource implements StudySource {
  readonly canTranscode = true;
  readonly description: string;

  constructor(private readonly client: DicomWebClient) {
    this.description = `DICOMweb ${client.baseUrl}`;
  }

  async listCandidates(studyInstanceUid: string): Promise<ViewCandidate[]> {
    const series = await this.client.searchSeries(studyInstanceUid);
    if (series.length === 0) throw new KneeTumorError('study-not-found', `study ${studyInstanceUid} is not on ${this.description}`);
    const perSeries = await Promise.all(
      series.map(async (s) => {
        const seriesReader = dicomJsonReader(s);
        const seriesInstanceUid = seriesReader.string('SeriesInstanceUID');
        if (!seriesInstanceUid) throw new KneeTumorError('pacs-error', 'a QIDO-RS series has no SeriesInstanceUID');
        const instances = await this.client.searchInstances(studyInstanceUid, seriesInstanceUid, INSTANCE_FIELDS.map(jsonKey));
        // Series-level attributes may be left out of instance answers: fill them from the series.
        return instances.map((i) => readViewCandidate(dicomJsonReader({ ...s, ...i })));
      }),
    );
    return perSeries.flat().map((c) => ({ ...c, instance: { ...c.instance, studyInstanceUid: c.instance.studyInstanceUid || studyInstanceUid } }));
  }

  async retrievePart10(instance: InstanceRef, transferSyntaxUid: '*' | string): Promise<RetrievedInstance> {
    const bytes = await this.client.retrieveInstance(instance, transferSyntaxUid);
    const stored = storedTransferSyntax(bytes);
    return { bytes, transferSyntaxUid: stored };
  }
}
