/**
 * Study → its AP and lateral radiographs, from DICOM attributes only: ViewPosition, then the
 * View Code Sequence, SeriesDescription and ProtocolName as fallbacks; laterality from
 * ImageLaterality or Laterality. The study is analysed only when the knee is confirmed: by the
 * images' attributes (knee-confirmation.ts), by the order the study was made for, or by a site
 * that accepts unconfirmed studies (then flagged). Only radiographs by Modality and SOP Class are
 * views; the two chosen must be one patient's and one study's, and no two images may share a SOP
 * Instance UID. A study that does not fit the method is refused with a typed reason; one that fits
 * but whose labels are ambiguous is analysed and flagged.
 */
import { isKneeTumorError, KneeTumorError } from '../errors';
import type { AnalysisFlag, Laterality, ViewName } from '../domain/analysis';
import { VIEW_NAMES } from '../domain/analysis';
import { describeNonRadiograph, isRadiograph, RADIOGRAPH_MODALITIES } from '../dicom/radiograph';
import type { ViewCandidate } from '../domain/view-candidate';
import type { StudySource } from '../sources/study-source';
import { descriptionWords, readBodyPart, type BodyPartReading } from './knee-confirmation';

export interface LocatedView {
  view: ViewName;
  candidate: ViewCandidate;
  laterality?: Laterality;
  /** The attribute that decided the view, e.g. "ViewPosition AP". */
  evidence: string;
}

/** What confirmed that the study shows a knee, e.g. by 'dicom-attributes', "SeriesDescription 'Knie a.p.'". */
export interface KneeConfirmation {
  by: 'dicom-attributes' | 'order' | 'site-setting';
  evidence: string;
}

export interface LocatedStudy {
  studyInstanceUid: string;
  patientId?: string;
  views: Record<ViewName, LocatedView>;
  flags: AnalysisFlag[];
  knee: KneeConfirmation;
}

/** What is known of the study besides its images: the EHR's order for it. */
export interface StudyOrderContext {
  /** The order the study was made for, when it is a knee radiograph order, e.g. "ServiceRequest/12 (XR Knee 2 Views)". */
  kneeOrder?: string;
}

export interface KneePolicy extends StudyOrderContext {
  /** The site's setting analysis.acceptUnconfirmedBodyPart: analyse (and flag) a study nothing confirms as a knee. */
  acceptUnconfirmedBodyPart?: boolean;
}

const ACCEPT_SETTING = 'analysis.acceptUnconfirmedBodyPart (--accept-unconfirmed-body-part)';

const VIEW_LABEL: Record<ViewName, string> = { AP: 'AP', LATERAL: 'lateral' };

const FRONTAL_POSITIONS = new Set(['AP', 'PA']);
const LATERAL_POSITIONS = new Set(['LL', 'RL', 'LAT', 'LATERAL', 'ML', 'LM', 'XTABLE']);
const FRONTAL_WORDS = new Set(['AP', 'PA', 'FRONTAL', 'ANTEROPOSTERIOR', 'POSTEROANTERIOR', 'ANTERO', 'POSTERO']);
const LATERAL_WORDS = new Set(['LAT', 'LATERAL', 'LL', 'RL', 'ML', 'LM', 'MEDIOLATERAL', 'LATEROMEDIAL', 'MEDIO', 'LATERO', 'CROSSTABLE']);
/** DICOM CID 4010 view codes (SNOMED RT ids as DICOM still lists them, and SNOMED CT). */
const FRONTAL_CODES = new Set(['R-10206', 'R-10214', '399348003', '399182000']);
const LATERAL_CODES = new Set(['R-10232', 'R-10236', 'R-102CD', 'R-102CF', '399260004', '399352003', '399368009']);

type Evidence = { view: ViewName; evidence: string; primary: boolean };

function viewFromWords(text: string | undefined): ViewName | 'both' | undefined {
  const tokens = descriptionWords(text);
  const frontal = tokens.some((t) => FRONTAL_WORDS.has(t));
  const lateral = tokens.some((t) => LATERAL_WORDS.has(t));
  if (frontal && lateral) return 'both';
  return frontal ? 'AP' : lateral ? 'LATERAL' : undefined;
}

