/**
 * The demo EHR's chart: a patient list, and a patient's chart that calls our patient-view hook as
 * an EHR does (signed JWT, prefetch filled from its FHIR server) and shows the cards. A card's
 * SMART link goes through /ehr/launch, which registers the launch context (patient, study,
 * appContext) with the authorization server and opens the app with `launch` and `iss`. Beside each
 * card the chart shows the study's reference standard, which only a demo of synthetic phantoms
 * has, so that a viewer can judge the model's answer.
 */
import { randomUUID } from 'node:crypto';
import express, { type Request, type Router } from 'express';
import type { Bundle, ImagingStudy, Patient } from 'fhir/r4';
import { PREFETCH, resolveTemplate } from '../../../cds-hooks/patient-data';
import type { Card } from '../../../cds-hooks/types';
import type { LesionKind } from '../../../models/phantoms/lesions';
import type { ViewName } from '../domain/analysis';
import type { ReferencePatient } from '../domain/reference';
import type { FhirEngine } from '../fhir/memory-engine';
import type { AuthorizationServer } from './authorization-server';
import type { CdsSigner } from './cds-signer';

export interface EhrDeps {
  fhir: FhirEngine;
  fhirBaseUrl: string;
  /** Our CDS service's public base URL. */
  serviceBaseUrl: string;
  auth: AuthorizationServer;
  signer: CdsSigner;
  /** The phantoms' reference standard by StudyInstanceUID (the demo's ground truth). */
  references: ReadonlyMap<string, ReferencePatient>;
  /** The chart's user, the hooks' `userId` (e.g. "Practitioner/demo-clinician"). */
  user: string;
}

