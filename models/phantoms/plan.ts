/**
 * Everything drawn at random for one patient before any pixel is made: who they are, where and
 * on which device they were imaged, the build of their knee, the lesion if any, and how each view
 * was positioned and exposed. One patient's plan depends only on (seed, index), so patients can
 * be generated in any order or in parallel and still come out identical.
 */
import { drawKneeBuild, kneeBones, physisLevels, type KneeBuild, type ViewKind } from './anatomy';
import { type Center, type Device, drawCenter, drawDevice } from './devices';
import type { DetectorSettings } from './detector';
import { type Frame, rotateFrame, viewFrame } from './frame';
import { drawLesion, drawLesionKind, KIND_AGES, type Lesion } from './lesions';
import { hashSeed, Rng, uid } from './random';

export interface PhantomOptions {
  /** Image width and height in pixels (both views). */
  width: number;
  height: number;
  /** Probability that a patient has a tumor. */
  tumorFraction: number;
}

export const DEFAULT_OPTIONS: PhantomOptions = { width: 1100, height: 1400, tumorFraction: 0.25 };

export interface ViewPlan {
  view: ViewKind;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  seriesNumber: number;
  /** DICOM ViewPosition as the device writes it. */
  viewPosition: string;
  spacingMm: number;
  /** Pixel → knee frame for the femur, patella and soft tissue; and for the tibia and fibula. */
  frame: Frame;
  tibiaFrame: Frame;
  detector: DetectorSettings;
  markerMirrored: boolean;
  markerHolder: boolean;
  markerSizeMm: number;
  /** Trabecular contrast and strut spacing (mm): both vary with bone quality and plate sharpness. */
  trabecularContrast: number;
  strutMm: number;
  acquisitionTime: string;
}

