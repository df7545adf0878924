/**
 * VexilProvider against real daemons (and, for what a daemon never does, small fake gRPC servers),
 * driven through @openfeature/server-sdk as an application would. Every expectation is derived
 * from the flag definitions below and from the OpenFeature / flagd semantics they name, never
 * copied from a previous run.
 */
import {
  ErrorCode,
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
  StandardResolutionReasons,
  type Client,
  type EvaluationContext,
  type EvaluationDetails,
  type FlagValue,
} from '@openfeature/server-sdk';
import { status as grpcStatus } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { ProviderConfigError, VexilProvider, type VexilProviderOptions } from '../src/index.js';
import { startFakeSync, startRefusingServer, startSilentEvaluation, type FakeServer } from './support/fake-flagd.js';
import {
  CapturingLogger,
  bind,
  bindReady,
  cleanupDirs,
  eventually,
  freePorts,
  killVexil,
  selfSignedCertificate,
  startVexil,
  stopAllDaemons,
  tempDir,
  writeAtomic,
  type DaemonProcess,
  type Ports,
} from './support/harness.js';

// ---------------------------------------------------------------------------------------------
// Flag definitions and what they must resolve to

const FLAGS_A = {
  metadata: { flagSetId: 'set-a', version: '1' },
  flags: {
    'static-bool': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on', metadata: { owner: 'team-a' } },
    'static-string': { state: 'ENABLED', variants: { red: '#f00', blue: '#00f' }, defaultVariant: 'blue' },
    'static-number': { state: 'ENABLED', variants: { small: 1.5, big: 100 }, defaultVariant: 'small' },
    'static-object': { state: 'ENABLED', variants: { a: { tier: 'gold', limits: [1, 2] }, b: { tier: 'basic' } }, defaultVariant: 'a' },
    targeted: {
      state: 'ENABLED',
      variants: { internal: 'staff', external: 'public' },
      defaultVariant: 'external',
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'internal', null] },
    },
    'switched-off': { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
  },
};

/** FLAGS_A with static-string changed, static-number removed and `added` added: three keys. */
const FLAGS_A_CHANGED = {
  ...FLAGS_A,
  flags: {
    ...Object.fromEntries(Object.entries(FLAGS_A.flags).filter(([key]) => key !== 'static-number')),
    'static-string': { ...FLAGS_A.flags['static-string'], defaultVariant: 'red' },
    added: { state: 'ENABLED', variants: { yes: 'new' }, defaultVariant: 'yes' },
  },
};
const CHANGED_KEYS = ['added', 'static-number', 'static-string'];

/** A second source: static-bool collides with FLAGS_A's (and differs), b-only is its own. */
const FLAGS_B = {
  metadata: { flagSetId: 'set-b' },
  flags: {
    'static-bool': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
    'b-only': { state: 'ENABLED', variants: { x: 'from-b', y: 'changed-b' }, defaultVariant: 'x' },
  },
};

type Details = EvaluationDetails<FlagValue>;
type Expected = Partial<Pick<Details, 'value' | 'variant' | 'reason' | 'errorCode' | 'flagMetadata'>>;

const SET_A_METADATA = { flagSetId: 'set-a', version: '1' };

/**
 * What FLAGS_A resolves to, in every mode. Static flags: the default variant, STATIC, flag metadata
 * merged over the set's. `targeted`: TARGETING_MATCH for an @vexil.dev email, otherwise the rule
 * gives null, so the default variant with DEFAULT. A disabled flag: the caller's default,
 * DISABLED. Unknown key: FLAG_NOT_FOUND; a boolean read as a string: TYPE_MISMATCH.
 */
