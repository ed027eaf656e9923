/**
 * What one image's DICOM attributes say about the body part: the knee, another part, or nothing
 * either way. Read from BodyPartExamined, the Anatomic Region Sequence and the free-text
 * descriptions (study, series, protocol, requested procedure, performed procedure step).
 *
 * The rules, in order:
 * 1. A coded statement of another part (a BodyPartExamined or an anatomic region code that is
 *    neither the knee nor a region containing it) makes the image another part, even where a
 *    description names the knee: when the labels disagree, no result is safer than a result on
 *    the wrong image.
 * 2. Else the image is a knee when BodyPartExamined, an anatomic region code or a description
 *    names the knee, in the languages sites use.
 * 3. Else a description that names another region (CHEST, HIP...) makes it another part.
 * 4. Else it is unconfirmed: nothing names the knee, nothing names another part. A region that
 *    contains the knee without naming it (EXTREMITY, LOWERLIMB) is unconfirmed, not a knee.
 */
import type { CodedEntry, ViewCandidate } from '../domain/view-candidate';

export type BodyPartReading =
  /** `evidence`: what names the knee, e.g. "SeriesDescription 'Knie a.p.'". */
  | { kind: 'knee'; evidence: string }
  /** `evidence`: what names the other part, e.g. "BodyPartExamined CHEST"; `despite`: a knee label it outweighs. */
  | { kind: 'other'; evidence: string; despite?: string }
  /** `lookedAt`: every attribute read and what it held, for the refusal. */
  | { kind: 'unconfirmed'; lookedAt: string };

/**
 * The knee as a whole word: English knee; German Knie, Kniegelenk; Dutch knie, kniegewricht;
 * French genou; Spanish rodilla; Italian ginocchio; Portuguese joelho; Swedish knä, knäled;
 * Danish knæ, knæled; Norwegian kne, kneledd; Polish kolano (and its cases, kolanowy); Turkish diz.
 * Whole words only, so that "kneel" or German "knien" (to kneel) do not count.
 */
const KNEE_WORD =
  /^(?:knees?|knie(?:s|gelenks?|gewricht)?|knie[eë]n|genoux?|rodillas?|ginocchi[oa]|joelhos?|kn[äæ](?:et|n|led(?:en|et)?)?|kne(?:et|ledd(?:et)?)?|knær|kolan(?:o|a|u|ie|ach|owy|owego|owej|owa)?|diz)$/iu;
/** Chinese and Japanese write no spaces between words: the character 膝 (knee) is enough. */
const KNEE_CHARACTER = /膝/u;

/** Region words a description may use for another part (English, as DICOM's defined terms). */
const OTHER_REGION_WORDS = new Set([
  'CHEST', 'THORAX', 'LUNG', 'HEAD', 'SKULL', 'BRAIN', 'FACE', 'NECK', 'ABDOMEN', 'PELVIS', 'HIP', 'SPINE', 'CSPINE', 'TSPINE',
  'LSPINE', 'SSPINE', 'SACRUM', 'HAND', 'WRIST', 'ELBOW', 'SHOULDER', 'ARM', 'FOREARM', 'UPPERLIMB', 'HUMERUS', 'CLAVICLE',
  'FOOT', 'ANKLE', 'HEEL', 'TOE', 'BREAST', 'RIB', 'RIBS', 'TEETH', 'JAW', 'HEART',
]);

/**
 * BodyPartExamined values of regions that contain the knee but do not name it (PS3.16 Annex L, and
 * common variants). LEG is not one: DICOM's older term for the lower leg, it names another part.
 */
const REGIONS_CONTAINING_KNEE = new Set(['EXTREMITY', 'EXTREMITIES', 'LIMB', 'LIMBS', 'LOWERLIMB', 'LOWEREXTREMITY', 'LEGS', 'PELVISLOWEXTREMT']);
/** BodyPartExamined as some modalities write it, side and all in one word: LKNEE, KNEER, KNEEJOINT. */
const KNEE_BODY_PART = /^(?:L|R|LT|RT|LEFT|RIGHT|BILAT|BILATERAL)?KNEES?(?:JOINT)?(?:L|R|LT|RT|LEFT|RIGHT)?$/;

/** Anatomic region codes of the knee: region, joint, and their left and right (SNOMED CT, and SNOMED RT as DICOM lists it). */
const KNEE_CODES = new Set(['72696002', '49076000', '82169009', '6757004', '719442003', '719443008', 'T-D9200', 'T-15720']);
/** Extremity, lower limb, pelvis and lower extremities. */
const CODES_CONTAINING_KNEE = new Set(['66019005', 'T-D0300', '61685007', 'T-D9000', '1231522001']);
const SNOMED_SCHEMES = new Set(['SCT', 'SRT', 'SNM3', '99SDM']);

