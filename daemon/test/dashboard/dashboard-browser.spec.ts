/**
 * The dashboard in real headless Chromium (Debian's /usr/bin/chromium through playwright-core),
 * served by the real daemon process, writing through the real management API into a temp flag
 * file; an in-process server provider (VexilProvider over flagd.sync, through
 * @openfeature/server-sdk) watches from the application's side.
 *
 * Expected values are computed here with @vexil/core from the definitions each step must write
 * (written out below, not read back from the file), for a fixed population of users; the file is
 * checked to hold exactly those definitions. "Sees the change" is timed from the click that
 * makes it until every user's evaluation through the provider matches: < 1 s.
 */
import { OpenFeature, type Client, type EvaluationContext } from '@openfeature/server-sdk';
import { Evaluator } from '@vexil/core';
import { VexilProvider } from '@vexil/server-provider';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { CHROMIUM_PATH } from '../../../scripts/prerequisites.mjs';

/** The application's coded default: a flag the provider does not know, or a killed one, gives it. */
const CODED_DEFAULT = true;
const SEE_WITHIN_MS = 1_000;

type FlagDef = { state: string; variants: Record<string, unknown>; defaultVariant: string | null; targeting?: unknown; metadata?: Record<string, unknown> };
type FlagDoc = { metadata?: Record<string, unknown>; flags: Record<string, FlagDef> };

const INITIAL: FlagDoc = {
  metadata: { flagSetId: 'shop' },
  flags: {
    'legacy-banner': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'on',
      metadata: { owner: 'ann@example.com', description: 'old banner', createdAt: '2020-01-01T00:00:00Z', updatedAt: '2020-01-01T00:00:00Z' },
    },
  },
};

/** 400 users; every 8th is an internal tester (@vexil.dev). */
const USERS: EvaluationContext[] = Array.from({ length: 400 }, (_, i) => ({ targetingKey: `user-${i}`, email: i % 8 === 0 ? `tester${i}@vexil.dev` : `customer${i}@example.com` }));
const isTester = (u: EvaluationContext) => String(u['email']).endsWith('@vexil.dev');

/** What @vexil/core answers for `key` defined as `def`, for every user. */
function expected(key: string, def: FlagDef) {
  const ev = new Evaluator({ strict: true });
  ev.setFlags({ flags: { [key]: def } });
  return USERS.map((u) => {
    const d = ev.resolveBoolean(key, CODED_DEFAULT, u as Record<string, string>);
    return { value: d.value, variant: d.variant, reason: d.reason };
  });
}

/** The flag's stored definition without the lifecycle metadata the API adds. */
function stored(file: string, key: string): Omit<FlagDef, 'metadata'> & { metadata?: Record<string, unknown> } {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as FlagDoc;
  return doc.flags[key];
}
const withoutMetadata = ({ metadata: _m, ...rest }: FlagDef) => rest;