const FLAGS_A_TABLE: { name: string; evaluate(c: Client): Promise<Details>; expected: Expected }[] = [
  {
    name: 'static boolean',
    evaluate: (c) => c.getBooleanDetails('static-bool', false),
    expected: { value: true, variant: 'on', reason: 'STATIC', flagMetadata: { ...SET_A_METADATA, owner: 'team-a' } },
  },
  {
    name: 'static string',
    evaluate: (c) => c.getStringDetails('static-string', 'dflt'),
    expected: { value: '#00f', variant: 'blue', reason: 'STATIC', flagMetadata: SET_A_METADATA },
  },
  {
    name: 'static number',
    evaluate: (c) => c.getNumberDetails('static-number', 0),
    expected: { value: 1.5, variant: 'small', reason: 'STATIC', flagMetadata: SET_A_METADATA },
  },
  {
    name: 'static object',
    evaluate: (c) => c.getObjectDetails('static-object', {}),
    expected: { value: { tier: 'gold', limits: [1, 2] }, variant: 'a', reason: 'STATIC', flagMetadata: SET_A_METADATA },
  },
  {
    name: 'targeted, matching',
    evaluate: (c) => c.getStringDetails('targeted', 'dflt', { targetingKey: 'u1', email: 'ann@vexil.dev' }),
    expected: { value: 'staff', variant: 'internal', reason: 'TARGETING_MATCH', flagMetadata: SET_A_METADATA },
  },
  {
    name: 'targeted, not matching',
    evaluate: (c) => c.getStringDetails('targeted', 'dflt', { targetingKey: 'u2', email: 'bob@example.com' }),
    expected: { value: 'public', variant: 'external', reason: 'DEFAULT', flagMetadata: SET_A_METADATA },
  },
  {
    name: 'disabled',
    evaluate: (c) => c.getBooleanDetails('switched-off', false),
    expected: { value: false, reason: 'DISABLED' },
  },
  {
    name: 'unknown key',
    evaluate: (c) => c.getBooleanDetails('no-such-flag', true),
    expected: { value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND },
  },
  {
    name: 'wrong type',
    evaluate: (c) => c.getStringDetails('static-bool', 'dflt'),
    expected: { value: 'dflt', reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH },
  },
];

async function expectFlagsA(client: Client): Promise<void> {
  for (const { name, evaluate, expected } of FLAGS_A_TABLE) {
    const details = await evaluate(client);
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, details[k as keyof Details]]));
    expect(picked, name).toEqual(expected);
  }
}

// ---------------------------------------------------------------------------------------------
// Setup and teardown

const fakes: FakeServer[] = [];
async function fake<T extends FakeServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  fakes.push(started);
  return started;
}

afterEach(async () => {
  // Closes every provider bound during the test (onClose), then what they talked to.
  await OpenFeature.clearProviders();
  await Promise.allSettled(fakes.splice(0).map((f) => f.close()));
  await stopAllDaemons();
  cleanupDirs();
});

/** A daemon serving the given flag files (in a new temp directory), in order. */
async function flagDaemon(
  files: Record<string, object>,
  options: { args?: string[]; ports?: Partial<Ports>; dir?: string } = {},
): Promise<{ daemon: DaemonProcess; dir: string; path(name: string): string }> {
  const dir = options.dir ?? tempDir();
  const path = (name: string) => join(dir, name);
  const args: string[] = [];
  for (const [name, doc] of Object.entries(files)) {
    writeAtomic(path(name), doc);
    args.push('-f', `file:${path(name)}`);
  }
  const daemon = await startVexil([...args, ...(options.args ?? [])], options.ports);
  return { daemon, dir, path };
}

/** Options for a provider that reconnects quickly, so lifecycle tests stay short. */
const FAST_RETRY: VexilProviderOptions = { host: '127.0.0.1', retryBackoffMs: 100, retryBackoffMaxMs: 400, retryGracePeriod: 1 };

const sorted = (keys: readonly string[] | undefined) => [...(keys ?? [])].sort();

// ---------------------------------------------------------------------------------------------

