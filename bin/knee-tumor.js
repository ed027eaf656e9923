#!/usr/bin/env node
// The command-line entry. `npm ci` compiles the TypeScript into dist/ (the prepare script).
const { main } = require('../dist/server/src/cli/main.js');

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`knee-tumor: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
