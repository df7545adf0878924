/**
 * Bundles the demo page with esbuild: examples/web/app.js → dist/app.js, and copies index.html.
 * Needs the workspace built first (`npm run build`): the page imports @vexil/web-provider's dist.
 *
 *   node examples/web/build.mjs [outdir]
 *
 * The browser tests (providers/web/test/browser) call buildDemo() into a temporary directory.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEMO_DIR = fileURLToPath(new URL('.', import.meta.url));
const PROVIDER_DIST = fileURLToPath(new URL('../../providers/web/dist/index.js', import.meta.url));

/** Writes `app.js` (+ source map) and `index.html` into `outdir`; resolves with the bundle's size in bytes. */
export async function buildDemo(outdir = join(DEMO_DIR, 'dist')) {
  if (!existsSync(PROVIDER_DIST)) throw new Error(`${PROVIDER_DIST} is missing: run \`npm run build\` at the repository root first`);
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, 'app.js');
  await build({
    entryPoints: [join(DEMO_DIR, 'app.js')],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  copyFileSync(join(DEMO_DIR, 'index.html'), join(outdir, 'index.html'));
  return { outdir, bytes: statSync(outfile).size };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outdir, bytes } = await buildDemo(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`wrote ${join(outdir, 'index.html')} and app.js (${bytes} bytes)`);
}
