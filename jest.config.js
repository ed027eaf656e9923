/**
 * Two Jest projects; `npx jest` (npm test) runs both, `npm run test:unit` the first alone.
 *
 * unit: test files that start no server (not even supertest's or a loopback proxy), no child
 * process (Orthanc, the demo, `serve`, Python references), no worker thread, no browser: pure
 * functions and in-process logic, which need neither the build nor the Debian packages beyond
 * what `npm ci` brings; and that take seconds, so that the project stays under 2 minutes (the
 * phantom generator's checks and the out-of-domain checks over the shared radiographs take minutes
 * of CPU: they are integration). They are listed below by name; a new test file is integration
 * until it is listed, so that the fast loop never starts to need a service.
 * integration: every other test file.
 *
 * Two workers: every server the tests start takes its port at listen time (Orthanc, which must be
 * told its ports before it starts, starts again on others when one was taken meanwhile), so the
 * services of two test files running at once never answer each other's requests.
 */
const UNIT = [
  'app/box-layout',
  'bench/gpu-report',
  'cds-hooks/jti-cache',
  'cds-hooks/scoping-rules',
  'credentials/token-cache',
  'detect/degenerate-boxes',
  'detect/ensemble',
  'detect/merge-boxes',
  'evaluation/inputs',
  'evaluation/matching',
  'evaluation/published',
  'fhir/profiles',
  'fhir/to-fhir',
  'imaging/annotated-png',
  'integrity/plausibility',
  'jobs/sqlite-store',
  'locate/knee-confirmation',
  'locate/part10-attributes',
  'locate/select-views',
  'models/out-of-domain-result',
  'ops/backup',
  'phantoms/samples',
  'pixels/codecs',
  'pixels/decode',
  'pixels/luts',
  'pixels/presentation-lut',
  'service/thread-stop',
  'training/image-folder-import',
  'training/training-set',
].map((name) => `<rootDir>/test/${name}.test.ts`);

const shared = {
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    { ...shared, displayName: 'unit', testMatch: UNIT },
    { ...shared, displayName: 'integration', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', ...UNIT.map((file) => file.replace(/\./g, '\\.'))] },
  ],
};