function viewFromCodes(candidate: ViewCandidate): ViewName | undefined {
  for (const code of candidate.viewCodes) {
    if (code.value && FRONTAL_CODES.has(code.value)) return 'AP';
    if (code.value && LATERAL_CODES.has(code.value)) return 'LATERAL';
    const fromMeaning = viewFromWords(code.meaning);
    if (fromMeaning === 'AP' || fromMeaning === 'LATERAL') return fromMeaning;
  }
  return undefined;
}

/** Every view the attributes point to, strongest first. */
function viewEvidence(candidate: ViewCandidate): Evidence[] {
  const found: Evidence[] = [];
  const position = candidate.viewPosition?.trim().toUpperCase();
  if (position && FRONTAL_POSITIONS.has(position)) found.push({ view: 'AP', evidence: `ViewPosition ${position}`, primary: true });
  if (position && LATERAL_POSITIONS.has(position)) found.push({ view: 'LATERAL', evidence: `ViewPosition ${position}`, primary: true });
  const coded = viewFromCodes(candidate);
  if (coded) found.push({ view: coded, evidence: 'View Code Sequence', primary: false });
  for (const [attribute, text] of [
    ['SeriesDescription', candidate.seriesDescription],
    ['ProtocolName', candidate.protocolName],
  ] as const) {
    const view = viewFromWords(text);
    if (view === 'AP' || view === 'LATERAL') found.push({ view, evidence: attribute, primary: false });
  }
  return found;
}

function laterality(candidate: ViewCandidate): Laterality | undefined {
  const value = (candidate.imageLaterality ?? candidate.laterality)?.trim().toUpperCase();
  return value === 'L' || value === 'R' || value === 'B' ? value : undefined;
}

function byPosition(a: ViewCandidate, b: ViewCandidate): number {
  return (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) || (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0);
}

function summarise(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}

/** Each SOP Instance UID that more than one image of the study carries, with how many do. */
function repeatedInstances(candidates: ViewCandidate[]): number[] {
  const counts = new Map<string, number>();
  for (const c of candidates) counts.set(c.instance.sopInstanceUid, (counts.get(c.instance.sopInstanceUid) ?? 0) + 1);
  return [...counts.values()].filter((n) => n > 1);
}

/** A person name compared by its alphabetic group and components, ignoring case, spacing and empty trailing components. */
function personName(name: string | undefined): string | undefined {
  const components = name?.split('=')[0]?.split('^').map((c) => c.trim().toUpperCase());
  while (components?.length && !components[components.length - 1]) components.pop();
  return components?.length ? components.join('^') : undefined;
}

/** The attributes that make two views one patient's study; a patient attribute only where both views state it. */
const SAME_STUDY_ATTRIBUTES: { name: string; value: (c: ViewCandidate) => string | undefined; always?: true }[] = [
  { name: 'Study Instance UID', value: (c) => c.instance.studyInstanceUid, always: true },
  { name: 'Patient ID', value: (c) => c.patientId },
  { name: 'Issuer of Patient ID', value: (c) => c.issuerOfPatientId },
  { name: "Patient's Name", value: (c) => personName(c.patientName) },
  { name: "Patient's Birth Date", value: (c) => c.patientBirthDate },
  { name: "Patient's Sex", value: (c) => c.patientSex },
];

/** Two images with one SOP Instance UID are not one image: which of them a retrieval returns is unknown. */
function assertDistinctInstances(candidates: ViewCandidate[]): void {
  const repeated = repeatedInstances(candidates);
  if (repeated.length > 0) {
    throw new KneeTumorError(
      'study-inconsistent',
      `${repeated.reduce((a, b) => a + b, 0)} images of the study share ${repeated.length} SOP Instance UID(s); each image must have its own`,
    );
  }
}

/**
 * Refuses views that are not one study of one patient: an AP of one patient beside a lateral of
 * another would make the lateral's finding the first patient's. Names the attributes, never their values.
 */