describe('the dashboard in Chromium, against the daemon and an in-process provider', () => {
  let dir: string;
  let file: string;
  let daemon: DaemonProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  let client: Client;
  /** Console errors, uncaught exceptions and CSP violations in the page: none expected. */
  let pageProblems: string[];
  /** Write requests (anything but GET) the page sent to /api/v1. */
  let writes: string[];
  const timings: Record<string, number> = {};

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, etag: res.headers.get('etag'), body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  const evaluateAll = (key: string) =>
    Promise.all(USERS.map(async (u) => {
      const d = await client.getBooleanDetails(key, CODED_DEFAULT, u);
      return { value: d.value, variant: d.variant, reason: d.reason };
    }));

  /** Runs `act` (the click), then waits until the provider answers `want` for every user; returns ms. */
  async function providerSees(label: string, key: string, want: ReturnType<typeof expected>, act: () => Promise<void>): Promise<number> {
    // Otherwise the timing would prove nothing.
    expect(JSON.stringify(await evaluateAll(key)), `${label}: the provider answers so already`).not.toBe(JSON.stringify(want));
    const start = performance.now();
    await act();
    let last: unknown;
    try {
      await eventually(async () => {
        last = await evaluateAll(key);
        return JSON.stringify(last) === JSON.stringify(want);
      }, 5_000, 10);
    } catch (err) {
      const got = last as typeof want;
      const diff = want.map((w, i) => [USERS[i].targetingKey, w, got?.[i]]).filter(([, w, g]) => JSON.stringify(w) !== JSON.stringify(g));
      throw new Error(`${label}: the provider never saw the change; ${diff.length} users differ, e.g. ${JSON.stringify(diff.slice(0, 3))}`, { cause: err });
    }
    const ms = performance.now() - start;
    timings[label] = Math.round(ms);
    expect(ms, `${label}: click to provider`).toBeLessThan(SEE_WITHIN_MS);
    return ms;
  }

  const open = async (hash: string) => {
    await page.goto(`${base}/${hash}`);
    await page.waitForSelector('body[data-ready="true"]');
  };
  const flagPage = async (key: string) => {
    await open(`#/flags/${encodeURIComponent(key)}`);
    await page.waitForSelector(`[data-testid="flag-detail"][data-key="${key}"]`);
  };
  const versionShown = () => page.getByTestId('flag-detail').getAttribute('data-version');
  /** Waits until the detail view shows a version other than `before` (the write was applied and adopted). */
  const waitForNewVersion = (before: string | null) =>
    page.locator(`[data-testid="flag-detail"]:not([data-version=${JSON.stringify(before ?? '')}]):not([data-version=""])`).waitFor();
  const createViaApi = async (key: string, def: FlagDef) => {
    const res = await api('POST', '/flags', { key, ...def });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  const writeByHand = (doc: FlagDoc) => {
    writeFileSync(`${file}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found: apt-get install chromium (CI installs it in .ci/run)`);
    dir = mkdtempSync(join(tmpdir(), 'vexil-dashboard-'));
    file = join(dir, 'flags.json');
    writeByHand(INITIAL);
    daemon = await startDaemon(['-f', `file:${file}`]);
    base = `http://127.0.0.1:${daemon.ports.management}`;
    await OpenFeature.setProviderAndWait(new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync }));
    client = OpenFeature.getClient();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await OpenFeature.close();
    await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`dashboard → provider (ms): ${JSON.stringify(timings)}`);
  });

  beforeEach(async () => {
    pageProblems = [];
    writes = [];
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') pageProblems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageProblems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/') && r.method() !== 'GET') writes.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
  });

  afterEach(async () => {
    await page?.close();
  });

  it('creates a flag, rolls it out to 5 %, targets internal testers and kills it; the provider sees each step in < 1 s', async () => {
    const KEY = 'new-checkout';
    const created: FlagDef = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' };
    const rollout = { fractional: [['on', 5], ['off', 95]] };
    const rolledOut: FlagDef = { ...created, targeting: rollout };
    const targeted: FlagDef = { ...created, targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', rollout] } };
    const killed: FlagDef = { ...targeted, state: 'DISABLED' };

    // The provider does not know the flag yet: the coded default, FLAG_NOT_FOUND.
    expect((await client.getBooleanDetails(KEY, CODED_DEFAULT, USERS[0])).errorCode).toBe('FLAG_NOT_FOUND');

    // 1. Create it in the form.
    await open('#/new');
    await page.getByTestId('new-key').fill(KEY);
    await page.getByTestId('new-description').fill('the new checkout flow');
    expect(await page.getByTestId('new-type').inputValue()).toBe('boolean');
    await page.getByTestId('new-default').selectOption('off');
    await providerSees('create', KEY, expected(KEY, created), async () => {
      await page.getByTestId('new-submit').click();
    });
    await page.waitForSelector(`[data-testid="flag-detail"][data-key="${KEY}"]`);
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual(created);
    expect(stored(file, KEY).metadata).toMatchObject({ owner: 'local', description: 'the new checkout flow' });

    // 2. Roll it out to 5 % with the slider.
    const fivePercent = expected(KEY, rolledOut);
    const on = fivePercent.filter((r) => r.value).length;
    // The check means something only if both sides of the rollout have users: 5 % of 400 is 20.
    expect(on).toBeGreaterThan(5);
    expect(on).toBeLessThan(50);
    await page.getByTestId('rollout-slider').fill('5');
    await expect.poll(() => page.getByTestId('rollout-value').textContent()).toBe('5 % on, 95 % off');
    let version = await versionShown();
    await providerSees('rollout 5 %', KEY, fivePercent, async () => {
      await page.getByTestId('rollout-apply').click();
    });
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual(rolledOut);
    await waitForNewVersion(version);

    // 3. Target internal testers: email ends with @vexil.dev → on, in front of the rollout.
    const withTesters = expected(KEY, targeted);
    USERS.forEach((u, i) => expect(withTesters[i].value).toBe(isTester(u) ? true : fivePercent[i].value));
    expect(await page.getByTestId('rule-attribute').inputValue()).toBe('email');
    await page.getByTestId('rule-operator').selectOption('ends_with');
    await page.getByTestId('rule-value').fill('@vexil.dev');
    await page.getByTestId('rule-variant').selectOption('on');
    version = await versionShown();
    await providerSees('targeted rule', KEY, withTesters, async () => {
      await page.getByTestId('rule-add').click();
    });
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual(targeted);
    await waitForNewVersion(version);
    // The editor shows what was written.
    expect(JSON.parse(await page.getByTestId('targeting-editor').inputValue())).toEqual(targeted.targeting);

    // 4. The kill switch asks first; cancelling writes nothing.
    await page.getByTestId('kill-button').click();
    await expect.poll(() => page.getByTestId('confirm-dialog').isVisible()).toBe(true);
    expect(await page.getByTestId('confirm-title').textContent()).toContain(KEY);
    const writesBefore = writes.length;
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => page.getByTestId('confirm-dialog').isVisible()).toBe(false);
    expect(writes.length).toBe(writesBefore);
    expect(stored(file, KEY).state).toBe('ENABLED');

    await page.getByTestId('kill-button').click();
    const killedEverywhere = expected(KEY, killed);
    expect(killedEverywhere.every((r) => r.value === CODED_DEFAULT && r.reason === 'DISABLED')).toBe(true);
    await providerSees('kill', KEY, killedEverywhere, async () => {
      await page.getByTestId('confirm-ok').click();
    });
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual(killed);
    expect(stored(file, KEY).metadata).toMatchObject({ killedBy: 'local' });
    await page.waitForSelector('[data-testid="flag-detail"] [data-testid="badge-killed"]');

    // The page wrote exactly these, each with the version it showed (kill: never refused for staleness).
    expect(writes).toEqual(['POST /api/v1/flags', `PUT /api/v1/flags/${KEY}`, `PUT /api/v1/flags/${KEY}`, `POST /api/v1/flags/${KEY}/kill`]);

    // Enable undoes the kill (a merge patch that also drops killedAt/killedBy).
    await providerSees('enable after kill', KEY, withTesters, async () => {
      await page.getByTestId('enable-button').click();
    });
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual(targeted);
    expect(stored(file, KEY).metadata).not.toHaveProperty('killedAt');
    await page.locator('[data-testid="flag-detail"][data-state="ENABLED"]').waitFor();
    // ...and the kill switch again, for the list and the audit log below.
    await page.getByTestId('kill-button').click();
    await providerSees('kill again', KEY, killedEverywhere, async () => {
      await page.getByTestId('confirm-ok').click();
    });
    await page.waitForSelector('[data-testid="flag-detail"] [data-testid="badge-killed"]');

    // The list shows it killed, with its rollout split; the audit log has every write, newest first.
    await open('#/flags');
    const row = page.locator(`[data-testid="flag-row"][data-key="${KEY}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-killed')).toBe('true');
    expect(await row.getByTestId('flag-state').textContent()).toBe('DISABLED');
    expect(await row.getByTestId('flag-rollout').textContent()).toBe('on 5 % · off 95 %');
    expect(await row.getByTestId('flag-owner').textContent()).toBe('local');

    await open(`#/audit?flag=${KEY}`);
    await page.waitForSelector('[data-testid="audit-list"]');
    expect(await page.getByTestId('audit-action').allTextContents()).toEqual(['kill', 'update', 'kill', 'update', 'update', 'create']);
    const killEntry = page.getByTestId('audit-entry').first();
    await killEntry.locator('summary').click();
    const diffPaths = await killEntry.getByTestId('audit-diff-row').locator('td:first-child').allTextContents();
    expect(diffPaths).toEqual(expect.arrayContaining(['$.state', '$.metadata.killedAt', '$.metadata.killedBy']));
    expect(JSON.parse((await killEntry.getByTestId('audit-after').textContent())!)).toMatchObject({ state: 'DISABLED' });
    expect(JSON.parse((await killEntry.getByTestId('audit-before').textContent())!)).toMatchObject({ state: 'ENABLED', targeting: targeted.targeting });
    expect(JSON.parse((await killEntry.getByTestId('audit-before').textContent())!).metadata).not.toHaveProperty('killedAt');

    expect(pageProblems).toEqual([]);
  });

  it('shows a syntax error, then the API\'s JSON path, next to the editor, and writes nothing', async () => {
    const KEY = 'invalid-edit';
    const def: FlagDef = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { fractional: [['on', 50], ['off', 50]] } };
    await createViaApi(KEY, def);
    await flagPage(KEY);
    const before = readFileSync(file, 'utf8');
    const versionBefore = await versionShown();

    // Not JSON: caught in the page, with the line and column; no request is sent.
    const broken = '{"if": [{"ends_with": [{"var": "email"}, "@vexil.dev"]}, "on" null]}';
    await page.getByTestId('targeting-editor').fill(broken);
    await page.getByTestId('targeting-save').click();
    await page.getByTestId('targeting-error').waitFor();
    expect(await page.getByTestId('targeting-error-path').textContent()).toBe(`line 1, column ${broken.indexOf(' null') + 2}`);
    expect(await page.getByTestId('targeting-error-message').textContent()).toContain('expected "," or "]"');

    // JSON, but a rule @vexil/core cannot compile (a misspelt operator): the API's 400, its path shown.
    const bad = { if: [{ ends_wiht: [{ var: 'email' }, '@vexil.dev'] }, 'on', null] };
    const warning = new Evaluator().load({ flags: { [KEY]: { ...def, targeting: bad } } }).warnings.find((w) => w.code === 'INVALID_TARGETING');
    expect(warning?.path).toMatch(/targeting/);
    await page.getByTestId('targeting-editor').fill(JSON.stringify(bad));
    await page.getByTestId('targeting-save').click();
    await page.locator('[data-testid="targeting-error"][data-kind="api"]').waitFor();
    expect(await page.getByTestId('targeting-error-path').textContent()).toBe(warning!.path);
    expect(await page.getByTestId('targeting-error-message').textContent()).toMatch(/^INVALID_FLAG: .*ends_wiht/);
    expect(writes).toEqual([`PUT /api/v1/flags/${KEY}`]);

    // Nothing changed: the file's bytes, the version shown, what the provider serves.
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(await versionShown()).toBe(versionBefore);
    const now = await evaluateAll(KEY);
    expect(now).toEqual(expected(KEY, def));
    expect(pageProblems.filter((p) => !p.includes('400'))).toEqual([]);
  });

  it('answers a write on a stale version with the reload message and loses neither edit (API edit, then hand edit)', async () => {
    const KEY = 'concurrent';
    const def: FlagDef = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' };
    await createViaApi(KEY, def);
    await flagPage(KEY);

    // Someone else changes the default variant while the page is open.
    const current = await api('GET', `/flags/${KEY}`);
    const theirs = await api('PATCH', `/flags/${KEY}`, { defaultVariant: 'on' }, { 'if-match': current.etag! });
    expect(theirs.status).toBe(200);

    await page.getByTestId('rollout-slider').fill('30');
    await page.getByTestId('rollout-apply').click();
    await page.getByTestId('conflict-message').waitFor();
    expect(await page.getByTestId('conflict-message').textContent()).toContain('changed since you opened it — reload');
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual({ ...def, defaultVariant: 'on' });

    // Reload shows their change; the rollout then applies on top of it.
    await page.getByTestId('conflict-reload').click();
    await expect.poll(() => page.getByTestId('flag-message').textContent()).toBe('Reloaded the current version.');
    expect(await page.getByTestId('conflict-message').isVisible()).toBe(false);
    expect(await page.getByTestId('default-variant-select').inputValue()).toBe('on');
    await page.getByTestId('rollout-slider').fill('30');
    const both: FlagDef = { ...def, defaultVariant: 'on', targeting: { fractional: [['on', 30], ['off', 70]] } };
    await providerSees('rollout after reload', KEY, expected(KEY, both), async () => {
      await page.getByTestId('rollout-apply').click();
    });
    expect(withoutMetadata(stored(file, KEY) as FlagDef)).toEqual(both);
    await page.getByTestId('flag-message').waitFor();

    // A hand edit of the file (GitOps, an editor) while the page is open: the same 412.
    const doc = JSON.parse(readFileSync(file, 'utf8')) as FlagDoc;
    doc.flags[KEY].metadata = { ...doc.flags[KEY].metadata, description: 'edited by hand' };
    writeByHand(doc);
    const handEdited = readFileSync(file, 'utf8');
    await page.getByTestId('targeting-editor').fill('{"if": [{"==": [{"var": "plan"}, "gold"]}, "on", "off"]}');
    await page.getByTestId('targeting-save').click();
    await page.getByTestId('conflict-message').waitFor();
    expect(readFileSync(file, 'utf8')).toBe(handEdited);
    await page.getByTestId('conflict-reload').click();
    await expect.poll(() => page.getByTestId('fact-description').textContent()).toBe('edited by hand');
    expect(pageProblems.filter((p) => !p.includes('412'))).toEqual([]);
  });

  it('filters the list, archives and restores, and shows stale flags', async () => {
    await createViaApi('search-ranking', { state: 'ENABLED', variants: { a: 'bm25', b: 'vector' }, defaultVariant: 'a', metadata: { description: 'ranking experiment', owner: 'bob@example.com' } });
    await open('#/flags');
    await page.waitForSelector('[data-testid="flag-row"][data-key="legacy-banner"]');
    const keys = () => page.locator('[data-testid="flag-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));

    await page.getByTestId('filter-text').fill('RANKING');
    await expect.poll(keys).toEqual(['search-ranking']);
    await page.getByTestId('filter-text').fill('bob@');
    await expect.poll(keys).toEqual(['search-ranking']);
    await page.getByTestId('filter-text').fill('');
    await expect.poll(async () => (await keys()).includes('legacy-banner')).toBe(true);
    expect(await page.getByTestId('filter-flagset').locator('option').allTextContents()).toContain('shop');

    // Stale: legacy-banner unchanged since 2020 and serving one variant to everyone (no targeting);
    // search-ranking serves one variant too, but was just written: in active use, not stale.
    await open('#/stale?days=30');
    const reasons = async (key: string) => (await page.locator(`[data-testid="stale-row"][data-key="${key}"]`).getAttribute('data-reasons'))!.split(' ');
    await page.getByTestId('stale-table').waitFor();
    expect(await reasons('legacy-banner')).toEqual(expect.arrayContaining(['unchanged', 'single-variant']));
    expect(await page.locator('[data-testid="stale-row"][data-key="search-ranking"]').count()).toBe(0);

    // Archive legacy-banner from its page (with confirmation), then find it under "archived".
    await flagPage('legacy-banner');
    await page.getByTestId('archive-button').click();
    await page.getByTestId('confirm-ok').click();
    await page.waitForSelector('[data-testid="flag-detail"] [data-testid="badge-archived"]');
    expect(stored(file, 'legacy-banner')).toMatchObject({ state: 'DISABLED', metadata: { archived: true, archivedState: 'ENABLED' } });
    await open('#/flags');
    await page.getByTestId('filter-state').selectOption('ARCHIVED');
    await expect.poll(keys).toEqual(['legacy-banner']);
    await page.getByTestId('filter-state').selectOption('');

    // Restore brings the state back.
    await flagPage('legacy-banner');
    await page.getByTestId('restore-button').click();
    await page.waitForSelector('[data-testid="flag-detail"][data-state="ENABLED"]');
    expect(stored(file, 'legacy-banner')).toMatchObject({ state: 'ENABLED', metadata: { archived: false } });
    expect(pageProblems).toEqual([]);
  });

  it('shows a rollout\'s steps with a live countdown, pauses, resumes and aborts it; shows and cancels a schedule', async () => {
    const KEY = 'staged-checkout';
    await createViaApi(KEY, { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' });
    const now = Math.floor(Date.now() / 1000);
    const put = await api('PUT', `/flags/${KEY}/rollout`, { on: 'on', off: 'off', steps: [{ at: now - 60, percent: 10 }, { at: now + 3 * 3600 + 120, percent: 50 }] });
    expect(put.status).toBe(200);
    await flagPage(KEY);
    const panel = page.getByTestId('plan-panel');
    await expect.poll(() => panel.getAttribute('data-state')).toBe('running');
    expect(await page.locator('[data-testid="plan-steps"] li').count()).toBe(2);
    expect(await page.locator('[data-testid="plan-steps"] li.current').textContent()).toMatch(/: 10 %$/);
    const first = await page.getByTestId('plan-countdown').textContent();
    expect(first).toMatch(/^Next step in 3 h [12] min \(/);
    // The countdown runs: seconds go by in the page.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 1100)));
    expect(await page.getByTestId('plan-countdown').textContent()).toMatch(/^Next step in 3 h [12] min/);

    await page.getByTestId('plan-pause').click();
    await expect.poll(() => panel.getAttribute('data-state')).toBe('paused');
    expect(await page.getByTestId('plan-countdown').textContent()).toMatch(/^Paused since /);
    await page.getByTestId('plan-resume').click();
    await expect.poll(() => panel.getAttribute('data-state')).toBe('running');
    await page.getByTestId('plan-abort').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => panel.getAttribute('data-state')).toBe('aborted');
    expect(stored(file, KEY).metadata?.['rolloutState']).toBe('aborted');

    const SCHEDULED = 'launch-banner';
    await createViaApi(SCHEDULED, { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' });
    expect((await api('PUT', `/flags/${SCHEDULED}/schedule`, { changes: [{ at: now + 2 * 86400 + 7200, serve: { variant: 'on' } }] })).status).toBe(200);
    await flagPage(SCHEDULED);
    await expect.poll(() => page.getByTestId('plan-panel').getAttribute('data-plan')).toBe('schedule');
    expect(await page.getByTestId('plan-countdown').textContent()).toMatch(/^Next change in 2 d [12] h/);
    expect(await page.getByTestId('plan-state').textContent()).toBe('0 of 1 taken effect.');
    await page.getByTestId('plan-cancel').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('plan-panel').isHidden()).toBe(true);
    expect(stored(file, SCHEDULED).targeting).toBeUndefined();
    expect(writes).toEqual([
      `POST /api/v1/flags/${KEY}/rollout/pause`,
      `POST /api/v1/flags/${KEY}/rollout/resume`,
      `POST /api/v1/flags/${KEY}/rollout/abort`,
      `DELETE /api/v1/flags/${SCHEDULED}/schedule`,
    ]);
    expect(pageProblems).toEqual([]);
  });

  it('refuses a duplicate key in the create form, shows flag text as text, and deletes after confirmation', async () => {
    const KEY = 'doomed';
    const description = '<img src=x onerror="document.title=\'pwned\'"> & <b>bold</b>';
    await createViaApi(KEY, { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on', metadata: { description } });

    await open('#/new');
    await page.getByTestId('new-key').fill(KEY);
    await page.getByTestId('new-submit').click();
    await expect.poll(() => page.getByTestId('new-error').textContent()).toBe(`A flag named ${KEY} exists already.`);

    // Markup in flag data is shown as text, never parsed.
    await flagPage(KEY);
    expect(await page.getByTestId('fact-description').textContent()).toBe(description);
    expect(await page.locator('[data-testid="flag-detail"] img, [data-testid="flag-detail"] b').count()).toBe(0);
    expect(await page.title()).toBe('Vexil dashboard');

    await page.getByTestId('delete-button').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('flag-list').waitFor();
    expect(stored(file, KEY)).toBeUndefined();
    await expect.poll(() => page.locator(`[data-testid="flag-row"][data-key="${KEY}"]`).count()).toBe(0);
    expect(writes).toEqual(['POST /api/v1/flags', `DELETE /api/v1/flags/${KEY}`]);
    expect(pageProblems.filter((p) => !p.includes('409'))).toEqual([]);
  });
});

/** A daemon over a copy of INITIAL (started with `args`) and a Chromium, for one describe block. */
function daemonAndBrowser(name: string, args: string[] = []) {
  const ctx = {} as { dir: string; daemon: DaemonProcess; browser: Browser };
  beforeAll(async () => {
    ctx.dir = mkdtempSync(join(tmpdir(), `vexil-dashboard-${name}-`));
    writeFileSync(join(ctx.dir, 'flags.json'), JSON.stringify(INITIAL));
    ctx.daemon = await startDaemon(['-f', `file:${join(ctx.dir, 'flags.json')}`, ...args]);
    ctx.browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.daemon?.stop();
    if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

describe('the dashboard with admin tokens', () => {
  const ctx = daemonAndBrowser('tokens', ['--admin-token', 'viewer-secret-1:viewer:vera', '--admin-token', 'editor-secret-1:editor:eddie']);

  it('asks for a token, keeps it for the session, sends it as Bearer, and shows 403 for a role too low', async () => {
    const page = await ctx.browser.newPage();
    const auth: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/')) auth.push(r.headers()['authorization']);
    });
    await page.goto(`http://127.0.0.1:${ctx.daemon.ports.management}/`);
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('token needed');
    expect(await page.getByTestId('flag-list-error').textContent()).toContain('UNAUTHENTICATED');

    await page.getByTestId('token-input').fill('viewer-secret-1');
    await page.getByTestId('token-save').click();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('vera (viewer)');
    await page.waitForSelector('[data-testid="flag-row"][data-key="legacy-banner"]');
    expect(await page.evaluate('sessionStorage.getItem("vexil.dashboard.token")')).toBe('viewer-secret-1');
    expect(auth.at(-1)).toBe('Bearer viewer-secret-1');

    // A viewer may look, not write.
    await page.goto(`http://127.0.0.1:${ctx.daemon.ports.management}/#/flags/legacy-banner`);
    await page.waitForSelector('[data-testid="flag-detail"]');
    await page.getByTestId('rollout-slider').fill('10');
    await page.getByTestId('rollout-apply').click();
    await expect.poll(() => page.getByTestId('flag-error').textContent()).toContain('FORBIDDEN');

    // The token survives a reload (sessionStorage), and Clear forgets it.
    await page.reload();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('vera (viewer)');
    await page.getByTestId('token-clear').click();
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('token needed');
    expect(await page.evaluate('sessionStorage.getItem("vexil.dashboard.token")')).toBeNull();
    await page.close();
  });
});

describe('the dashboard behind a proxy that answers an API read with its own HTML page', () => {
  const ctx = daemonAndBrowser('proxy');
  let proxy: Server;
  let base: string;

  beforeAll(async () => {
    // What a sign-in proxy does when its session has run out: 200 and a login page, not the API's JSON.
    proxy = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/flags')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please sign in</body></html>');
        return;
      }
      const upstream = request({ host: '127.0.0.1', port: ctx.daemon.ports.management, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('shows the answer as a BAD_RESPONSE error instead of an empty flag list', async () => {
    const page = await ctx.browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-ready="true"]');
    // The rest of the API still answers through the proxy.
    await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('local (admin)');
    expect(await page.getByTestId('flag-list-error').textContent()).toBe('BAD_RESPONSE: <html><body>Please sign in</body></html>');
    expect(await page.getByTestId('flag-count').textContent()).toBe('');
    expect(await page.getByTestId('flag-row').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
