// The analysis worker thread's entry when the service runs from its TypeScript sources (the
// tests): a thread loads JavaScript, and loading the build instead would test whatever dist/ held.
// Each .ts file is transpiled on require, as in the tests' child processes.
require('../../../test/support/ts-register.js');
module.exports = require('./analysis-worker.ts');
