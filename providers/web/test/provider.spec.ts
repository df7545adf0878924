/**
 * VexilWebProvider against a fake daemon that implements the daemon README, "Rules for browsers", and OFREP
 * bulk evaluation (test/support/fake-daemon.ts), driven directly and through @openfeature/web-sdk
 * as a page would. Expected values follow from the flag definitions below and flagd's semantics.
 */
import {
  ErrorCode,
  GeneralError,
  OpenFeature,
  ProviderEvents,
  ProviderFatalError,
  ProviderStatus,
  StandardResolutionReasons,
  type EvaluationContext,
} from '@openfeature/web-sdk';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderConfigError, VexilWebProvider, type VexilWebProviderOptions } from '../src/index.js';
import { startFakeDaemon, type FakeDaemon, type FlagSet } from './support/fake-daemon.js';
import { MemoryStorage, eventually, logEvents, sleep } from './support/helpers.js';

const FLAGS: FlagSet = {
  metadata: { flagSetId: 'web', version: 1 },
  flags: {
    'new-checkout': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', null] },
    },
    banner: { state: 'ENABLED', variants: { spring: 'Spring sale', none: '' }, defaultVariant: 'spring', metadata: { owner: 'growth' } },
    'max-items': { state: 'ENABLED', variants: { low: 10, high: 50 }, defaultVariant: 'low' },
    theme: {
      state: 'ENABLED',
      variants: { light: { bg: '#fff' }, dark: { bg: '#000' } },
      defaultVariant: 'light',
      targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'dark', null] },
    },
    'switched-off': { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
  },
};

/** FLAGS with one flag's definition replaced (or added). */
function withFlag(key: string, def: unknown, base: FlagSet = FLAGS): FlagSet {
  return { ...base, flags: { ...base.flags, [key]: def } };
}

const ANN: EvaluationContext = { targetingKey: 'u-ann', email: 'ann@example.com' };
const BOB: EvaluationContext = { targetingKey: 'u-bob', email: 'bob@vexil.dev', plan: 'pro' };
const FAST = { retryBackoffMs: 50, retryBackoffMaxMs: 200, retryGracePeriod: 0.3 } as const;

const daemons: FakeDaemon[] = [];
const providers: VexilWebProvider[] = [];
let domainCount = 0;

async function daemon(flags: FlagSet = FLAGS): Promise<FakeDaemon> {
  const d = await startFakeDaemon(flags);
  daemons.push(d);
  return d;
}

function provider(d: FakeDaemon, options: Partial<VexilWebProviderOptions> = {}): VexilWebProvider {
  const p = new VexilWebProvider({ baseUrl: d.url, ...FAST, ...options });
  providers.push(p);
  return p;
}

/** The provider set in a fresh OpenFeature domain, as a page does; resolves when the SDK says READY. */
async function bind(p: VexilWebProvider, context: EvaluationContext) {
  const domain = `web-${++domainCount}`;
  await OpenFeature.setContext(domain, context);
  const client = OpenFeature.getClient(domain);
  const log = logEvents(client);
  const ready = OpenFeature.setProviderAndWait(domain, p);
  return { domain, client, log, ready };
}

afterEach(async () => {
  await OpenFeature.clearProviders();
  await Promise.all(providers.splice(0).map((p) => p.onClose()));
  await Promise.all(daemons.splice(0).map((d) => d.close()));
  delete (globalThis as { localStorage?: unknown }).localStorage;
});