describe('in-process mode against the daemon', () => {
  it('resolves values, variants, reasons and flag metadata of static and targeted flags', async () => {
    const { daemon } = await flagDaemon({ 'a.json': FLAGS_A });
    const { client } = await bindReady(new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync }));
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    await expectFlagsA(client);
  });

  it('announces a flag file change within 1 s with CONFIGURATION_CHANGED naming exactly the changed flags', async () => {
    const { daemon, path } = await flagDaemon({ 'a.json': FLAGS_A });
    const { client, events } = await bindReady(new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync }));

    const written = performance.now();
    writeAtomic(path('a.json'), FLAGS_A_CHANGED);
    const changed = await events.nth(ProviderEvents.ConfigurationChanged, 1);
    expect(changed.at - written).toBeLessThan(1_000);
    expect(sorted(changed.details.flagsChanged)).toEqual(CHANGED_KEYS);

    expect(await client.getStringValue('static-string', 'dflt')).toBe('#f00');
    expect(await client.getStringValue('added', 'dflt')).toBe('new');
    expect((await client.getNumberDetails('static-number', 7)).errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);
    // Unchanged flags are untouched and were not announced.
    expect(await client.getBooleanValue('static-bool', false)).toBe(true);
    expect(events.of(ProviderEvents.ConfigurationChanged)).toHaveLength(1);
  });

  it("with a selector, evaluates only the selected source's flags and hears only its changes", async () => {
    const { daemon, path } = await flagDaemon({ 'a.json': FLAGS_A, 'b.json': FLAGS_B });
    const base = { resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync } as const;
    const all = await bindReady(new VexilProvider(base));
    const onlyA = await bindReady(new VexilProvider({ ...base, selector: `file:${path('a.json')}` }));
    const onlyB = await bindReady(new VexilProvider({ ...base, selector: `file:${path('b.json')}` }));

    // Without a selector both sources merge and the later one (b) wins the colliding key.
    expect(await all.client.getBooleanValue('static-bool', true)).toBe(false);
    expect(await all.client.getStringValue('b-only', 'dflt')).toBe('from-b');
    expect(await all.client.getStringValue('static-string', 'dflt')).toBe('#00f');

    const a = await onlyA.client.getBooleanDetails('static-bool', false);
    expect([a.value, a.variant, a.flagMetadata['flagSetId']]).toEqual([true, 'on', 'set-a']);
    expect((await onlyA.client.getStringDetails('b-only', 'dflt')).errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);

    const b = await onlyB.client.getBooleanDetails('static-bool', true);
    expect([b.value, b.variant, b.flagMetadata['flagSetId']]).toEqual([false, 'off', 'set-b']);
    expect((await onlyB.client.getStringDetails('static-string', 'dflt')).errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);

    writeAtomic(path('b.json'), { ...FLAGS_B, flags: { ...FLAGS_B.flags, 'b-only': { ...FLAGS_B.flags['b-only'], defaultVariant: 'y' } } });
    expect(sorted((await onlyB.events.nth(ProviderEvents.ConfigurationChanged, 1)).details.flagsChanged)).toEqual(['b-only']);
    expect(sorted((await all.events.nth(ProviderEvents.ConfigurationChanged, 1)).details.flagsChanged)).toEqual(['b-only']);
    // The a-only stream gets nothing; give a stray message time to arrive before saying so.
    await new Promise((r) => setTimeout(r, 300));
    expect(onlyA.events.of(ProviderEvents.ConfigurationChanged)).toHaveLength(0);
    expect(await onlyB.client.getStringValue('b-only', 'dflt')).toBe('changed-b');
  });

  it("merges the daemon's sync_context (-X values) over each evaluation's context", async () => {
    const { daemon } = await flagDaemon({ 'a.json': FLAGS_A }, { args: ['-X', 'email=ops@vexil.dev'] });
    const { client } = await bindReady(new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync }));
    // As flagd's providers apply it (a before-hook's result): the daemon's values win.
    for (const context of [{}, { email: 'bob@example.com' }] as EvaluationContext[]) {
      expect(await client.getStringDetails('targeted', 'dflt', context)).toMatchObject({ value: 'staff', reason: 'TARGETING_MATCH' });
    }
  });
});

describe('in-process mode: flag sets the daemon itself would refuse (fake sync server)', () => {
  it('keeps evaluating the last good set, announces nothing for a refused one and logs the problem', async () => {
    const sync = await fake(startFakeSync());
    const good = {
      metadata: { flagSetId: 'fake' },
      flags: {
        f1: { state: 'ENABLED', variants: { one: 'one', two: 'two' }, defaultVariant: 'one' },
        f2: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
      },
    };
    sync.push(good);
    const logger = new CapturingLogger();
    const { client, events } = await bindReady(new VexilProvider({ resolverType: 'in-process', host: '127.0.0.1', port: sync.port }, logger));
    expect(await client.getStringValue('f1', 'dflt')).toBe('one');

    // A flag whose defaultVariant is not one of its variants: the whole set is refused.
    sync.push({ ...good, flags: { ...good.flags, f1: { ...good.flags.f1, defaultVariant: 'three' }, f2: { ...good.flags.f2, defaultVariant: 'on' } } });
    await eventually(() => logger.errors().length === 1);
    const refusal = logger.errors()[0];
    expect(refusal).toContain('"three"');
    expect(refusal).toContain('$.flags.f1.defaultVariant');
    // The path once: the engine's message already carries it.
    expect(refusal.split('$.flags.f1.defaultVariant')).toHaveLength(2);
    expect(await client.getStringValue('f1', 'dflt')).toBe('one');
    expect(await client.getBooleanValue('f2', true)).toBe(false);

    // Not JSON at all.
    sync.push('{"flags": {"f1": ');
    await eventually(() => logger.errors().length === 2);
    expect(logger.errors()[1]).toMatch(/not valid JSON/);
    expect(await client.getStringValue('f1', 'dflt')).toBe('one');

    // A good set again: messages arrive in order, so by its announcement any announcement of the
    // refused ones would have come; the change is computed against the last good set (only f2).
    sync.push({ ...good, flags: { ...good.flags, f2: { ...good.flags.f2, defaultVariant: 'on' } } });
    const changed = await events.nth(ProviderEvents.ConfigurationChanged, 1);
    expect(changed.details.flagsChanged).toEqual(['f2']);
    expect(events.of(ProviderEvents.ConfigurationChanged)).toHaveLength(1);
    expect(await client.getBooleanValue('f2', false)).toBe(true);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
  });
});

