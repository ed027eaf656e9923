/**
 * The analysis the CDS service runs on a PACS study: the ensemble loaded once, the PACS reached
 * over DICOMweb, runAnalysis per study. The service process and the demo EHR compose it alike.
 */
import type { AnalysisConfig, ModelConfig, PacsConfig } from '../config';
import { DicomWebClient } from '../dicomweb/client';
import { runAnalysis, type Analyse } from './run-analysis';
import { DicomWebSource } from '../sources/dicomweb-source';
import { EnsembleDetector } from './detect';
import type { NativeCall } from './thread-stop';

export interface PacsAnalysis {
  analyse: Analyse;
  detector: EnsembleDetector;
}

export async function loadPacsAnalysis(
  pacs: PacsConfig,
  model: ModelConfig,
  analysis: AnalysisConfig,
  warn: (message: string) => void,
  nativeCall?: NativeCall,
): Promise<PacsAnalysis> {
  const detector = await EnsembleDetector.fromConfig(model, warn, nativeCall);
  const deps = {
    source: new DicomWebSource(new DicomWebClient(pacs)),
    detector,
    operatingThreshold: model.operatingThreshold,
    acceptUnconfirmedBodyPart: analysis.acceptUnconfirmedBodyPart,
    imageLimits: analysis.imageLimits,
  };
  return { analyse: (studyInstanceUid, context) => runAnalysis(deps, studyInstanceUid, context), detector };
}