export interface PatientPlan {
  seed: number;
  index: number;
  patientId: string;
  patientName: string;
  sex: 'M' | 'F';
  ageYears: number;
  birthDate: string;
  studyDate: string;
  studyTime: string;
  accessionNumber: string;
  studyInstanceUid: string;
  laterality: 'L' | 'R';
  center: Center;
  device: Device;
  build: KneeBuild;
  habitus: number;
  lesion?: Lesion;
  views: [ViewPlan, ViewPlan];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A date as DICOM DA, in UTC so that the result is the same everywhere. */
function dicomDate(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
}

/** `days` after 2015-01-01 as DICOM DA. */
function dayAsDicomDate(days: number): string {
  return dicomDate(new Date(Date.UTC(2015, 0, 1) + days * 86400000));
}

function drawAge(rng: Rng, center: Center, lesion: Lesion['kind'] | undefined): number {
  if (lesion) {
    const [lo, hi] = KIND_AGES[lesion];
    return rng.int(lo, hi);
  }
  return rng.chance(center.youngShare) ? rng.int(6, 17) : rng.int(18, 85);
}

function drawDetector(rng: Rng, device: Device): DetectorSettings {
  const [slope, intercept] = rng.chance(0.75) ? (device.rescale[0] ?? [1, 0]) : rng.pick(device.rescale);
  return {
    bitsStored: rng.pick(device.bitsStored),
    photometric: rng.chance(device.monochrome1) ? 'MONOCHROME1' : 'MONOCHROME2',
    rescaleSlope: slope,
    rescaleIntercept: intercept,
    noise: rng.uniform(device.noise[0], device.noise[1]),
    scatter: rng.uniform(0.15, 0.45),
    scatterRadiusMm: rng.uniform(25, 60),
    heel: rng.uniform(-0.12, 0.12),
    collimation: {
      left: rng.uniform(0, 0.1),
      right: rng.uniform(0, 0.1),
      top: rng.uniform(0, 0.06),
      bottom: rng.uniform(0, 0.06),
      angle: rng.uniform(-0.02, 0.02),
    },
    outside: device.outside,
    windowFloor: rng.uniform(0.08, 0.22),
    windowHeadroom: rng.uniform(-0.02, 0.08),
  };
}

/** Seconds of the day as DICOM TM (HHMMSS). */
function dicomTime(seconds: number): string {
  return `${pad(Math.floor(seconds / 3600), 2)}${pad(Math.floor(seconds / 60) % 60, 2)}${pad(seconds % 60, 2)}`;
}

/** Each series is acquired 45 s after the one before it. */
function acquisitionTime(studySeconds: number, seriesNumber: number): string {
  return dicomTime(studySeconds + seriesNumber * 45);
}

function drawView(rng: Rng, view: ViewKind, options: PhantomOptions, build: KneeBuild, laterality: 'L' | 'R', device: Device, seriesNumber: number, studySeconds: number, level: number): ViewPlan {
  const fovWidth = rng.uniform(175, 235) * Math.max(0.85, build.scale);
  const spacingMm = Math.round((fovWidth / options.width) * 10000) / 10000;
  // the lateral side of a right knee is on the image's left on an AP; anterior to the right on a lateral
  const mirror = view === 'AP' ? laterality === 'R' : laterality === 'L';
  // the technologist centres both views on the joint: the level differs by a few millimetres only
  const origin = { x: rng.uniform(-12, 12) + (view === 'LATERAL' ? -6 : 0), y: level + rng.uniform(-4, 4) };
  const frame = viewFrame(spacingMm, options.width / 2, options.height / 2, origin, rng.uniform(-0.05, 0.05), mirror);
  const s = build.scale;
  const tibiaFrame =
    view === 'LATERAL'
      ? rotateFrame(frame, -10 * s, -20 * s, -build.flexion)
      : rotateFrame(frame, 0, 0, rng.uniform(-0.05, 0.05));
  const lateralPositions = ['LL', 'RL', 'LAT'];
  return {
    view,
    seriesInstanceUid: uid(rng),
    sopInstanceUid: uid(rng),
    seriesNumber,
    viewPosition: view === 'AP' ? 'AP' : rng.pick(lateralPositions),
    spacingMm,
    frame,
    tibiaFrame,
    detector: drawDetector(rng, device),
    markerMirrored: rng.chance(0.15),
    markerHolder: rng.chance(0.5),
    markerSizeMm: rng.uniform(9, 15),
    trabecularContrast: rng.uniform(0.5, 0.9),
    strutMm: rng.uniform(0.7, 1.1),
    acquisitionTime: acquisitionTime(studySeconds, seriesNumber),
  };
}

export function planPatient(seed: number, index: number, options: PhantomOptions): PatientPlan {
  const rng = new Rng(hashSeed(seed, index, 0x6b6e6565));
  const ids = rng.fork(1);
  const who = rng.fork(2);
  const center = drawCenter(who);
  const device = drawDevice(who, center);
  const tumor = who.chance(options.tumorFraction);
  const kind = tumor ? drawLesionKind(who) : undefined;
  const ageYears = drawAge(who, center, kind);
  const sex = who.chance(0.5) ? 'M' : 'F';
  const laterality = who.chance(0.5) ? 'L' : 'R';
  const build = drawKneeBuild(rng.fork(3), ageYears, sex);
  const habitus = who.uniform(0.85, 1.25);
  const lesion = kind
    ? drawLesion(
        rng.fork(4),
        kind,
        {
          femurAp: kneeBones(build, 'AP')[0]!,
          tibiaAp: kneeBones(build, 'AP')[1]!,
          femurLateral: kneeBones(build, 'LATERAL')[0]!,
          tibiaLateral: kneeBones(build, 'LATERAL')[1]!,
          scale: build.scale,
        },
        physisLevels(build),
      )
    : undefined;
  const studyDay = who.int(0, 3650);
  const studySeconds = who.int(7 * 3600, 19 * 3600);
  const geometry = rng.fork(5);
  const level = geometry.uniform(-35, 30);
  const views: [ViewPlan, ViewPlan] = [
    drawView(geometry, 'AP', options, build, laterality, device, 1, studySeconds, level),
    drawView(geometry, 'LATERAL', options, build, laterality, device, 2, studySeconds, level),
  ];
  const number = `${pad(seed % 100000, 5)}${pad(index, 6)}`;
  return {
    seed,
    index,
    patientId: `PHANTOM-${pad(seed % 100000, 5)}-${pad(index, 6)}`,
    patientName: `PHANTOM^KNEE^${pad(index, 6)}`,
    sex,
    ageYears,
    birthDate: dayAsDicomDate(studyDay - Math.round(ageYears * 365.25) - who.int(0, 364)),
    studyDate: dayAsDicomDate(studyDay),
    studyTime: dicomTime(studySeconds),
    accessionNumber: `SYN${number}`.slice(0, 16),
    studyInstanceUid: uid(ids),
    laterality,
    center,
    device,
    build,
    habitus,
    lesion,
    views,
  };
}

/** Who the patient is and when they were imaged: none of it changes a pixel. */
export interface PatientIdentity {
  patientId: string;
  /** DICOM PN, family^given. */
  patientName: string;
  /** DICOM DA. */
  birthDate: string;
  /** Start of the study (its UTC date and time are written). */
  studyStarted: Date;
}

/**
 * The plan under another identity (the demo EHR's sample patients). Age and sex stay the plan's,
 * since they shaped the knee: the caller picks a plan whose age on the study date and sex fit.
 */
export function withIdentity(plan: PatientPlan, who: PatientIdentity): PatientPlan {
  const start = who.studyStarted;
  const studySeconds = start.getUTCHours() * 3600 + start.getUTCMinutes() * 60 + start.getUTCSeconds();
  const [ap, lateral] = plan.views;
  return {
    ...plan,
    patientId: who.patientId,
    patientName: who.patientName,
    birthDate: who.birthDate,
    studyDate: dicomDate(start),
    studyTime: dicomTime(studySeconds),
    views: [
      { ...ap, acquisitionTime: acquisitionTime(studySeconds, ap.seriesNumber) },
      { ...lateral, acquisitionTime: acquisitionTime(studySeconds, lateral.seriesNumber) },
    ],
  };
}
