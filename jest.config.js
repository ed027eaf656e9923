/** One Jest run for the whole repository; servers are started by the tests that need them. */
module.exports = {
  testEnvironment: '<rootDir>/test/support/node-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // One worker: the integration tests start servers on loopback ports, and with two workers a
  // service of one test file was seen answering another file's requests (fhir-backend-services
  // next to transient-failures); run apart, every file passes.
  maxWorkers: 1,
};
