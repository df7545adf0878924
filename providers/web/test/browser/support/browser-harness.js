/**
 * What the browser tests (../*.spec.ts) and the web benchmark (bench/src/web-bench.js) share:
 * launching Debian's Chromium through playwright-core (never a downloaded browser), bundling the
 * pages, serving them, reading what a page rendered from its data attributes, and the
 * change-to-page latency measurement.
 *
 * Plain JavaScript with a .d.ts beside it, so that the benchmark (plain Node) can import it too.
 * Functions passed to page.evaluate / waitForFunction run in the page; they live here because the
 * tests are type-checked without the DOM library.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildDemo } from '../../../../../examples/web/build.mjs';
import { serveStatic } from '../../../../../examples/web/serve.mjs';
import { CHROMIUM_PATH } from '../../../../../scripts/prerequisites.mjs';

export { serveStatic };

export { CHROMIUM_PATH };
const PAGES_DIR = fileURLToPath(new URL('../pages/', import.meta.url));

/** Launches headless Chromium from CHROMIUM_PATH; fails with what to install when it is missing. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} not found: the browser tests drive Debian's Chromium (apt-get install chromium; ` +
        'CI installs it in .ci/run). playwright-core never downloads a browser here.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Bundles into `outdir`: the demo (index.html, app.js, with examples/web/build.mjs) and the
 * official flagd web provider's test page (flagd-web.html, flagd-web.js).
 */
export async function buildPages(outdir) {
  await buildDemo(outdir);
  await build({
    entryPoints: [join(PAGES_DIR, 'flagd-web.js')],
    outfile: join(outdir, 'flagd-web.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  copyFileSync(join(PAGES_DIR, 'flagd-web.html'), join(outdir, 'flagd-web.html'));
}

/** The demo page's URL on `origin` with its query parameters (daemon, mode, selector, visitor, grace, backoff, backoffMax). */
export function demoUrl(origin, params) {
  return `${origin}/index.html?${new URLSearchParams(params)}`;
}

/** Replaces `file` atomically (write a sibling, rename over it), as editors and config tools do. */
export function writeAtomic(file, text) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Milliseconds on the wall clock, as the page's performance.timeOrigin + performance.now(). */
export const wallMs = () => performance.timeOrigin + performance.now();

/** Every rendered flag row: key → { value, variant, reason, errorCode }. */
export function readFlags(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-flag]')].map((el) => [
        el.dataset.flag,
        { value: JSON.parse(el.dataset.value), variant: el.dataset.variant, reason: el.dataset.reason, errorCode: el.dataset.errorCode },
      ]),
    ),
  );
}

/** The status line: { status, message }. */
export function readStatus(page) {
  return page.evaluate(() => {
    const el = document.getElementById('status');
    return { status: el.dataset.status, message: el.dataset.message ?? '' };
  });
}

/** Waits until the status line shows one of `statuses`; resolves with { status, message }. */
export async function waitForStatus(page, statuses, timeout = 10_000) {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  try {
    await page.waitForFunction((w) => w.includes(document.getElementById('status')?.dataset.status), wanted, { timeout });
  } catch (err) {
    throw new Error(`status never became ${wanted.join(' or ')} within ${timeout} ms; it is ${JSON.stringify(await readStatus(page))}`, { cause: err });
  }
  return readStatus(page);
}

/**
 * Waits until flag `key` shows `value`; resolves with the wall-clock time of the render that
 * showed it (body[data-rendered-at], set by the demo page), or of the moment it was seen.
 */
export async function waitForFlag(page, key, value, timeout = 10_000) {
  const expected = JSON.stringify(value);
  try {
    const handle = await page.waitForFunction(
      ([k, v]) => {
        const row = document.querySelector(`[data-flag="${k}"]`);
        if (row?.dataset.value !== v) return 0;
        return Number(document.body.dataset.renderedAt) || performance.timeOrigin + performance.now();
      },
      [key, expected],
      { timeout },
    );
    return await handle.jsonValue();
  } catch (err) {
    throw new Error(`${key} never showed ${expected} within ${timeout} ms; the page shows ${JSON.stringify(await readFlags(page))}, status ${JSON.stringify(await readStatus(page))}`, { cause: err });
  }
}

/**
 * Change-to-page latency: `runs` times, rewrites `file` (atomically) with `docFor(i)`, which must
 * turn flag `key` to `valueFor(i)`, and waits for the open `page` to show it. One sample is from
 * the start of the write to the page's render that showed the new value (both on the wall clock
 * of this machine); `observedMs` adds the round trip until this process saw it.
 */
export async function measureChangeLatency(page, { file, key, docFor, valueFor, runs = 10, timeout = 5_000, pauseMs = 50 }) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const text = docFor(i);
    const writtenAt = wallMs();
    writeAtomic(file, text);
    const renderedAt = await waitForFlag(page, key, valueFor(i), timeout);
    const observedMs = wallMs() - writtenAt;
    // A render stamped before the write would mean the value was there already: the case is broken.
    if (renderedAt < writtenAt) throw new Error(`run ${i}: ${key} showed ${JSON.stringify(valueFor(i))} before the file was written`);
    samples.push({ ms: renderedAt - writtenAt, observedMs });
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return samples;
}

/** The median and the nearest-rank q-quantile, as every benchmark computes them. */
export { median, quantile } from '../../../../../bench/src/harness.js';