const DESCRIPTIONS = [
  ['StudyDescription', 'studyDescription'],
  ['SeriesDescription', 'seriesDescription'],
  ['ProtocolName', 'protocolName'],
  ['RequestedProcedureDescription', 'requestedProcedureDescription'],
  ['PerformedProcedureStepDescription', 'performedProcedureStepDescription'],
] as const;

function letterWords(text: string): string[] {
  return text.split(/[^\p{L}]+/u).filter(Boolean);
}

/** True when the text names the knee as a word, in one of the languages above. */
export function namesKnee(text: string | undefined): boolean {
  if (!text) return false;
  return KNEE_CHARACTER.test(text) || letterWords(text).some((w) => KNEE_WORD.test(w));
}

/** A description's words as DICOM code strings write them: upper case, letters and digits. */
export function descriptionWords(text: string | undefined): string[] {
  return (text ?? '').toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
}

function otherRegionWord(text: string): string | undefined {
  return descriptionWords(text).find((w) => OTHER_REGION_WORDS.has(w));
}

type Statement = 'knee' | 'contains-knee' | 'other';

function bodyPartStatement(value: string): Statement {
  const letters = value.toUpperCase().replace(/[^A-Z]/g, '');
  if (namesKnee(value) || KNEE_BODY_PART.test(letters)) return 'knee';
  return REGIONS_CONTAINING_KNEE.has(letters) ? 'contains-knee' : 'other';
}

function regionStatement(code: CodedEntry): Statement {
  const snomed = code.value !== undefined && (code.scheme === undefined || SNOMED_SCHEMES.has(code.scheme.toUpperCase()));
  if ((snomed && KNEE_CODES.has(code.value ?? '')) || namesKnee(code.meaning)) return 'knee';
  return snomed && CODES_CONTAINING_KNEE.has(code.value ?? '') ? 'contains-knee' : 'other';
}

function describeCode(code: CodedEntry): string {
  const meaning = code.meaning ? ` '${code.meaning}'` : '';
  return `${code.value ?? 'no code'}${code.scheme ? ` (${code.scheme})` : ''}${meaning}`;
}

/**
 * A description as it may appear in a message: free text, so the image's PatientID is masked
 * should a site have typed it there (an ID under 4 characters is too short to find safely).
 */
function quoted(text: string, patientId: string | undefined): string {
  const masked = patientId && patientId.length >= 4 ? text.split(patientId).join('[PatientID]') : text;
  return `'${masked}'`;
}

export function readBodyPart(candidate: ViewCandidate): BodyPartReading {
  const bodyPart = candidate.bodyPartExamined;
  const regions = candidate.anatomicRegions.filter((c) => c.value || c.meaning);
  const coded: { evidence: string; statement: Statement }[] = [
    ...(bodyPart ? [{ evidence: `BodyPartExamined ${bodyPart}`, statement: bodyPartStatement(bodyPart) }] : []),
    ...regions.map((c) => ({ evidence: `Anatomic Region Sequence ${describeCode(c)}`, statement: regionStatement(c) })),
  ];
  const descriptions = DESCRIPTIONS.flatMap(([attribute, field]) => {
    const text = candidate[field];
    return text ? [{ text, evidence: `${attribute} ${quoted(text, candidate.patientId)}` }] : [];
  });

  const kneeEvidence = [...coded.filter((c) => c.statement === 'knee'), ...descriptions.filter((d) => namesKnee(d.text))][0]?.evidence;
  const codedOther = coded.find((c) => c.statement === 'other');
  if (codedOther) return { kind: 'other', evidence: codedOther.evidence, ...(kneeEvidence ? { despite: kneeEvidence } : {}) };
  if (kneeEvidence) return { kind: 'knee', evidence: kneeEvidence };
  const describedOther = descriptions.find((d) => otherRegionWord(d.text));
  if (describedOther) return { kind: 'other', evidence: describedOther.evidence };

  const lookedAt = [
    bodyPart ? `BodyPartExamined ${bodyPart} (does not name the knee)` : 'BodyPartExamined absent',
    regions.length > 0 ? `Anatomic Region Sequence ${regions.map(describeCode).join(', ')} (does not name the knee)` : 'Anatomic Region Sequence absent',
    ...(descriptions.length > 0 ? descriptions.map((d) => d.evidence) : ['no study, series, protocol or procedure description']),
  ];
  return { kind: 'unconfirmed', lookedAt: lookedAt.join(', ') };
}