describe('lifecycle', () => {
  /** A daemon on fixed ports below the ephemeral range, so it can come back on the same ones. */
  async function restartableDaemon(): Promise<{ start(): Promise<DaemonProcess>; path: string; ports: Ports }> {
    const [evaluation, management, sync, ofrep] = await freePorts(4);
    const ports = { evaluation, management, sync, ofrep };
    const dir = tempDir();
    const path = join(dir, 'a.json');
    writeAtomic(path, FLAGS_A);
    return { start: () => startVexil(['-f', `file:${path}`], ports), path, ports };
  }

  it('in-process: STALE at once when the daemon dies, ERROR after retryGracePeriod, READY then CONFIGURATION_CHANGED when it is back', async () => {
    const d = await restartableDaemon();
    const daemon = await d.start();
    const { client, events } = await bindReady(new VexilProvider({ ...FAST_RETRY, resolverType: 'in-process', port: d.ports.sync }));

    const killed = performance.now();
    await killVexil(daemon);
    const stale = await events.nth(ProviderEvents.Stale, 1);
    expect(stale.at - killed).toBeLessThan(500);
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    // In process, the last flags keep answering while the daemon is away.
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: '#00f', reason: 'STATIC' });

    const error = await events.nth(ProviderEvents.Error, 1, 4_000);
    expect(error.at - stale.at).toBeGreaterThanOrEqual(950);
    expect(error.at - stale.at).toBeLessThan(2_000);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#00f');

    // Flags change while the daemon is down; it comes back on the same port.
    writeAtomic(d.path, FLAGS_A_CHANGED);
    await d.start();
    const ready = await events.nth(ProviderEvents.Ready, 2, 8_000); // the first was initialisation
    const changed = await events.nth(ProviderEvents.ConfigurationChanged, 1);
    expect(sorted(changed.details.flagsChanged)).toEqual(CHANGED_KEYS);
    expect(events.entries.indexOf(ready)).toBeLessThan(events.entries.indexOf(changed));
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#f00');
  });

  it('rpc: keeps answering CACHED while STALE, drops the cache at ERROR, resolves the new value after reconnecting', async () => {
    const d = await restartableDaemon();
    const daemon = await d.start();
    const { client, events } = await bindReady(new VexilProvider({ ...FAST_RETRY, resolverType: 'rpc', port: d.ports.evaluation }));
    expect((await client.getStringDetails('static-string', 'dflt')).reason).toBe(StandardResolutionReasons.STATIC);
    expect((await client.getStringDetails('static-string', 'dflt')).reason).toBe(StandardResolutionReasons.CACHED);

    await killVexil(daemon);
    await events.nth(ProviderEvents.Stale, 1);
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: '#00f', reason: 'CACHED' });

    await events.nth(ProviderEvents.Error, 1, 4_000);
    // The cache might be stale by now and the daemon is unreachable: the caller's default.
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: 'dflt', reason: 'ERROR', errorCode: ErrorCode.GENERAL });

    writeAtomic(d.path, FLAGS_A_CHANGED);
    await d.start();
    await events.nth(ProviderEvents.Ready, 2, 8_000);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: '#f00', reason: 'STATIC' });
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: '#f00', reason: 'CACHED' });
  });

  it.each(['in-process', 'rpc'] as const)('%s: fails initialisation when nothing listens, evaluates to the default with PROVIDER_NOT_READY, and becomes READY when the daemon starts', async (mode) => {
    const [port] = await freePorts(1);
    const started = performance.now();
    const { client, events, ready } = await bind(new VexilProvider({ ...FAST_RETRY, resolverType: mode, port, deadlineMs: 300 }));
    expect(ready.status).toBe('rejected');
    expect(performance.now() - started).toBeLessThan(2_000);
    // @openfeature/server-sdk 1.23: a rejected initialize means status ERROR and an ERROR event;
    // in ERROR (unlike NOT_READY and FATAL) the SDK still calls the provider, which has no flags.
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(events.of(ProviderEvents.Error)).toHaveLength(1);
    expect(await client.getBooleanDetails('static-bool', false)).toMatchObject({
      value: false,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.PROVIDER_NOT_READY,
    });

    const dir = tempDir();
    writeAtomic(join(dir, 'a.json'), FLAGS_A);
    await startVexil(['-f', `file:${join(dir, 'a.json')}`], mode === 'rpc' ? { evaluation: port } : { sync: port });
    await events.nth(ProviderEvents.Ready, 1, 8_000);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('static-bool', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('fails initialisation after deadlineMs when the stream opens but no flag set comes, then turns READY when one does', async () => {
    const sync = await fake(startFakeSync());
    const started = performance.now();
    const { client, events, ready } = await bind(new VexilProvider({ ...FAST_RETRY, resolverType: 'in-process', port: sync.port, deadlineMs: 300 }));
    const took = performance.now() - started;
    expect(ready.status).toBe('rejected');
    expect(String((ready as PromiseRejectedResult).reason)).toContain('300 ms');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_500);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);

    sync.push(FLAGS_A);
    await events.nth(ProviderEvents.Ready, 1);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#00f');
  });

  it.each(['in-process', 'rpc'] as const)('%s: a fatal status code on the first connection makes the provider FATAL and stops retrying', async (resolverType) => {
    const stream = resolverType === 'rpc' ? 'EventStream' : 'SyncFlags';
    const fatalServer = await fake(startRefusingServer(grpcStatus.PERMISSION_DENIED));
    const logger = new CapturingLogger();
    const options = { ...FAST_RETRY, retryBackoffMs: 50, retryBackoffMaxMs: 50, resolverType, port: fatalServer.port };
    const { client, ready } = await bind(new VexilProvider({ ...options, fatalStatusCodes: ['PERMISSION_DENIED'] }, logger));
    expect(ready.status).toBe('rejected');
    expect(((ready as PromiseRejectedResult).reason as { code?: string }).code).toBe(ErrorCode.PROVIDER_FATAL);
    expect(client.providerStatus).toBe(ProviderStatus.FATAL);
    expect(await client.getBooleanDetails('static-bool', true)).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_FATAL });
    expect(logger.errors().join('\n')).toContain('PERMISSION_DENIED');

    // The same refusals without fatalStatusCodes: ERROR, and retried every ~50 ms. This shows the
    // count below would have grown had the fatal provider retried.
    const retryServer = await fake(startRefusingServer(grpcStatus.PERMISSION_DENIED));
    const retrying = await bind(new VexilProvider({ ...options, port: retryServer.port }));
    expect(retrying.client.providerStatus).toBe(ProviderStatus.ERROR);
    await eventually(() => (retryServer.calls[stream] ?? 0) >= 4, 5_000);

    expect(fatalServer.calls[stream]).toBe(1);
  });
});

