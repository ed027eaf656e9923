/**
 * A study on a DICOMweb server: QIDO-RS lists its series, WADO-RS metadata describes the images of
 * its radiograph series (QIDO-RS those of other series, which are only counted), WADO-RS hands
 * the images over.
 */
import { KneeTumorError } from '../errors';
import type { InstanceRef } from '../domain/analysis';
import type { DicomWebClient } from '../dicomweb/client';
import { dicomJsonReader, readViewCandidate } from '../dicom/candidate';
import { storedTransferSyntax } from '../dicom/part10';
import { RADIOGRAPH_MODALITIES } from '../dicom/radiograph';
import { jsonKey, type TagKeyword } from '../dicom/tags';
import type { ViewCandidate } from '../domain/view-candidate';
import type { RetrievedInstance, StudySource } from './study-source';

/** Attributes QIDO-RS does not return by default but the description of a study's images needs. */
const INSTANCE_FIELDS: TagKeyword[] = [
  'PatientID', 'IssuerOfPatientID', 'PatientName', 'PatientBirthDate', 'PatientSex', 'Modality', 'SOPClassUID', 'ViewPosition', 'ImageLaterality', 'Laterality', 'BodyPartExamined', 'AnatomicRegionSequence',
  'SeriesDescription', 'ProtocolName', 'StudyDescription', 'RequestedProcedureDescription', 'PerformedProcedureStepDescription',
  'ViewCodeSequence', 'SeriesNumber', 'InstanceNumber', 'Rows', 'Columns',
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
        // QIDO-RS servers may leave sequences out of includefield answers (Orthanc 1.10 does), and the
        // Anatomic Region and View Code Sequences matter for radiographs: their metadata holds every attribute.
        const instances = RADIOGRAPH_MODALITIES.has(seriesReader.string('Modality')?.toUpperCase() ?? '')
          ? await this.client.seriesMetadata(studyInstanceUid, seriesInstanceUid)
          : await this.client.searchInstances(studyInstanceUid, seriesInstanceUid, INSTANCE_FIELDS.map(jsonKey));
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
