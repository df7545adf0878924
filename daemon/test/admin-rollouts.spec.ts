/**
 * Progressive rollouts through the management API against a real daemon process: the compiled
 * targeting is plain flagd JSON that OFREP (and any flagd SDK) evaluates on its own clock; pause,
 * resume and abort are single audited writes; a hand-edited compiled rule is not overwritten
 * silently; bad plans are refused with a path and leave the file as it was.
 */
import { writeFile } from 'node:fs/promises';
import { FlagdProvider } from '@openfeature/flagd-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { Evaluator } from '@vexil/core';
import { VexilProvider } from '@vexil/server-provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useAdminFixtures, type AdminFixture } from './support/admin.js';
import { runVexil } from './support/cli.js';
import { eventually, startDaemon } from './support/daemon-process.js';

const up = useAdminFixtures();
const KEYS = Array.from({ length: 120 }, (_, i) => `user-${i}`);

async function bulk(f: AdminFixture, targetingKey: string): Promise<Record<string, unknown>> {
  const r = await fetch(`http://127.0.0.1:${f.daemon.ports.ofrep}/ofrep/v1/evaluate/flags/new-checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context: { targetingKey } }),
  });
  return (await r.json()) as Record<string, unknown>;
}

/** What the engine says for each key, from the file as written (the daemon must agree). */
async function expectedFromFile(f: AdminFixture): Promise<Map<string, unknown>> {
  const ev = new Evaluator();
  ev.setFlags(await f.readText());
  return new Map(KEYS.map((k) => [k, ev.resolveBoolean('new-checkout', false, { targetingKey: k }).value]));
}

async function servedMatchesFile(f: AdminFixture): Promise<boolean> {
  const want = await expectedFromFile(f);
  for (const k of KEYS) if ((await bulk(f, k))['value'] !== want.get(k)) return false;
  return true;
}

describe('management API: progressive rollouts', () => {
  it('compiles a rollout the daemon serves, and pauses, resumes and aborts it in single audited writes', async () => {
    const f = await up();
    const now = Math.floor(Date.now() / 1000);
    const put = await f.call('PUT', '/flags/new-checkout/rollout', {
      body: { on: 'on', off: 'off', steps: [{ at: now - 60, percent: 50 }, { at: new Date((now + 3600) * 1000).toISOString(), percent: 100 }] },
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(put.body.version);
    expect(put.body.metadata).toMatchObject({ rolloutState: 'running', rolloutHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(JSON.parse(put.body.metadata.rollout)).toEqual({ on: 'on', off: 'off', steps: [{ at: now - 60, percent: 50 }, { at: now + 3600, percent: 100 }] });
    // Plain flagd JSON: one if over $flagd.timestamp, latest step first, weights in basis points.
    expect(put.body.targeting).toEqual({
      if: [
        { '>=': [{ var: '$flagd.timestamp' }, now + 3600] },
        'on',
        { '>=': [{ var: '$flagd.timestamp' }, now - 60] },
        { fractional: [['on', 5000], ['off', 5000]] },
        'off',
      ],
    });
    await eventually(() => servedMatchesFile(f));
    const on = (await Promise.all(KEYS.map((k) => bulk(f, k)))).filter((b) => b['value'] === true).length;
    expect(on).toBeGreaterThan(KEYS.length * 0.3);
    expect(on).toBeLessThan(KEYS.length * 0.7);

    const paused = await f.call('POST', '/flags/new-checkout/rollout/pause');
    expect(paused.status).toBe(200);
    expect(paused.body.metadata).toMatchObject({ rolloutState: 'paused', rolloutPausedAt: expect.any(String) });
    expect(paused.body.targeting).toEqual({ if: [true, { fractional: [['on', 5000], ['off', 5000]] }, null] });
    expect((await f.call('POST', '/flags/new-checkout/rollout/pause')).body.error).toMatchObject({ code: 'NO_ROLLOUT', message: 'cannot pause a rollout that is paused' });

    const resumed = await f.call('POST', '/flags/new-checkout/rollout/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body.metadata.rolloutState).toBe('running');
    const steps = JSON.parse(resumed.body.metadata.rollout).steps as { at: number }[];
    expect(steps[0].at).toBe(now - 60); // begun before the pause: unchanged
    expect(steps[1].at).toBeGreaterThanOrEqual(now + 3600); // not begun: moved by the pause
    expect((await f.call('POST', '/flags/new-checkout/rollout/resume')).status).toBe(409);

    const aborted = await f.call('POST', '/flags/new-checkout/rollout/abort');
    expect(aborted.body.metadata.rolloutState).toBe('aborted');
    await eventually(async () => (await Promise.all(KEYS.slice(0, 30).map((k) => bulk(f, k)))).every((b) => b['value'] === false));
    expect((await f.call('POST', '/flags/new-checkout/rollout/resume')).body.error.code).toBe('NO_ROLLOUT');

    const audit = await f.call('GET', '/audit?flag=new-checkout&action=rollout');
    expect(audit.body.entries.map((e: { after: { metadata: { rolloutState: string } } }) => e.after.metadata.rolloutState)).toEqual(['aborted', 'running', 'paused', 'running']);
  });

  it('refuses to overwrite a hand-edited compiled rule without force (409 with both rules)', async () => {
    const f = await up();
    const now = Math.floor(Date.now() / 1000);
    const put = await f.call('PUT', '/flags/new-checkout/rollout', { body: { on: 'on', off: 'off', start: now - 10, everySeconds: 86_400, percentPerStep: 10 } });
    expect(put.status).toBe(200);
    expect(JSON.parse(put.body.metadata.rollout).steps).toHaveLength(10);

    // A hand edit of the file: the targeting no longer matches its checksum.
    const doc = JSON.parse(await f.readText());
    doc.flags['new-checkout'].targeting = { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', 'off'] };
    await writeFile(f.file, JSON.stringify(doc, null, 2));
    await eventually(async () => (await f.call('GET', '/flags/new-checkout')).body.targeting?.if?.[0]?.ends_with !== undefined);

    const refused = await f.call('POST', '/flags/new-checkout/rollout/pause');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'ROLLOUT_HAND_EDITED', path: '$.targeting', targeting: { edited: doc.flags['new-checkout'].targeting, compiled: put.body.targeting } });
    const again = await f.call('PUT', '/flags/new-checkout/rollout', { body: { on: 'on', off: 'off', steps: [{ at: now, percent: 20 }] } });
    expect(again.body.error.code).toBe('ROLLOUT_HAND_EDITED');
    const forced = await f.call('PUT', '/flags/new-checkout/rollout', { body: { on: 'on', off: 'off', steps: [{ at: now, percent: 20 }], force: true } });
    expect(forced.status).toBe(200);
    expect(forced.body.targeting.if[1]).toEqual({ fractional: [['on', 2000], ['off', 8000]] });
  });

  it.each([
    ['a percent that goes down', { on: 'on', off: 'off', steps: [{ at: 100, percent: 20 }, { at: 200, percent: 10 }] }, 'INVALID_ROLLOUT', '$.steps[1].percent'],
    ['steps out of order', { on: 'on', off: 'off', steps: [{ at: 200, percent: 10 }, { at: 100, percent: 20 }] }, 'INVALID_ROLLOUT', '$.steps[1].at'],
    ['a variant the flag does not have', { on: 'maybe', off: 'off', steps: [{ at: 100, percent: 10 }] }, 'INVALID_ROLLOUT', '$.on'],
    ['more than 100 steps', { on: 'on', off: 'off', start: 0, everySeconds: 60, percentPerStep: 0.5 }, 'INVALID_ROLLOUT', '$'],
    ['no steps and no linear plan', { on: 'on', off: 'off' }, 'INVALID_ROLLOUT', '$'],
    ['a percent over 100 (schema)', { on: 'on', off: 'off', steps: [{ at: 100, percent: 120 }] }, 'INVALID_ROLLOUT', '$.steps[0].percent'],
    ['an unknown field (schema)', { on: 'on', off: 'off', steps: [{ at: 100, percent: 1 }], colour: 'red' }, 'INVALID_ROLLOUT', '$.colour'],
  ])('refuses %s with 400 naming where, leaving the file unchanged byte for byte', async (_name, body, code, path) => {
    const f = await up();
    const before = await f.readText();
    const r = await f.call('PUT', '/flags/new-checkout/rollout', { body });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    if (path !== undefined) expect(r.body.error.path).toBe(path);
    expect(await f.readText()).toBe(before);
  });

  it('answers 409 NO_ROLLOUT for control of a flag without one, and 404 for an unknown flag', async () => {
    const f = await up();
    expect((await f.call('POST', '/flags/banner/rollout/pause')).body.error.code).toBe('NO_ROLLOUT');
    expect((await f.call('POST', '/flags/nope/rollout/abort')).status).toBe(404);
    expect((await f.call('POST', '/flags/banner/rollout/explode')).status).toBe(400);
  });
});

describe('a compiled rollout in the SDKs, on their own clocks', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await OpenFeature.clearProviders();
  });

  it('the official flagd in-process provider and ours follow each step as the clock passes it, as the engine says', async () => {
    const f = await up();
    const realNow = Date.now.bind(Date);
    const t0 = Math.floor(realNow() / 1000);
    const steps = [
      { at: t0 + 1000, percent: 10 },
      { at: t0 + 2000, percent: 60 },
      { at: t0 + 3000, percent: 100 },
    ];
    expect((await f.call('PUT', '/flags/new-checkout/rollout', { body: { on: 'on', off: 'off', steps } })).status).toBe(200);

    // flagd-core (inside the official provider) reads Date.now at each evaluation; our provider's
    // engine takes the clock it finds when it is built. Both see the driven clock.
    let offsetMs = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
    await OpenFeature.setProviderAndWait('official', new FlagdProvider({ resolverType: 'in-process', host: '127.0.0.1', port: f.daemon.ports.sync }));
    await OpenFeature.setProviderAndWait('vexil', new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: f.daemon.ports.sync }));
    const official = OpenFeature.getClient('official');
    const ours = OpenFeature.getClient('vexil');
    const engine = new Evaluator({ now: () => realNow() + offsetMs });
    engine.setFlags(await f.readText());

    const keys = KEYS.slice(0, 60);
    let previous = new Set<string>();
    for (const at of [t0 + 10, ...steps.map((s) => s.at + 5)]) {
      offsetMs = (at - t0) * 1000;
      const on = new Set<string>();
      for (const k of keys) {
        const want = engine.resolveBoolean('new-checkout', false, { targetingKey: k }).value;
        expect(await official.getBooleanValue('new-checkout', !want, { targetingKey: k }), `official ${k} at +${at - t0}s`).toBe(want);
        expect(await ours.getBooleanValue('new-checkout', !want, { targetingKey: k }), `ours ${k} at +${at - t0}s`).toBe(want);
        if (want) on.add(k);
      }
      for (const k of previous) expect(on.has(k), `${k} keeps the feature`).toBe(true);
      previous = on;
    }
    expect(previous.size).toBe(keys.length); // the last step is 100 %
  });

  it('a schedule and a prerequisite, likewise: both providers answer what the engine computes from the file, before and after T', async () => {
    const f = await up();
    const realNow = Date.now.bind(Date);
    const t0 = Math.floor(realNow() / 1000);
    expect((await f.call('POST', '/flags', { body: { key: 'gate', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { fractional: [['on', 1], ['off', 1]] } } })).status).toBe(201);
    expect((await f.call('PUT', '/flags/new-checkout/prerequisites', { body: { prerequisites: [{ flag: 'gate', variants: ['on'] }], offVariant: 'off' } })).status).toBe(200);
    // new-checkout's own rule is "off" (its default); give it "on" for units through the gate.
    const v = (await f.call('GET', '/flags/new-checkout')).body.version;
    expect((await f.call('PATCH', '/flags/new-checkout', { body: { defaultVariant: 'on' }, headers: { 'if-match': v } })).status).toBe(200);
    expect((await f.call('PUT', '/flags/banner/schedule', { body: { changes: [{ at: t0 + 1000, serve: { on: 'blue', off: 'red', percent: 30 } }] } })).status).toBe(200);

    let offsetMs = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
    await OpenFeature.setProviderAndWait('official', new FlagdProvider({ resolverType: 'in-process', host: '127.0.0.1', port: f.daemon.ports.sync }));
    await OpenFeature.setProviderAndWait('vexil', new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: f.daemon.ports.sync }));
    const clients = [OpenFeature.getClient('official'), OpenFeature.getClient('vexil')];
    const engine = new Evaluator({ now: () => realNow() + offsetMs });
    engine.setFlags(await f.readText());
    for (const at of [t0 + 10, t0 + 1005]) {
      offsetMs = (at - t0) * 1000;
      const colours = new Set<string>();
      for (const k of KEYS.slice(0, 40)) {
        const ctx = { targetingKey: k, email: `${k}@other.org` };
        const banner = engine.resolveString('banner', 'none', ctx).value;
        const checkout = engine.resolveBoolean('new-checkout', false, ctx).value;
        colours.add(banner);
        for (const c of clients) {
          expect(await c.getStringValue('banner', 'none', ctx), `banner ${k} at +${at - t0}s`).toBe(banner);
          expect(await c.getBooleanValue('new-checkout', !checkout, ctx), `new-checkout ${k}`).toBe(checkout);
        }
        expect(checkout).toBe(engine.resolveBoolean('gate', false, ctx).value); // on exactly where the gate is
      }
      expect([...colours].sort()).toEqual(at < t0 + 1000 ? ['red'] : ['blue', 'red']);
    }
  });
});

describe('vexil explain', () => {
  it('prints the plan next to the compiled JSON, marks the step in force, and notices a hand edit', async () => {
    const f = await up();
    const steps = [
      { at: 1_800_000_000, percent: 10 },
      { at: 1_800_086_400, percent: 50 },
      { at: 1_800_172_800, percent: 100 },
    ];
    expect((await f.call('PUT', '/flags/new-checkout/rollout', { body: { on: 'on', off: 'off', steps } })).status).toBe(200);
    const r = await runVexil(['explain', 'new-checkout', '--url', f.base, '--now', String(1_800_100_000)]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^flag new-checkout: progressive rollout, running\s+compiled targeting \(flagd JSON\):$/);
    expect(r.stdout).toMatch(/→ step {2}2 {2}2027-01-16T08:00:00Z +50 %/);
    expect(r.stdout).toContain('now: 50 % get "on"');
    expect(r.stdout).toMatch(/checksum [0-9a-f]{16}: matches the targeting/);
    expect(r.stdout).toContain('"$flagd.timestamp"');

    const doc = JSON.parse(await f.readText());
    doc.flags['new-checkout'].targeting = { if: [true, 'on', null] };
    await writeFile(f.file, JSON.stringify(doc, null, 2));
    await eventually(async () => (await runVexil(['explain', 'new-checkout', '--url', f.base])).stdout.includes('EDITED BY HAND'));

    expect((await runVexil(['explain', 'nope', '--url', f.base])).stderr).toContain('404 FLAG_NOT_FOUND');
    expect((await runVexil(['explain', '--url', f.base])).code).toBe(2);
    expect((await runVexil(['explain', 'banner', '--url', f.base, '--now', 'soon'])).code).toBe(2);
    expect((await runVexil(['explain', 'banner', '--url', f.base])).stdout).toMatch(/^flag banner: no rollout plan/);
  });
});

describe('management API: prerequisites', () => {
  const A = { key: 'checkout-v2', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { fractional: [['on', 50], ['off', 50]] } };
  const B = { key: 'express-pay', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' };

  async function value(f: AdminFixture, key: string, targetingKey: string): Promise<unknown> {
    const r = await fetch(`http://127.0.0.1:${f.daemon.ports.ofrep}/ofrep/v1/evaluate/flags/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey } }),
    });
    return ((await r.json()) as { value?: unknown }).value;
  }

  /** For every key: B is on exactly where A is on (A's bucketing, not B's). */
  async function bFollowsA(f: AdminFixture): Promise<boolean> {
    for (const k of KEYS.slice(0, 50)) if ((await value(f, 'express-pay', k)) !== (await value(f, 'checkout-v2', k))) return false;
    return true;
  }

  it('compiles B "only where A is on", recompiles B in the same write when A changes, and refuses cycles and missing flags', async () => {
    const f = await up();
    expect((await f.call('POST', '/flags', { body: A })).status).toBe(201);
    expect((await f.call('POST', '/flags', { body: B })).status).toBe(201);
    const put = await f.call('PUT', '/flags/express-pay/prerequisites', { body: { prerequisites: [{ flag: 'checkout-v2', variants: ['on'] }], offVariant: 'off' } });
    expect(put.status).toBe(200);
    expect(put.body.metadata).toMatchObject({ prerequisites: expect.any(String), prerequisitesHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // A's fractional inlined with A's bucketing key made explicit.
    expect(JSON.stringify(put.body.targeting)).toContain('{"cat":["checkout-v2",{"var":"targetingKey"}]}');
    await eventually(() => bFollowsA(f));
    const onShare = (await Promise.all(KEYS.slice(0, 50).map((k) => value(f, 'express-pay', k)))).filter((v) => v === true).length;
    expect(onShare).toBeGreaterThan(10);
    expect(onShare).toBeLessThan(40);

    // A to 100 %: B is recompiled in the same write, with its own audit entry.
    const vA = (await f.call('GET', '/flags/checkout-v2')).body.version;
    expect((await f.call('PATCH', '/flags/checkout-v2', { body: { targeting: { fractional: [['on', 1]] } }, headers: { 'if-match': vA } })).status).toBe(200);
    const file = JSON.parse(await f.readText());
    expect(JSON.stringify(file.flags['express-pay'].targeting)).toContain('{"cat":["checkout-v2",{"var":"targetingKey"}]},["on",1]]');
    const audit = (await f.call('GET', '/audit?flag=express-pay')).body.entries;
    expect(audit[0]).toMatchObject({ action: 'update', flag: 'express-pay' });
    await eventually(async () => (await Promise.all(KEYS.slice(0, 20).map((k) => value(f, 'express-pay', k)))).every((v) => v === true));

    // B's own rule edited: it stays behind the prerequisite.
    const vB = (await f.call('GET', '/flags/express-pay')).body.version;
    const own = { if: [{ ends_with: [{ var: 'targetingKey' }, '-7'] }, 'off', null] };
    const patched = await f.call('PATCH', '/flags/express-pay', { body: { targeting: own }, headers: { 'if-match': vB } });
    expect(patched.status).toBe(200);
    expect(JSON.parse(patched.body.metadata.prerequisitesOwnTargeting)).toEqual(own);
    expect(patched.body.targeting.if[1]).toEqual(own);
    await eventually(async () => (await value(f, 'express-pay', 'user-7')) === false && (await value(f, 'express-pay', 'user-8')) === true);

    const before = await f.readText();
    const cycle = await f.call('PUT', '/flags/checkout-v2/prerequisites', { body: { prerequisites: [{ flag: 'express-pay', variants: ['on'] }], offVariant: 'off' } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error).toMatchObject({ code: 'INVALID_ROLLOUT', message: expect.stringMatching(/prerequisites form a cycle: (checkout-v2 -> express-pay -> checkout-v2|express-pay -> checkout-v2 -> express-pay)/) });
    const missing = await f.call('PUT', '/flags/banner/prerequisites', { body: { prerequisites: [{ flag: 'nope', variants: ['on'] }], offVariant: 'red' } });
    expect(missing.body.error).toMatchObject({ code: 'INVALID_ROLLOUT', message: expect.stringContaining('flag "banner" requires flag "nope", which does not exist') });
    const badVariant = await f.call('PUT', '/flags/banner/prerequisites', { body: { prerequisites: [{ flag: 'checkout-v2', variants: ['maybe'] }], offVariant: 'red' } });
    expect(badVariant.body.error).toMatchObject({ code: 'INVALID_ROLLOUT', path: '$.prerequisites.banner.prerequisites[0].variants[0]' });
    const vA2 = (await f.call('GET', '/flags/checkout-v2')).body.version;
    const del = await f.call('DELETE', '/flags/checkout-v2', { headers: { 'if-match': vA2 } });
    expect(del.status).toBe(400);
    expect(del.body.error.message).toContain('requires flag "checkout-v2"');
    expect(await f.readText()).toBe(before);

    const removed = await f.call('DELETE', '/flags/express-pay/prerequisites');
    expect(removed.status).toBe(200);
    expect(removed.body.targeting).toEqual(own);
    expect(removed.body.metadata.prerequisites).toBeUndefined();
    expect((await f.call('DELETE', '/flags/express-pay/prerequisites')).body.error.code).toBe('NO_ROLLOUT');
  });
});

describe('management API: scheduled changes', () => {
  it('changes at T in the served flags, audits the change as it takes effect, and cancels back to the old targeting', async () => {
    const f = await up();
    const t = Math.floor(Date.now() / 1000) + 2;
    const put = await f.call('PUT', '/flags/banner/schedule', { body: { changes: [{ at: t, serve: { variant: 'blue' } }] } });
    expect(put.status).toBe(200);
    expect(put.body.metadata).toMatchObject({ scheduleApplied: 0, scheduleHash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(put.body.targeting).toEqual({ if: [{ '>=': [{ var: '$flagd.timestamp' }, t] }, 'blue', { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'blue', null] }] });
    const colour = async (email: string) =>
      ((await (
        await fetch(`http://127.0.0.1:${f.daemon.ports.ofrep}/ofrep/v1/evaluate/flags/banner`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ context: { email } }) })
      ).json()) as { value: string }).value;
    // Before T: the targeting it had (example.com sees blue, others red).
    await eventually(async () => (await colour('a@example.com')) === 'blue' && (await colour('a@other.org')) === 'red');
    if (Math.floor(Date.now() / 1000) < t) expect(await colour('a@other.org')).toBe('red');
    // At T, with no write: everyone blue; then the scheduler records it.
    await eventually(async () => (await colour('a@other.org')) === 'blue', 6_000);
    await eventually(async () => (await f.call('GET', '/audit?flag=banner&actor=scheduler')).body.entries.length === 1, 6_000);
    const [entry] = (await f.call('GET', '/audit?flag=banner&actor=scheduler')).body.entries;
    expect(entry).toMatchObject({ action: 'schedule', actor: 'scheduler', after: { metadata: { scheduleApplied: 1 } } });

    const cancelled = await f.call('DELETE', '/flags/banner/schedule');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.targeting).toEqual({ if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'blue', null] });
    expect(cancelled.body.metadata.schedule).toBeUndefined();
    await eventually(async () => (await colour('a@other.org')) === 'red');
    expect((await f.call('DELETE', '/flags/banner/schedule')).body.error.code).toBe('NO_ROLLOUT');
  });

  it('a change that came due while the daemon was down is audited when it starts again', async () => {
    const f = await up();
    const t = Math.floor(Date.now() / 1000) + 2;
    expect((await f.call('PUT', '/flags/new-checkout/schedule', { body: { changes: [{ at: t, serve: { variant: 'on' } }] } })).status).toBe(200);
    await f.daemon.stop();
    await new Promise((r) => setTimeout(r, Math.max(0, t * 1000 - Date.now()) + 300));
    const again = await startDaemon(['-f', `file:${f.file}`]);
    try {
      const entries = async () => {
        const r = await fetch(`http://127.0.0.1:${again.ports.management}/api/v1/audit?flag=new-checkout&actor=scheduler`);
        return ((await r.json()) as { entries: { action: string; after: { metadata: Record<string, unknown> } }[] }).entries;
      };
      await eventually(async () => (await entries()).length === 1, 5_000);
      expect((await entries())[0]).toMatchObject({ action: 'schedule', after: { metadata: { scheduleApplied: 1 } } });
    } finally {
      await again.stop();
    }
  });

  it('refuses bad schedules and a second plan on one flag, writing nothing', async () => {
    const f = await up();
    const before = await f.readText();
    const at = 1_900_000_000;
    const cases: [unknown, string, string | undefined][] = [
      [{ changes: [{ at, serve: { variant: 'green' } }] }, 'INVALID_ROLLOUT', '$.changes[0].serve.variant'],
      [{ changes: [{ at, serve: { variant: 'red' } }, { at, serve: { variant: 'blue' } }] }, 'INVALID_ROLLOUT', '$.changes[1].at'],
      [{ changes: [{ at, serve: { on: 'blue', off: 'red', percent: 150 } }] }, 'INVALID_ROLLOUT', '$.changes[0].serve'],
      [{ changes: [] }, 'INVALID_ROLLOUT', '$.changes'],
    ];
    for (const [body, code, path] of cases) {
      const r = await f.call('PUT', '/flags/banner/schedule', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe(code);
      if (path) expect(r.body.error.path, JSON.stringify(body)).toBe(path);
    }
    expect(await f.readText()).toBe(before);
    expect((await f.call('PUT', '/flags/new-checkout/rollout', { body: { on: 'on', off: 'off', steps: [{ at, percent: 10 }] } })).status).toBe(200);
    const second = await f.call('PUT', '/flags/new-checkout/schedule', { body: { changes: [{ at, serve: { variant: 'on' } }] } });
    expect(second.body.error).toMatchObject({ code: 'INVALID_ROLLOUT', message: expect.stringContaining('already has a rollout') });
  });
});