describe('onClose', () => {
  const script = fileURLToPath(new URL('./support/close-and-exit.mjs', import.meta.url));

  /** Runs the script; resolves with its exit code, its output and how long it lived after "closed". */
  function runScript(options: VexilProviderOptions, wait: 'wait' | 'nowait' = 'wait'): Promise<{ code: number | null; lines: string[]; afterClose: number; total: number }> {
    const started = performance.now();
    const child = spawn(process.execPath, [script, JSON.stringify(options), 'static-bool', wait], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let closedAt = Number.NaN;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (Number.isNaN(closedAt) && out.includes('closed\n')) closedAt = performance.now();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    // A process that does not exit by itself fails the test (and is not left behind).
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    return new Promise((resolve) =>
      child.once('exit', (code) => {
        clearTimeout(killer);
        const ended = performance.now();
        if (code !== 0) console.error(err);
        resolve({ code, lines: out.trim().split('\n'), afterClose: ended - closedAt, total: ended - started });
      }),
    );
  }

  it('can be set again after it was closed, and then follows changes as before', async () => {
    const { daemon, path } = await flagDaemon({ 'a.json': FLAGS_A });
    const provider = new VexilProvider({ resolverType: 'in-process', ...FAST_RETRY, port: daemon.ports.sync });
    const first = await bindReady(provider);
    await expectFlagsA(first.client);
    await OpenFeature.clearProviders();
    const again = await bindReady(provider);
    await expectFlagsA(again.client);
    writeAtomic(path('a.json'), FLAGS_A_CHANGED);
    expect(sorted((await again.events.nth(ProviderEvents.ConfigurationChanged, 1)).details.flagsChanged)).toEqual(CHANGED_KEYS);
  });

  it('lets a process that used a connected provider exit by itself, in every mode', async () => {
    const { daemon, path } = await flagDaemon({ 'a.json': FLAGS_A });
    const cases: VexilProviderOptions[] = [
      { resolverType: 'in-process', host: '127.0.0.1', port: daemon.ports.sync },
      { resolverType: 'rpc', host: '127.0.0.1', port: daemon.ports.evaluation },
      { resolverType: 'file', offlineFlagSourcePath: path('a.json') },
    ];
    const runs = await Promise.all(cases.map((options) => runScript(options)));
    for (const [i, run] of runs.entries()) {
      const label = JSON.stringify(cases[i]);
      expect(run.code, label).toBe(0);
      expect(JSON.parse(run.lines[0]), label).toMatchObject({ ready: true, value: true, reason: 'STATIC' });
      expect(run.lines[1], label).toBe('closed');
      expect(run.afterClose, label).toBeLessThan(2_000);
      expect(run.total, label).toBeLessThan(10_000);
    }
  });

  it('lets the process exit when the daemon was never reachable (retries pending)', async () => {
    const [port] = await freePorts(1);
    const cases: VexilProviderOptions[] = [
      { resolverType: 'in-process', host: '127.0.0.1', port, deadlineMs: 300, retryBackoffMs: 5_000 },
      { resolverType: 'rpc', host: '127.0.0.1', port, deadlineMs: 300, retryBackoffMs: 5_000 },
    ];
    const runs = await Promise.all(cases.map((options) => runScript(options)));
    for (const [i, run] of runs.entries()) {
      const label = JSON.stringify(cases[i]);
      expect(run.code, label).toBe(0);
      expect(JSON.parse(run.lines[0]), label).toMatchObject({ ready: false, value: false, reason: 'ERROR' });
      expect(run.lines[1], label).toBe('closed');
      // Well under the 5 s backoff: the pending retry timer must not hold the process.
      expect(run.afterClose, label).toBeLessThan(2_000);
    }
  });

  it('lets the process exit when closed while initialisation still waits for a first flag set (deadlineMs 20 s)', async () => {
    // Both accept the stream and never send anything on it.
    const sync = await fake(startFakeSync());
    const evaluation = await fake(startSilentEvaluation({ announceReady: false }));
    const cases: VexilProviderOptions[] = [
      { resolverType: 'in-process', host: '127.0.0.1', port: sync.port, deadlineMs: 20_000 },
      { resolverType: 'rpc', host: '127.0.0.1', port: evaluation.port, deadlineMs: 20_000 },
    ];
    const runs = await Promise.all(cases.map((options) => runScript(options, 'nowait')));
    for (const [i, run] of runs.entries()) {
      const label = JSON.stringify(cases[i]);
      expect(run.code, label).toBe(0);
      expect(run.lines.at(-1), label).toBe('closed');
      expect(run.afterClose, label).toBeLessThan(2_000);
    }
  });
});

describe('rpc mode against the daemon', () => {
  async function rpcProvider(options: VexilProviderOptions = {}) {
    const d = await flagDaemon({ 'a.json': FLAGS_A });
    const bound = await bindReady(new VexilProvider({ resolverType: 'rpc', host: '127.0.0.1', port: d.daemon.ports.evaluation, ...options }));
    return { ...d, ...bound };
  }

  it('resolves values, variants, reasons and flag metadata of static and targeted flags', async () => {
    const { client } = await rpcProvider();
    await expectFlagsA(client);
  });

  it('answers a STATIC flag from the daemon once, then CACHED; a targeted flag is never CACHED', async () => {
    const { client } = await rpcProvider();
    const first = await client.getBooleanDetails('static-bool', false);
    const second = await client.getBooleanDetails('static-bool', false);
    expect(first.reason).toBe(StandardResolutionReasons.STATIC);
    expect(second).toEqual({ ...first, reason: StandardResolutionReasons.CACHED });

    for (const email of ['ann@vexil.dev', 'bob@example.com', 'ann@vexil.dev', 'bob@example.com']) {
      const details = await client.getStringDetails('targeted', 'dflt', { targetingKey: 'u', email });
      expect(details.reason).toBe(email.endsWith('@vexil.dev') ? 'TARGETING_MATCH' : 'DEFAULT');
    }
  });

  it('on CONFIGURATION_CHANGED drops exactly the changed flags from the cache: the next evaluation is STATIC with the new value', async () => {
    const { client, events, path } = await rpcProvider();
    for (let i = 0; i < 2; i++) {
      await client.getStringDetails('static-string', 'dflt');
      await client.getBooleanDetails('static-bool', false);
    }
    expect((await client.getStringDetails('static-string', 'dflt')).reason).toBe('CACHED');

    writeAtomic(path('a.json'), FLAGS_A_CHANGED);
    const changed = await events.nth(ProviderEvents.ConfigurationChanged, 1);
    expect(sorted(changed.details.flagsChanged)).toEqual(CHANGED_KEYS);
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: '#f00', variant: 'red', reason: 'STATIC' });
    expect(await client.getStringDetails('static-string', 'dflt')).toMatchObject({ value: '#f00', reason: 'CACHED' });
    expect(await client.getBooleanDetails('static-bool', false)).toMatchObject({ value: true, reason: 'CACHED' });
  });

  it("with cache 'disabled', never answers CACHED", async () => {
    const { client } = await rpcProvider({ cache: 'disabled' });
    for (let i = 0; i < 3; i++) expect((await client.getBooleanDetails('static-bool', false)).reason).toBe('STATIC');
  });

  it('honours deadlineMs: a call the server never answers returns the default with GENERAL after about deadlineMs', async () => {
    const silent = await fake(startSilentEvaluation());
    const { client } = await bindReady(new VexilProvider({ resolverType: 'rpc', host: '127.0.0.1', port: silent.port, deadlineMs: 250 }));
    const started = performance.now();
    const details = await client.getBooleanDetails('static-bool', true);
    const took = performance.now() - started;
    expect(details).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.GENERAL });
    expect(silent.calls['ResolveBoolean']).toBe(1);
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took).toBeLessThan(1_250);
  });
});