const HOOK_SERVICE = 'knee-tumor-patient-view';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Card detail is markdown; the chart shows its paragraphs as plain text (no HTML from a service). */
function paragraphs(markdown: string | undefined): string {
  return (markdown ?? '')
    .split(/\n\n+/)
    .map((p) => `<p>${escape(p.replace(/\*\*|(^_|_$)/g, ''))}</p>`)
    .join('');
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} – Demo EHR</title><link rel="stylesheet" href="/ehr/ehr.css"></head>
<body><header class="ehr-bar">Demo EHR <small>(sample patients, not real data)</small></header><main>${body}</main></body></html>`;
}

function patientName(p: Patient): string {
  const n = p.name?.[0];
  return n?.text ?? [n?.given?.join(' '), n?.family].filter(Boolean).join(' ');
}

const CSS = `body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1b1e21;background:#f4f5f7}
.ehr-bar{background:#243447;color:#fff;padding:.6rem 1rem;font-weight:600}main{max-width:60rem;margin:1rem auto;padding:0 1rem}
a{color:#0b57d0}a:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.card{background:#fff;border:1px solid #c4c9cf;border-left-width:8px;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}
.card.warning{border-left-color:#b35c00}.card.info{border-left-color:#0b57d0}.card.critical{border-left-color:#b00020}
.indicator{font-weight:700;text-transform:uppercase;font-size:.85rem}.source{color:#4a5360;font-size:.9rem}
.reference{background:#fffbe6;border:2px dashed #8a6d00;border-radius:6px;padding:.5rem 1rem;margin:-.25rem 0 1.25rem 2rem}
.reference p{margin:.25rem 0}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #c4c9cf;padding:.3rem .6rem;text-align:left}`;

export function createEhrRouter(deps: EhrDeps): Router {
  const router = express.Router();
  const search = async <T>(query: string): Promise<T[]> => ((await deps.fhir.handle('GET', query, undefined)).body as Bundle).entry?.map((e) => e.resource as T) ?? [];

  router.get('/ehr/ehr.css', (_req, res) => {
    res.type('text/css').send(CSS);
  });

  router.get('/ehr', async (_req, res, next) => {
    try {
      const patients = await search<Patient>('Patient?_sort=family');
      const items = patients.map((p) => `<li><a href="/ehr/patients/${p.id}">${escape(patientName(p))}</a>, born ${escape(p.birthDate ?? '?')}</li>`);
      res.type('html').send(page('Patients', `<h1>Patients</h1><ul>${items.join('')}</ul>`));
    } catch (error) {
      next(error);
    }
  });

  router.get('/ehr/patients/:id', async (req: Request, res, next) => {
    try {
      const id = String(req.params.id);
      const patient = (await deps.fhir.handle('GET', `Patient/${encodeURIComponent(id)}`, undefined)).body as Patient;
      if (patient.resourceType !== 'Patient') {
        res.status(404).type('html').send(page('Not found', '<h1>No such patient</h1><p><a href="/ehr">All patients</a></p>'));
        return;
      }
      const studies = await search<ImagingStudy>(`ImagingStudy?patient=Patient/${id}&_sort=-started`);
      const cards = await callPatientView(deps, id);
      const mrn = patient.identifier?.[0]?.value;
      const rows = studies.map((s) => `<tr><td>${escape(s.started?.slice(0, 10) ?? '')}</td><td>${escape(s.description ?? '')}</td></tr>`).join('');
      const body = `<p><a href="/ehr">All patients</a></p><h1>${escape(patientName(patient))}</h1>
<p>Born ${escape(patient.birthDate ?? '?')}, ${escape(patient.gender ?? '')}${mrn ? `, MRN ${escape(mrn)}` : ''}</p>
<h2>Decision support</h2>${cards.length ? cards.map((c) => renderCard(c, id) + renderReference(c, deps.references)).join('') : '<p>No cards.</p>'}
<h2>Imaging</h2><table><thead><tr><th>Date</th><th>Study</th></tr></thead><tbody>${rows}</tbody></table>`;
      res.type('html').send(page(patientName(patient), body));
    } catch (error) {
      next(error);
    }
  });

  router.get('/ehr/launch', (req: Request, res) => {
    const { patient, appContext, url } = req.query;
    if (typeof patient !== 'string' || typeof url !== 'string' || !url.startsWith(deps.serviceBaseUrl)) {
      res.status(400).type('text').send('A launch needs a patient and one of our apps.');
      return;
    }
    const context = typeof appContext === 'string' ? appContext : undefined;
    const study = context ? (JSON.parse(context) as { imagingStudy?: unknown }).imagingStudy : undefined;
    const launch = deps.auth.registerLaunch({ patient, appContext: context, imagingStudy: typeof study === 'string' ? study : undefined });
    const target = new URL(url);
    target.searchParams.set('launch', launch);
    target.searchParams.set('iss', deps.fhirBaseUrl);
    res.redirect(target.href);
  });
  return router;
}

async function callPatientView(deps: EhrDeps, patientId: string): Promise<Card[]> {
  const prefetch: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(PREFETCH)) {
    prefetch[key] = (await deps.fhir.handle('GET', resolveTemplate(template, { patientId }), undefined)).body;
  }
  const endpoint = `${deps.serviceBaseUrl}/cds-services/${HOOK_SERVICE}`;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await deps.signer.token(endpoint)}` },
    body: JSON.stringify({ hook: 'patient-view', hookInstance: randomUUID(), fhirServer: deps.fhirBaseUrl, context: { userId: deps.user, patientId }, prefetch }),
  });
  if (!response.ok) throw new Error(`the CDS service answered HTTP ${response.status}`);
  return ((await response.json()) as { cards: Card[] }).cards;
}

function renderCard(card: Card, patientId: string): string {
  const links = (card.links ?? [])
    .map((l) => {
      const href =
        l.type === 'smart'
          ? `/ehr/launch?${new URLSearchParams({ patient: patientId, url: l.url, ...(l.appContext ? { appContext: l.appContext } : {}) }).toString()}`
          : l.url;
      return `<p><a href="${escape(href)}">${escape(l.label)}</a></p>`;
    })
    .join('');
  return `<section class="card ${escape(card.indicator)}" aria-label="Decision support card">
<div class="indicator">${card.indicator === 'warning' ? '⚠ Warning' : card.indicator === 'critical' ? '‼ Critical' : 'ℹ Info'}</div>
<h3>${escape(card.summary)}</h3>${paragraphs(card.detail)}${links}
<p class="source">Source: ${escape(card.source.label)}</p></section>`;
}

const VIEW_WORDS: Record<ViewName, string> = { AP: 'AP', LATERAL: 'lateral' };
const KIND_WORDS: Record<LesionKind, string> = {
  'bone-cyst': 'bone cyst',
  'non-ossifying-fibroma': 'non-ossifying fibroma',
  'giant-cell-tumor': 'giant cell tumor',
  enchondroma: 'enchondroma',
  osteosarcoma: 'osteosarcoma',
};

/** A phantom's reference standard in words: the lesion, and its box on each view that shows it. */
function referenceFinding(reference: ReferencePatient): string {
  if (!reference.tumor) return 'no tumor';
  const kind = String(reference.attributes?.lesionKind ?? 'lesion');
  const size = reference.attributes?.lesionSizeMm;
  const lesion = `tumor (${KIND_WORDS[kind as LesionKind] ?? kind}${typeof size === 'number' ? `, ${Math.round(size)} mm` : ''})`;
  const views = reference.images.flatMap((image) =>
    image.boxes.map((b) => `the ${VIEW_WORDS[image.view]} view (box x ${Math.round(b.x)}, y ${Math.round(b.y)}, ${Math.round(b.width)} × ${Math.round(b.height)} px)`),
  );
  return views.length ? `${lesion} on ${views.join(' and ')}` : `${lesion}, seen on neither view`;
}

function cardStudy(card: Card): string | undefined {
  const context = card.links?.find((l) => l.type === 'smart' && l.appContext)?.appContext;
  const uid = context ? (JSON.parse(context) as { studyInstanceUid?: unknown }).studyInstanceUid : undefined;
  return typeof uid === 'string' ? uid : undefined;
}

/** The reference of the card's study, set apart from the card: an EHR has no such thing. */
function renderReference(card: Card, references: ReadonlyMap<string, ReferencePatient>): string {
  const uid = cardStudy(card);
  const reference = uid ? references.get(uid) : undefined;
  if (!uid || !reference) return '';
  return `<aside class="reference" data-study="${escape(uid)}" aria-label="Demo reference standard">
<p><strong>Reference (synthetic phantom):</strong> ${escape(referenceFinding(reference))}</p>
<p class="source">The demo's ground truth, known only because its radiographs are synthetic phantoms; a real EHR has no such line. Compare it with the card above.</p></aside>`;
}