function assertOneStudy(ap: ViewCandidate, lateral: ViewCandidate): void {
  const differing = SAME_STUDY_ATTRIBUTES.filter((attribute) => {
    const [a, b] = [attribute.value(ap), attribute.value(lateral)];
    const compared = attribute.always === true || (a !== undefined && b !== undefined);
    return compared && a !== b;
  }).map((attribute) => attribute.name);
  if (differing.length > 0) {
    throw new KneeTumorError('study-inconsistent', `the AP and lateral views differ in ${differing.join(', ')}: they are not one patient's study`);
  }
}

function otherPart(reading: Extract<BodyPartReading, { kind: 'other' }>): string {
  return reading.despite ? `${reading.evidence}, though ${reading.despite} names the knee` : reading.evidence;
}

/**
 * How the knee is confirmed for the study's radiographs that name no other part: by one of them
 * naming the knee, else by the order, else by the site's setting; otherwise the study is refused.
 */
function confirmKnee(readings: BodyPartReading[], policy: KneePolicy): KneeConfirmation {
  const named = readings.find((r) => r.kind === 'knee');
  if (named?.kind === 'knee') return { by: 'dicom-attributes', evidence: named.evidence };
  if (policy.kneeOrder) return { by: 'order', evidence: policy.kneeOrder };
  const lookedAt = [...new Set(readings.flatMap((r) => (r.kind === 'unconfirmed' ? [r.lookedAt] : [])))].join('; ');
  if (policy.acceptUnconfirmedBodyPart) return { by: 'site-setting', evidence: lookedAt };
  throw new KneeTumorError(
    'not-knee',
    `the knee is not confirmed: ${lookedAt}; no knee radiograph order is known for the study. A site that accepts such studies sets ${ACCEPT_SETTING}`,
  );
}