describe('file mode', () => {
  const FORMATS = {
    json: { write: (doc: object) => JSON.stringify(doc, null, 2), broken: ['{"flags": {"static-bool": ', '{"flags": }'] },
    yaml: { write: (doc: object) => toYaml(doc), broken: ['flags:\n  static-bool: [unclosed\n', 'flags: {\n'] },
  } as const;

  it.each(['json', 'yaml'] as const)('%s: evaluates the file and announces an atomic rename within 1 s; invalid rewrites keep the last good flags', async (format) => {
    const { write, broken } = FORMATS[format];
    const path = join(tempDir(), `flags.${format}`);
    writeAtomic(path, write(FLAGS_A));
    const logger = new CapturingLogger();
    const { client, events } = await bindReady(new VexilProvider({ resolverType: 'file', offlineFlagSourcePath: path }, logger));
    await expectFlagsA(client);

    const written = performance.now();
    writeAtomic(path, write(FLAGS_A_CHANGED));
    const changed = await events.nth(ProviderEvents.ConfigurationChanged, 1);
    expect(changed.at - written).toBeLessThan(1_000);
    expect(sorted(changed.details.flagsChanged)).toEqual(CHANGED_KEYS);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#f00');

    const badDefault = { ...FLAGS_A_CHANGED, flags: { ...FLAGS_A_CHANGED.flags, added: { state: 'ENABLED', variants: { yes: 'new' }, defaultVariant: 'no' } } };
    // Each refused document is logged, two different broken ones in a row included.
    const refused = [...broken, write(badDefault)];
    for (const [i, bad] of refused.entries()) {
      writeAtomic(path, bad);
      await eventually(() => logger.errors().length === i + 1, 3_000);
      expect(logger.errors()[i]).toContain(path);
      expect(await client.getStringValue('static-string', 'dflt')).toBe('#f00');
      expect(await client.getStringValue('added', 'dflt')).toBe('new');
    }
    expect(logger.errors()[refused.length - 1]).toContain('$.flags.added.defaultVariant');

    // Still watching after the failures; the change is against the last good flags.
    writeAtomic(path, write(FLAGS_A));
    const back = await events.nth(ProviderEvents.ConfigurationChanged, 2);
    expect(sorted(back.details.flagsChanged)).toEqual(CHANGED_KEYS);
    expect(events.of(ProviderEvents.ConfigurationChanged)).toHaveLength(2);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#00f');
  });

  it('keeps the last good flags while the file is gone, says so once, and reads it again when it is back', async () => {
    const path = join(tempDir(), 'flags.json');
    writeAtomic(path, FLAGS_A);
    const logger = new CapturingLogger();
    const { client, events } = await bindReady(new VexilProvider({ resolverType: 'file', offlineFlagSourcePath: path, offlinePollIntervalMs: 50 }, logger));
    rmSync(path);
    await eventually(() => logger.errors().length > 0);
    // Several polls later, still one line.
    await new Promise((r) => setTimeout(r, 300));
    expect(logger.errors()).toHaveLength(1);
    expect(logger.errors()[0]).toContain(path);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#00f');

    writeAtomic(path, FLAGS_A_CHANGED);
    const changed = await events.nth(ProviderEvents.ConfigurationChanged, 1);
    expect(sorted(changed.details.flagsChanged)).toEqual(CHANGED_KEYS);
    expect(await client.getStringValue('static-string', 'dflt')).toBe('#f00');
  });

  it('fails initialisation with an error naming the path when the file does not exist', async () => {
    const path = join(tempDir(), 'missing.json');
    const { client, ready } = await bind(new VexilProvider({ resolverType: 'file', offlineFlagSourcePath: path }));
    expect(ready.status).toBe('rejected');
    expect(String((ready as PromiseRejectedResult).reason)).toContain(path);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
  });
});

