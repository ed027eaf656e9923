/**
 * Imports run one way (dependency-cruiser configuration; `npm run check:imports`, run by the test
 * script before Jest). The data flows trigger -> jobs -> pipeline (locate, fetch, decode, detect,
 * decide) -> results (server/src/results/: the result writers, FHIR first, over the FHIR client of
 * server/src/fhir/) -> hooks and viewer; each layer below imports only from layers below it.
 * The HTTP edges (triggers, viewer, CDS hooks) never import each other; the CDS Hooks service sees
 * only the core, the domain, our FHIR profile modules and the job store's interfaces, the rest comes
 * in through createCdsRouter's deps. The client shares only neutral modules with the server.
 */
const core = '^server/src/(errors|log|http|transport|config|validation-issues|jwt-algorithms)\\.ts$';
const LAYERS = [
  ['core', [core]],
  ['domain', ['^server/src/domain/', '^fhir-profiles/']],
  ['images and credentials', ['^server/src/(imaging|model|credentials)/', '^models/phantoms/']],
  ['dicom', ['^server/src/dicom/']],
  ['dicomweb', ['^server/src/dicomweb/']],
  ['sources', ['^server/src/sources/']],
  ['pipeline', ['^server/src/pipeline/']],
  ['fhir', ['^server/src/fhir/']],
  ['results', ['^server/src/results/']],
  ['jobs', ['^server/src/jobs/']],
  ['edges', ['^server/src/(triggers|viewer)/', '^cds-hooks/']],
  ['composition', ['^server/src/(ops)/', '^server/src/(app|service|main)\\.ts$']],
  ['tools', ['^server/src/(cli|bench|demo|evaluation|training-set)/']],
];

const either = (patterns) => `(${patterns.join('|')})`;

const upward = LAYERS.slice(0, -1).map(([name, from], i) => ({
  name: `no-upward-from-${name.replace(/ /g, '-')}`,
  comment: `${name} imports only from the layers below it`,
  severity: 'error',
  from: { path: either(from) },
  to: { path: either(LAYERS.slice(i + 1).flatMap(([, to]) => to)) },
}));

const edges = ['^server/src/triggers/', '^server/src/viewer/', '^cds-hooks/'];
const siblings = edges.map((edge) => ({
  name: `edges-apart-${edge.replace(/[^a-z-]/g, '')}`,
  comment: 'the HTTP edges (triggers, viewer, CDS hooks) do not import each other',
  severity: 'error',
  from: { path: edge },
  to: { path: either(edges.filter((e) => e !== edge)) },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...upward,
    ...siblings,
    {
      name: 'cds-hooks-sees-its-deps',
      comment: 'cds-hooks imports the core, the domain, fhir-profiles and the job store interfaces only',
      severity: 'error',
      from: { path: '^cds-hooks/' },
      to: { path: '^server/src/', pathNot: either([core, '^server/src/domain/', '^server/src/jobs/(store|feedback-store)\\.ts$']) },
    },
    {
      name: 'client-shares-neutral-modules',
      comment: 'the browser app imports from the server only the domain, the error codes and fhir-profiles',
      severity: 'error',
      from: { path: '^client/src/' },
      to: { path: '^(server|cds-hooks|models)/', pathNot: either(['^server/src/domain/', '^server/src/errors\\.ts$']) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|test|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
