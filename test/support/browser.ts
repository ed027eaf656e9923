/**
 * Debian's Chromium for the browser tests (the flags STACK.md names: headless, no sandbox as root,
 * nothing fetched from the network on its own), and a client component bundled for a page.
 */
import * as path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const CLIENT_SRC = path.resolve(__dirname, '../../client/src');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** `entry` (TypeScript resolved from client/src, e.g. an import of a component and a window hook) as one ES module for a page. */
export async function bundleForPage(entry: string): Promise<string> {
  const built = await build({
    stdin: { contents: entry, resolveDir: CLIENT_SRC, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    tsconfig: path.join(CLIENT_SRC, '../tsconfig.json'),
    logLevel: 'silent',
  });
  return built.outputFiles[0]?.text ?? '';
}