describe('transports', () => {
  it('TLS: in-process and rpc connect to a daemon serving a self-signed certificate they trust (certPath)', async () => {
    const { certPath, keyPath } = selfSignedCertificate();
    const { daemon } = await flagDaemon({ 'a.json': FLAGS_A }, { args: ['-c', certPath, '-k', keyPath] });
    const tls = { host: '127.0.0.1', tls: true, certPath } as const;
    const inProcess = await bindReady(new VexilProvider({ ...tls, resolverType: 'in-process', port: daemon.ports.sync }));
    await expectFlagsA(inProcess.client);
    // By name this time: the certificate's DNS entry must match too.
    const rpc = await bindReady(new VexilProvider({ ...tls, host: 'localhost', resolverType: 'rpc', port: daemon.ports.evaluation }));
    await expectFlagsA(rpc.client);

    // Without the certificate the system roots do not vouch for it, and plain text is no TLS.
    for (const options of [{ tls: true }, { tls: false }]) {
      const refused = await bind(new VexilProvider({ host: '127.0.0.1', resolverType: 'in-process', port: daemon.ports.sync, deadlineMs: 1_000, ...options }));
      expect(refused.ready.status, JSON.stringify(options)).toBe('rejected');
    }
  });

  it('unix sockets: in-process over the sync socket (-e) and rpc over the evaluation socket (-d)', async () => {
    const dir = tempDir();
    const syncSocket = join(dir, 'sync.sock');
    const evaluationSocket = join(dir, 'eval.sock');
    await flagDaemon({ 'a.json': FLAGS_A }, { dir, args: ['-e', syncSocket, '-d', evaluationSocket] });
    const inProcess = await bindReady(new VexilProvider({ resolverType: 'in-process', socketPath: syncSocket }));
    await expectFlagsA(inProcess.client);
    const rpc = await bindReady(new VexilProvider({ resolverType: 'rpc', socketPath: evaluationSocket }));
    await expectFlagsA(rpc.client);
  });
});

