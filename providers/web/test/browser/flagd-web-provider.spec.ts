/**
 * The official @openfeature/flagd-web-provider in real headless Chromium against the daemon: it
 * speaks Connect JSON over fetch to the evaluation port (flagd.evaluation.v1 ResolveAll, then
 * EventStream), so this checks the daemon's Connect and CORS handling as a browser meets them.
 */
import { Evaluator } from '@vexil/core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProcess } from '../../../../daemon/test/support/daemon-process.js';
import { buildPages, launchChromium, readFlags, serveStatic, waitForFlag, waitForStatus, writeAtomic } from './support/browser-harness.js';

const DEMO_FLAGS = readFileSync(new URL('../../../../examples/web/flags.json', import.meta.url), 'utf8');

describe('the official flagd web provider in Chromium, against the daemon', () => {
  let dir: string;
  let flagFile: string;
  let server: { origin: string; close(): Promise<void> };
  let daemon: DaemonProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vexil-flagd-web-'));
    flagFile = join(dir, 'flags.json');
    writeAtomic(flagFile, DEMO_FLAGS);
    const www = join(dir, 'www');
    mkdirSync(www);
    await buildPages(www);
    server = await serveStatic(www);
    browser = await launchChromium();
    daemon = await startDaemon(['-f', `file:${flagFile}`, '-C', server.origin]);
  }, 30_000);

  afterAll(async () => {
    await Promise.allSettled([browser?.close(), daemon?.stop(), server?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the flags with ResolveAll and follows a change announced on EventStream', async () => {
    const ev = new Evaluator();
    ev.setFlags(DEMO_FLAGS);
    // Both sides of the rollout, so a page that ignored the context could not pass.
    const visitors = ['visitor-a', 'visitor-b', 'visitor-c', 'visitor-d'];
    const on = visitors.find((v) => ev.resolveBoolean('welcome-banner', false, { targetingKey: v }).value);
    expect(on).toBeDefined();

    const page = await (browser as Browser).newPage();
    const url = (visitor: string) => `${server.origin}/flagd-web.html?host=127.0.0.1&port=${daemon?.ports.evaluation}&visitor=${visitor}`;
    await page.goto(url(on as string));
    await waitForStatus(page, 'READY');
    const flags = await readFlags(page);
    expect(flags['welcome-banner']).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    expect(flags['new-editor']).toMatchObject({ value: false, variant: 'off' });
    expect(flags['checkout-enabled']).toMatchObject({ value: true, variant: 'enabled' });

    const doc = JSON.parse(DEMO_FLAGS) as { flags: Record<string, { defaultVariant: string }> };
    doc.flags['checkout-enabled'].defaultVariant = 'killed';
    writeAtomic(flagFile, JSON.stringify(doc));
    await waitForFlag(page, 'checkout-enabled', false, 5_000);
    expect(Number(await page.getAttribute('body', 'data-config-changes'))).toBeGreaterThan(0);
    expect((await readFlags(page))['checkout-enabled']).toMatchObject({ value: false, variant: 'killed' });

    const off = visitors.find((v) => !ev.resolveBoolean('welcome-banner', true, { targetingKey: v }).value) as string;
    await page.goto(url(off));
    await waitForStatus(page, 'READY');
    expect((await readFlags(page))['welcome-banner']).toMatchObject({ value: false, variant: 'off' });
    await page.close();
  });
});
