// Builds the SMART viewer app into dist/client: the two pages' bundles (ES modules, with lit and
// fhirclient inside) and the static files beside them. The server serves that folder under /app.
const { cpSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist/client');
mkdirSync(out, { recursive: true });
cpSync(path.join(root, 'client/public'), out, { recursive: true });
esbuild.buildSync({
  entryPoints: { main: path.join(root, 'client/src/main.ts'), launch: path.join(root, 'client/src/launch.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  tsconfig: path.join(root, 'client/tsconfig.json'),
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