/** Picks the AP and lateral radiographs of one study, or refuses it with the reason. */
export function selectViews(studyInstanceUid: string, candidates: ViewCandidate[], policy: KneePolicy = {}): LocatedStudy {
  if (candidates.length === 0) throw new KneeTumorError('study-not-found', 'the study has no images');
  assertDistinctInstances(candidates);
  const radiographs = candidates.filter(isRadiograph);
  if (radiographs.length === 0) {
    const kinds = summarise(candidates.map(describeNonRadiograph));
    throw new KneeTumorError('not-radiograph', `the study holds no radiograph (${kinds}); the method needs CR or DX knee radiographs`);
  }
  // In series and instance order, so that the evidence named does not depend on the order the source lists images in.
  const bodyParts = [...radiographs].sort(byPosition).map((candidate) => ({ candidate, reading: readBodyPart(candidate) }));
  const compatible = bodyParts.filter((b) => b.reading.kind !== 'other');
  if (compatible.length === 0) {
    const parts = summarise(bodyParts.flatMap((b) => (b.reading.kind === 'other' ? [otherPart(b.reading)] : [])));
    throw new KneeTumorError('not-knee', `the radiographs show another body part (${parts}), not a knee`);
  }
  const knee = confirmKnee(compatible.map((b) => b.reading), policy);
  const kneeCompatible = compatible.map((b) => b.candidate);

  const flags: AnalysisFlag[] = [];
  const evidence = new Map(kneeCompatible.map((c) => [c, viewEvidence(c)]));
  for (const [candidate, found] of evidence) {
    const views = new Set(found.map((e) => e.view));
    if (views.size > 1) {
      flags.push({
        code: 'ambiguous-view-labels',
        message: `image ${candidate.instance.sopInstanceUid} has conflicting view labels (${found.map((e) => `${e.evidence}: ${VIEW_LABEL[e.view]}`).join('; ')}); the strongest was used`,
      });
    }
  }
  const chosen = new Map<ViewName, LocatedView>();
  for (const view of VIEW_NAMES) {
    const ranked = kneeCompatible
      .map((c) => ({ candidate: c, top: evidence.get(c)?.[0] }))
      .filter((r): r is { candidate: ViewCandidate; top: Evidence } => r.top?.view === view)
      .sort((a, b) => Number(b.top.primary) - Number(a.top.primary) || byPosition(a.candidate, b.candidate));
    const best = ranked[0];
    if (!best) continue;
    if (ranked.length > 1) {
      flags.push({
        code: 'multiple-candidates',
        message: `${ranked.length} images are labelled ${VIEW_LABEL[view]}; the first by series and instance number was used`,
      });
    }
    if (!best.top.primary) {
      flags.push({ code: 'view-from-fallback-attribute', message: `the ${VIEW_LABEL[view]} view was identified from ${best.top.evidence}, not ViewPosition` });
    }
    chosen.set(view, { view, candidate: best.candidate, laterality: laterality(best.candidate), evidence: best.top.evidence });
  }

  const missing = VIEW_NAMES.filter((v) => !chosen.has(v));
  const unlabelled = kneeCompatible.filter((c) => (evidence.get(c) ?? []).length === 0);
  const [onlyMissing] = missing;
  if (missing.length === 1 && onlyMissing && unlabelled.length === 1 && unlabelled[0]) {
    const candidate = unlabelled[0];
    chosen.set(onlyMissing, { view: onlyMissing, candidate, laterality: laterality(candidate), evidence: 'the only unlabelled radiograph' });
    flags.push({
      code: 'ambiguous-view-labels',
      message: `the ${VIEW_LABEL[onlyMissing]} view has no view label; the only unlabelled radiograph of the study was used`,
    });
  } else if (missing.length > 0) {
    const found = VIEW_NAMES.filter((v) => chosen.has(v)).map((v) => VIEW_LABEL[v]);
    // An image labelled CR or DX that is no radiograph by its SOP Class (a screenshot) may be what was meant for the view.
    const mislabelled = candidates.filter((c) => RADIOGRAPH_MODALITIES.has(c.modality) && !isRadiograph(c));
    throw new KneeTumorError(
      'view-missing',
      `the ${missing.map((v) => VIEW_LABEL[v]).join(' and the ')} view ${missing.length > 1 ? 'are' : 'is'} missing: the study has ${kneeCompatible.length} knee radiograph(s)${found.length ? ` (${found.join(', ')} found)` : ', none labelled AP or lateral'}` +
        (mislabelled.length > 0 ? `; it also holds ${summarise(mislabelled.map(describeNonRadiograph))}, not a radiograph SOP Class` : ''),
    );
  }

  const ap = chosen.get('AP');
  const lateral = chosen.get('LATERAL');
  if (!ap || !lateral) throw new KneeTumorError('internal', 'view selection left a view unassigned');
  if (ap.candidate === lateral.candidate) throw new KneeTumorError('view-missing', 'one image carries both view labels; the study needs two radiographs');
  assertOneStudy(ap.candidate, lateral.candidate);
  if (ap.laterality && lateral.laterality && ap.laterality !== lateral.laterality) {
    flags.push({ code: 'laterality-mismatch', message: `the AP view is marked ${ap.laterality} and the lateral view ${lateral.laterality}` });
  }
  if (knee.by === 'site-setting') {
    flags.push({
      code: 'body-part-unconfirmed',
      message: `the knee is not confirmed (${knee.evidence}); the images were analysed as knee radiographs because the site accepts such studies`,
    });
  } else if (knee.by === 'dicom-attributes') {
    for (const view of [ap, lateral]) {
      const reading = compatible.find((b) => b.candidate === view.candidate)?.reading;
      if (reading?.kind !== 'unconfirmed') continue;
      flags.push({
        code: 'body-part-unconfirmed',
        message: `the ${VIEW_LABEL[view.view]} view does not name the knee itself (${reading.lookedAt}); the study does (${knee.evidence})`,
      });
    }
  }
  return { studyInstanceUid, patientId: ap.candidate.patientId ?? lateral.candidate.patientId, views: { AP: ap, LATERAL: lateral }, flags, knee };
}

/** The study's views; a refusal is told by the source in terms of what it could not read, where that may be the cause. */
export async function locateStudy(source: StudySource, studyInstanceUid: string, policy: KneePolicy = {}): Promise<LocatedStudy> {
  try {
    return selectViews(studyInstanceUid, await source.listCandidates(studyInstanceUid), policy);
  } catch (error) {
    if (!isKneeTumorError(error) || !source.explainRefusal) throw error;
    throw await source.explainRefusal(error);
  }
}