describe('bad options', () => {
  function refusal(make: () => unknown): ProviderConfigError {
    try {
      make();
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderConfigError);
      return err as ProviderConfigError;
    }
    throw new Error('the constructor accepted the options');
  }

  it('refuses a port that is not a number, naming the option', () => {
    const err = refusal(() => new VexilProvider({ port: 'abc' as never }));
    expect([err.option, err.code]).toEqual(['port', 'INVALID_OPTION']);
    expect(err.message).toMatch(/^port: "abc"/);
  });

  it('refuses an unknown resolverType, naming the option', () => {
    const err = refusal(() => new VexilProvider({ resolverType: 'nope' as never }));
    expect(err.option).toBe('resolverType');
    expect(err.message).toMatch(/^resolverType: "nope"/);
  });

  it('refuses a certPath that cannot be read, naming the option and the path', () => {
    const missing = join(tempDir(), 'no-such-ca.pem');
    for (const resolverType of ['in-process', 'rpc'] as const) {
      const err = refusal(() => new VexilProvider({ resolverType, tls: true, certPath: missing }));
      expect(err.option).toBe('certPath');
      expect(err.message).toContain(missing);
      expect(err.message).toContain('ENOENT');
    }
  });

  it('refuses FLAGD_PORT=abc from the environment, naming the variable', () => {
    const saved = process.env['FLAGD_PORT'];
    process.env['FLAGD_PORT'] = 'abc';
    try {
      const err = refusal(() => new VexilProvider());
      expect(err.option).toBe('FLAGD_PORT');
      expect(err.message).toMatch(/^FLAGD_PORT: "abc"/);
    } finally {
      if (saved === undefined) delete process.env['FLAGD_PORT'];
      else process.env['FLAGD_PORT'] = saved;
    }
  });
});