describe('local mode', () => {
  it('evaluates every flag in the page for the context it was given, and again for a new context', async () => {
    const d = await daemon();
    const p = provider(d);
    const { domain, client, log, ready } = await bind(p, ANN);
    await ready;

    expect(client.getBooleanDetails('new-checkout', true)).toMatchObject({ value: false, variant: 'off', reason: StandardResolutionReasons.DEFAULT });
    expect(client.getStringDetails('banner', 'x')).toMatchObject({ value: 'Spring sale', variant: 'spring', reason: StandardResolutionReasons.STATIC });
    expect(client.getStringDetails('banner', 'x').flagMetadata).toEqual({ flagSetId: 'web', version: 1, owner: 'growth' });
    expect(client.getNumberValue('max-items', 0)).toBe(10);
    expect(client.getObjectValue('theme', {})).toEqual({ bg: '#fff' });

    await OpenFeature.setContext(domain, BOB);
    expect(client.getBooleanDetails('new-checkout', false)).toMatchObject({ value: true, variant: 'on', reason: StandardResolutionReasons.TARGETING_MATCH });
    expect(client.getObjectValue('theme', {})).toEqual({ bg: '#000' });
    // Evaluated synchronously: the SDK goes straight to CONTEXT_CHANGED, without RECONCILING.
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.ContextChanged]);
    // One rules request and one stream: evaluation itself never goes to the network.
    expect(d.count('/vexil/v1/rules')).toBe(1);
    expect(d.count('/ofrep/v1/evaluate/flags')).toBe(0);
  });

  it('answers unknown, disabled and mistyped flags as flagd does', async () => {
    const d = await daemon();
    const p = provider(d);
    await p.initialize(ANN);
    expect(p.resolveBooleanEvaluation('nope', true)).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(p.resolveBooleanEvaluation('switched-off', false)).toMatchObject({ value: false, reason: 'DISABLED' });
    // The engine's type check, with its message (the provider used to drop it).
    expect(p.resolveNumberEvaluation('banner', 7)).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
      errorMessage: 'Evaluated type of the flag banner does not match. Expected number, got string',
    });
  });

  it('sends the selector as a query parameter on the rules and stream requests', async () => {
    const d = await daemon();
    const p = provider(d, { selector: 'flagSetId=web' });
    await p.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    for (const path of ['/vexil/v1/rules', '/vexil/v1/stream']) expect(d.requests.find((r) => r.path === path)?.query.get('selector')).toBe('flagSetId=web');
  });

  it('announces over SSE only the flags whose value or variant changed for the current context, within 1 s', async () => {
    const d = await daemon();
    const p = provider(d);
    const { client, log, ready } = await bind(p, ANN);
    await ready;
    await eventually(() => d.openStreams() === 1);

    let next = withFlag('banner', { ...(FLAGS.flags['banner'] as object), variants: { spring: 'Summer sale', none: '' } });
    // Ann is not staff before or after: a changed rule that does not change her value.
    next = withFlag('new-checkout', { ...(FLAGS.flags['new-checkout'] as object), targeting: { if: [{ ends_with: [{ var: 'email' }, '@staff.vexil.dev'] }, 'on', null] } }, next);
    next = withFlag('max-items', { ...(FLAGS.flags['max-items'] as object), metadata: { note: 'metadata only' } }, next);
    next = withFlag('added', { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: 'a' }, next);
    const pushed = performance.now();
    d.setFlags(next);

    const changed = await eventually(() => log.find((e) => e.type === ProviderEvents.ConfigurationChanged));
    expect(changed.at - pushed).toBeLessThan(1000);
    expect([...(changed.flagsChanged ?? [])].sort()).toEqual(['added', 'banner']);
    expect(client.getStringValue('banner', 'x')).toBe('Summer sale');
    expect(client.getStringValue('added', 'x')).toBe('A');

    // A change that alters nothing for Ann's context announces nothing at all.
    d.setFlags(withFlag('new-checkout', { ...(FLAGS.flags['new-checkout'] as object), targeting: { if: [{ ends_with: [{ var: 'email' }, '@x.dev'] }, 'on', null] } }, next));
    d.keepAlive();
    await sleep(300);
    expect(log.filter((e) => e.type === ProviderEvents.ConfigurationChanged)).toHaveLength(1);
  });

  it('lists a flag that changed for a context set before the change', async () => {
    const d = await daemon();
    const p = provider(d);
    await p.initialize(ANN);
    p.onContextChange(ANN, BOB);
    await eventually(() => d.openStreams() === 1);
    const log = logEvents(p.events);
    d.setFlags(withFlag('new-checkout', { ...(FLAGS.flags['new-checkout'] as object), targeting: { if: [{ ends_with: [{ var: 'email' }, '@staff.vexil.dev'] }, 'on', null] } }));
    const changed = await eventually(() => log.find((e) => e.type === ProviderEvents.ConfigurationChanged));
    expect(changed.flagsChanged).toEqual(['new-checkout']);
    expect(p.resolveBooleanEvaluation('new-checkout', true).value).toBe(false);
  });

  it('goes STALE when the stream drops, ERROR after the grace period, then READY and CONFIGURATION_CHANGED when back', async () => {
    const d = await daemon();
    const p = provider(d);
    const { client, log, ready } = await bind(p, ANN);
    await ready;
    await eventually(() => d.openStreams() === 1);

    d.down = true;
    const dropped = performance.now();
    d.dropStreams();
    const stale = await eventually(() => log.find((e) => e.type === ProviderEvents.Stale));
    expect(stale.at - dropped).toBeLessThan(500);
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    // Meanwhile the last flags keep answering.
    expect(client.getStringValue('banner', 'x')).toBe('Spring sale');

    const error = await eventually(() => log.find((e) => e.type === ProviderEvents.Error), 3000);
    expect(error.at - stale.at).toBeGreaterThanOrEqual(290);
    expect(error.at - stale.at).toBeLessThan(1000);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(client.getStringValue('banner', 'x')).toBe('Spring sale');

    d.setFlags(withFlag('banner', { state: 'ENABLED', variants: { autumn: 'Autumn sale' }, defaultVariant: 'autumn' }));
    d.down = false;
    await eventually(() => log.find((e) => e.type === ProviderEvents.ConfigurationChanged));
    const after = log.slice(log.indexOf(error) + 1).map((e) => [e.type, e.flagsChanged]);
    expect(after).toEqual([
      [ProviderEvents.Ready, undefined],
      [ProviderEvents.ConfigurationChanged, ['banner']],
    ]);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(client.getStringValue('banner', 'x')).toBe('Autumn sale');
  });

  it('reconnects after the daemon says goodbye (event: shutdown), READY without changes', async () => {
    const d = await daemon();
    const p = provider(d);
    await p.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    const log = logEvents(p.events);
    d.shutdownStreams();
    await eventually(() => log.some((e) => e.type === ProviderEvents.Ready));
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Stale, ProviderEvents.Ready]);
    expect(d.count('/vexil/v1/stream')).toBe(2);
  });

  it('retries with exponential backoff and jitter, up to retryBackoffMaxMs, and starts over once connected', async () => {
    const d = await daemon();
    const p = provider(d, { retryBackoffMs: 100, retryBackoffMaxMs: 800, retryGracePeriod: 60 });
    await p.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    d.down = true;
    const from = d.requests.length;
    d.dropStreams();
    await sleep(3500);
    const attempts = d.requests.slice(from).filter((r) => r.path === '/vexil/v1/stream').map((r) => r.at);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    console.log(`reconnect gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    // The delay before retry i+1 lies in [d/2, d] with d = min(800, 100 * 2^(i+1)).
    gaps.forEach((gap, i) => {
      const ceiling = Math.min(800, 100 * 2 ** (i + 1));
      expect(gap).toBeGreaterThanOrEqual(ceiling / 2 - 5);
      expect(gap).toBeLessThanOrEqual(ceiling + 250);
    });
    expect(attempts.length).toBeGreaterThanOrEqual(5);
    expect(attempts.length).toBeLessThanOrEqual(10);

    const log = logEvents(p.events);
    d.down = false;
    await eventually(() => log.some((e) => e.type === ProviderEvents.Ready), 3000);
    // Connected again: the next outage starts from retryBackoffMs.
    d.down = true;
    const again = d.requests.length;
    d.dropStreams();
    await sleep(350);
    expect(d.requests.slice(again).filter((r) => r.path === '/vexil/v1/stream').length).toBeGreaterThanOrEqual(2);
  });

  it("fails initialize with a fatal error that says to use mode 'remote' when the rules are not exposed", async () => {
    const d = await daemon();
    d.exposed = false;
    const p = provider(d);
    const err = await p.initialize(ANN).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderFatalError);
    expect((err as Error).message).toContain('RULES_NOT_EXPOSED');
    expect((err as Error).message).toContain("mode 'remote'");
    await sleep(200);
    // Retrying cannot help: no stream, no second request.
    expect(d.requests.map((r) => r.path)).toEqual(['/vexil/v1/rules']);
  });

  it('is FATAL in the SDK on a 403, and when the exposure is withdrawn while it runs', async () => {
    const d = await daemon();
    d.exposed = false;
    const first = await bind(provider(d), ANN);
    await expect(first.ready).rejects.toThrow(/mode 'remote'/);
    expect(first.client.providerStatus).toBe(ProviderStatus.FATAL);

    d.exposed = true;
    const p = provider(d);
    const second = await bind(p, ANN);
    await second.ready;
    await eventually(() => d.openStreams() === 1);
    d.exposed = false;
    d.dropStreams();
    const error = await eventually(() => second.log.find((e) => e.type === ProviderEvents.Error));
    expect(error.errorCode).toBe(ErrorCode.PROVIDER_FATAL);
    expect(second.client.providerStatus).toBe(ProviderStatus.FATAL);
    const seen = d.requests.length;
    await sleep(300);
    expect(d.requests.length).toBe(seen);
  });

  it('rejects initialize when the daemon is unreachable, keeps trying, and turns READY when it answers', async () => {
    const d = await daemon();
    d.down = true;
    const p = provider(d, { cache: false });
    const log = logEvents(p.events);
    const err = await p.initialize(ANN).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GeneralError);
    expect(p.resolveBooleanEvaluation('new-checkout', true)).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_NOT_READY });
    await sleep(150);
    d.down = false;
    await eventually(() => log.some((e) => e.type === ProviderEvents.Ready));
    // The SDK already shows ERROR: no STALE for an outage it reported itself.
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]);
    expect(p.resolveStringEvaluation('banner', 'x').value).toBe('Spring sale');
  });

  it('keeps the last good flag set when the daemon sends one it refuses', async () => {
    const d = await daemon();
    const errors: string[] = [];
    const p = new VexilWebProvider({ baseUrl: d.url, ...FAST }, { error: (m: string) => errors.push(m), warn() {}, info() {}, debug() {} });
    providers.push(p);
    await p.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    d.setFlags({ flags: { bad: { state: 'MAYBE', variants: { a: 1 }, defaultVariant: 'a' } } });
    await eventually(() => errors.length === 1);
    expect(errors[0]).toMatch(/refused a flag set: .*state/);
    expect(p.resolveStringEvaluation('banner', 'x').value).toBe('Spring sale');
  });
});

describe('localStorage cache', () => {
  it('keeps the last rule set with its ETag, revalidates it (304), and starts from it while the daemon is away', async () => {
    const storage = new MemoryStorage();
    (globalThis as { localStorage?: unknown }).localStorage = storage;
    const d = await daemon();
    const first = provider(d);
    await first.initialize(ANN);
    const key = `vexil:${d.url}|`;
    const [rules, etag] = JSON.parse(storage.getItem(key) as string) as [string, string];
    expect(JSON.parse(rules)).toEqual(FLAGS);
    expect(etag).toMatch(/^".+"$/);
    await first.onClose();

    // A reload while the daemon is up: the kept set is revalidated, not downloaded again.
    const second = provider(d);
    await second.initialize(ANN);
    expect(d.requests.filter((r) => r.path === '/vexil/v1/rules').map((r) => [r.headers['if-none-match'], r.status])).toEqual([
      [undefined, 200],
      [etag, 304],
    ]);
    expect(second.resolveStringEvaluation('banner', 'x').value).toBe('Spring sale');
    await second.onClose();

    // A reload while the daemon is away: READY from the kept rules, STALE right after.
    d.down = true;
    const third = provider(d);
    const { client, log, ready } = await bind(third, BOB);
    await ready;
    expect(client.getBooleanValue('new-checkout', false)).toBe(true);
    await eventually(() => client.providerStatus === ProviderStatus.STALE);
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.Stale]);

    d.setFlags(withFlag('max-items', { state: 'ENABLED', variants: { high: 50 }, defaultVariant: 'high' }));
    d.down = false;
    await eventually(() => log.some((e) => e.type === ProviderEvents.ConfigurationChanged), 3000);
    expect(log.slice(2).map((e) => [e.type, e.flagsChanged])).toEqual([
      [ProviderEvents.Ready, undefined],
      [ProviderEvents.ConfigurationChanged, ['max-items']],
    ]);
    expect(client.getNumberValue('max-items', 0)).toBe(50);
    // The stream's rule set is kept too.
    expect(JSON.parse((JSON.parse(storage.getItem(key) as string) as [string])[0]).flags['max-items'].defaultVariant).toBe('high');
  });

  it('is not used with cache: false, is dropped on a 403, and is keyed by selector', async () => {
    const storage = new MemoryStorage();
    (globalThis as { localStorage?: unknown }).localStorage = storage;
    const d = await daemon();
    const withSelector = provider(d, { selector: 'flagSetId=web' });
    await withSelector.initialize(ANN);
    expect([...storage.items.keys()]).toEqual([`vexil:${d.url}|flagSetId=web`]);

    const off = provider(d, { selector: 'flagSetId=web', cache: false });
    d.down = true;
    await expect(off.initialize(ANN)).rejects.toBeInstanceOf(GeneralError);
    d.down = false;

    d.exposed = false;
    await expect(provider(d, { selector: 'flagSetId=web' }).initialize(ANN)).rejects.toBeInstanceOf(ProviderFatalError);
    expect(storage.items.size).toBe(0);
  });

  it('ignores a storage that throws or holds garbage', async () => {
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: () => '{not json',
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    };
    const d = await daemon();
    const p = provider(d);
    await p.initialize(ANN);
    expect(p.resolveStringEvaluation('banner', 'x').value).toBe('Spring sale');
  });
});

describe('remote mode', () => {
  it('evaluates on the daemon (OFREP bulk), per context, without ever asking for rules', async () => {
    const broken = withFlag('broken', { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'a', targeting: { 'no-such-op': [] } });
    const d = await daemon(broken);
    d.exposed = false;
    const p = provider(d, { mode: 'remote', selector: 'flagSetId=web' });
    const { domain, client, log, ready } = await bind(p, ANN);
    await ready;

    expect(client.getBooleanDetails('new-checkout', true)).toMatchObject({ value: false, variant: 'off', reason: 'DEFAULT' });
    expect(client.getStringDetails('banner', 'x')).toMatchObject({ value: 'Spring sale', variant: 'spring', reason: 'STATIC', flagMetadata: { flagSetId: 'web', owner: 'growth' } });
    expect(client.getNumberDetails('broken', 5)).toMatchObject({ value: 5, errorCode: ErrorCode.PARSE_ERROR });
    expect(client.getBooleanDetails('nope', true)).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    // flagd's bulk evaluation leaves disabled flags out.
    expect(client.getBooleanDetails('switched-off', true)).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(client.getNumberDetails('banner', 1)).toMatchObject({ value: 1, errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: expect.stringContaining('Expected number, got string') });

    await OpenFeature.setContext(domain, BOB);
    expect(client.getBooleanValue('new-checkout', false)).toBe(true);
    expect(client.getObjectValue('theme', {})).toEqual({ bg: '#000' });
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.Reconciling, ProviderEvents.ContextChanged]);

    const bulk = d.requests.filter((r) => r.path === '/ofrep/v1/evaluate/flags');
    expect(bulk[0].headers['flagd-selector']).toBe('flagSetId=web');
    expect(d.count('/vexil/v1/rules')).toBe(0);
    await eventually(() => d.openStreams() === 1);
    const stream = d.requests.find((r) => r.path === '/vexil/v1/stream');
    expect(stream?.query.get('rules')).toBe('false');
    expect(stream?.query.get('selector')).toBe('flagSetId=web');
  });

  it('refetches on every change event, keeps its results on 304, and announces only changed values', async () => {
    const d = await daemon();
    const p = provider(d, { mode: 'remote' });
    await p.initialize(BOB);
    const log = logEvents(p.events);
    await eventually(() => d.openStreams() === 1);
    // The stream's `ready` refetches once, to catch a change between the first fetch and the stream: 304.
    await eventually(() => d.count('/ofrep/v1/evaluate/flags', 304) === 1);

    // Bob still matches: the bulk answer is byte for byte the same, so 304 and nothing announced.
    d.setFlags(withFlag('new-checkout', { ...(FLAGS.flags['new-checkout'] as object), targeting: { if: [{ ends_with: [{ var: 'email' }, 'vexil.dev'] }, 'on', null] } }));
    await eventually(() => d.count('/ofrep/v1/evaluate/flags', 304) === 2);
    await sleep(100);
    expect(log).toEqual([]);
    expect(p.resolveBooleanEvaluation('new-checkout', false).value).toBe(true);

    const pushed = performance.now();
    d.setFlags(withFlag('banner', { state: 'ENABLED', variants: { spring: 'Spring sale' }, defaultVariant: 'spring', metadata: { owner: 'web' } }, withFlag('max-items', { state: 'ENABLED', variants: { high: 50 }, defaultVariant: 'high' })));
    const changed = await eventually(() => log.find((e) => e.type === ProviderEvents.ConfigurationChanged));
    expect(changed.at - pushed).toBeLessThan(1000);
    // banner's metadata changed, not its value: only max-items is listed.
    expect(changed.flagsChanged).toEqual(['max-items']);
    expect(p.resolveNumberEvaluation('max-items', 0).value).toBe(50);
    expect(p.resolveStringEvaluation('banner', 'x').flagMetadata).toMatchObject({ owner: 'web' });
  });

  it('goes STALE and ERROR without its stream, and READY with what changed when it is back', async () => {
    const d = await daemon();
    const p = provider(d, { mode: 'remote' });
    await p.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    const log = logEvents(p.events);
    d.down = true;
    d.dropStreams();
    await eventually(() => log.some((e) => e.type === ProviderEvents.Error));
    d.setFlags(withFlag('max-items', { state: 'ENABLED', variants: { high: 50 }, defaultVariant: 'high' }));
    d.down = false;
    await eventually(() => log.some((e) => e.type === ProviderEvents.ConfigurationChanged), 3000);
    expect(log.map((e) => [e.type, e.flagsChanged])).toEqual([
      [ProviderEvents.Stale, undefined],
      [ProviderEvents.Error, undefined],
      [ProviderEvents.Ready, undefined],
      [ProviderEvents.ConfigurationChanged, ['max-items']],
    ]);
  });

  it('drops the old context’s answers when the fetch for a new context fails, and recovers through the stream', async () => {
    const d = await daemon();
    const p = provider(d, { mode: 'remote' });
    const { domain, client, log, ready } = await bind(p, ANN);
    await ready;
    await eventually(() => d.openStreams() === 1);
    d.down = true;
    await OpenFeature.setContext(domain, BOB);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    // Not Ann's answers for Bob: the code default.
    expect(client.getBooleanDetails('new-checkout', false)).toMatchObject({ value: false, errorCode: ErrorCode.PROVIDER_NOT_READY });
    d.down = false;
    await eventually(() => client.providerStatus === ProviderStatus.READY, 3000);
    expect(client.getBooleanValue('new-checkout', false)).toBe(true);
    // Bob's first answers are not "changes": READY tells the page to read its flags again.
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.Reconciling, ProviderEvents.Error, ProviderEvents.Ready]);
  });
});

describe('options', () => {
  it.each<[string, Record<string, unknown>]>([
    ['baseUrl', {}],
    ['baseUrl', { baseUrl: 'localhost:8016' }],
    ['baseUrl', { baseUrl: 8016 }],
    ['mode', { baseUrl: 'http://x', mode: 'edge' }],
    ['selector', { baseUrl: 'http://x', selector: 5 }],
    ['retryBackoffMs', { baseUrl: 'http://x', retryBackoffMs: 0 }],
    ['retryBackoffMs', { baseUrl: 'http://x', retryBackoffMs: '100' }],
    ['retryBackoffMaxMs', { baseUrl: 'http://x', retryBackoffMaxMs: Infinity }],
    ['retryBackoffMaxMs', { baseUrl: 'http://x', retryBackoffMs: 2000, retryBackoffMaxMs: 1000 }],
    ['retryGracePeriod', { baseUrl: 'http://x', retryGracePeriod: -1 }],
    ['retryGracePeriod', { baseUrl: 'http://x', retryGracePeriod: Number.NaN }],
    ['timeoutMs', { baseUrl: 'http://x', timeoutMs: 0 }],
    ['cache', { baseUrl: 'http://x', cache: 'yes' }],
    ['fetch', { baseUrl: 'http://x', fetch: 'window.fetch' }],
  ])('refuses a bad %s at construction, naming it', (option, options) => {
    let err: unknown;
    try {
      new VexilWebProvider(options as unknown as VexilWebProviderOptions);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect(err).toMatchObject({ name: 'ProviderConfigError', code: 'INVALID_OPTION', option });
    expect((err as Error).message.startsWith(`${option}: `)).toBe(true);
  });

  it('fills in the defaults and takes a same-origin path', () => {
    expect(new VexilWebProvider({ baseUrl: 'http://localhost:8016/' }).config).toMatchObject({
      baseUrl: 'http://localhost:8016',
      mode: 'local',
      selector: undefined,
      retryBackoffMs: 1000,
      retryBackoffMaxMs: 12000,
      retryGracePeriod: 5,
      timeoutMs: 5000,
      cache: true,
    });
    expect(new VexilWebProvider({ baseUrl: '/flags', mode: 'remote', retryGracePeriod: null as never }).config).toMatchObject({ baseUrl: '/flags', mode: 'remote', retryGracePeriod: 5 });
    expect(Object.isFrozen(new VexilWebProvider({ baseUrl: '/' }).config)).toBe(true);
  });

  it('uses the fetch it is given, and gives up on a request after timeoutMs', async () => {
    const calls: string[] = [];
    // Never answers, but honours its signal as fetch does.
    const hanging: typeof fetch = (input, init) => {
      calls.push(String(input));
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    };
    const p = new VexilWebProvider({ baseUrl: 'http://daemon.test', fetch: hanging, timeoutMs: 100, cache: false });
    providers.push(p);
    const started = performance.now();
    await expect(p.initialize(ANN)).rejects.toThrow(/no answer in 100 ms/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(calls).toEqual(['http://daemon.test/vexil/v1/rules?']);
  });
});

describe('onClose', () => {
  it('ends the stream and stops retrying and the grace timer', async () => {
    const d = await daemon();
    const p = provider(d);
    await p.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    await p.onClose();
    await eventually(() => d.openStreams() === 0);

    const q = provider(d);
    await q.initialize(ANN);
    await eventually(() => d.openStreams() === 1);
    const log = logEvents(q.events);
    d.down = true;
    d.dropStreams();
    await eventually(() => log.some((e) => e.type === ProviderEvents.Stale));
    await q.onClose();
    const seen = d.requests.length;
    await sleep(500);
    expect(d.requests.length).toBe(seen);
    expect(log.map((e) => e.type)).toEqual([ProviderEvents.Stale]);
  });

  it('can be initialized again after a close, and follows changes as before', async () => {
    const d = await daemon();
    const p = provider(d);
    await p.initialize(ANN);
    await p.onClose();
    await p.initialize(BOB);
    expect(p.resolveBooleanEvaluation('new-checkout', false).value).toBe(true);
    await eventually(() => d.openStreams() === 1);
    const log = logEvents(p.events);
    d.setFlags(withFlag('banner', { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: 'a' }));
    await eventually(() => log.some((e) => e.type === ProviderEvents.ConfigurationChanged));
  });

  it('leaves nothing behind that keeps a process alive', async () => {
    const d = await daemon();
    const script = fileURLToPath(new URL('./support/close-and-exit.mjs', import.meta.url));
    for (const mode of ['local', 'remote']) {
      const child = spawn(process.execPath, [script, JSON.stringify({ baseUrl: d.url, mode })], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
      expect(out.trim().split('\n')).toEqual(['value Spring sale', 'closed']);
      expect(code).toBe(0);
    }
  });
});

describe('evaluation budget', () => {
  it('evaluates 100 flags for a new context in well under 1 ms (median)', async () => {
    const flags: Record<string, unknown> = {};
    for (let i = 0; i < 25; i++) {
      flags[`static-${i}`] = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' };
      flags[`email-${i}`] = {
        state: 'ENABLED',
        variants: { a: 'a', b: 'b' },
        defaultVariant: 'a',
        targeting: { if: [{ ends_with: [{ var: 'email' }, `@team${i}.dev`] }, 'b', null] },
      };
      flags[`rollout-${i}`] = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { fractional: [['on', 50], ['off', 50]] } };
      flags[`version-${i}`] = {
        state: 'ENABLED',
        variants: { new: 2, old: 1 },
        defaultVariant: 'old',
        targeting: { if: [{ and: [{ sem_ver: [{ var: 'appVersion' }, '>=', `1.${i}.0`] }, { in: [{ var: 'country' }, ['DE', 'FR', 'NL']] }] }, 'new', null] },
      };
    }
    const d = await daemon({ flags });
    const p = provider(d);
    await p.initialize({ targetingKey: 'warm-up' });
    const times: number[] = [];
    let prev: EvaluationContext = {};
    for (let i = 0; i < 600; i++) {
      const ctx = { targetingKey: `user-${i}`, email: `u${i}@team${i % 30}.dev`, appVersion: `1.${i % 40}.3`, country: i % 2 ? 'DE' : 'US' };
      const t = performance.now();
      p.onContextChange(prev, ctx);
      times.push(performance.now() - t);
      prev = ctx;
    }
    const measured = times.slice(100).sort((a, b) => a - b);
    const median = measured[measured.length >> 1];
    console.log(`evaluating 100 flags for a new context: median ${(median * 1000).toFixed(0)} µs, p95 ${(measured[Math.floor(measured.length * 0.95)] * 1000).toFixed(0)} µs`);
    expect(median).toBeLessThan(5);
    expect(p.resolveBooleanEvaluation('static-3', false).value).toBe(true);
  });
});
