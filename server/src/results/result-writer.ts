/**
 * The results layer: where a finished analysis goes. Each ResultWriter sends one analysis to one
 * destination (the FHIR server today; a DICOM SR or an HL7 v2 message later) idempotently, so that
 * a retried job never writes twice, and says where it went. The worker runs every configured
 * writer and the job store keeps each one's outcome, so a failing writer is retried alone.
 */
import type { AnalysisResult } from '../domain/analysis';

export interface WrittenResult {
  /** The writer's name, e.g. "fhir". */
  writer: string;
  /** Where the result went, e.g. "DiagnosticReport/123". */
  location: string;
  /** False when the result was there already and nothing was sent. */
  created: boolean;
}

export interface ResultWriter {
  /** Stable: the job store keys each writer's outcome by it. */
  readonly name: string;
  write(result: AnalysisResult): Promise<WrittenResult>;
}
