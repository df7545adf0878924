/**
 * The evaluation and sync servers in-process, over a FlagStore, on port 0: the fast checks of
 * every flagd.evaluation v1/v2 method and of flagd.sync.v1, driven by @grpc/grpc-js clients built
 * from the generated descriptors (and the evaluation port's Connect and gRPC-web side by
 * connect-node). daemon-process.spec.ts covers the same wire through the real `vexil` process.
 */
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { evaluationV1, evaluationV2, syncV1 } from '@vexil/proto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grpcServiceDefinition } from '../src/grpc/definitions.js';
import { createEvaluationServer, type EvaluationServer } from '../src/servers/evaluation/evaluation-server.js';
import { createSyncServer, type SyncServer } from '../src/servers/sync/sync-server.js';
import { FlagStore } from '../src/store/flag-store.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { BOOL_AND_STRING_FLAGS, CONTEXT_FLAGS } from './support/flags.js';

const SOURCE = 'file:in-process.json';
const OTHER = 'file:other.json';

const FLAGS = {
  metadata: { flagSetId: 'shop', version: 'v1' },
  flags: {
    ...BOOL_AND_STRING_FLAGS,
    'int-flag': { state: 'ENABLED', variants: { small: 3, big: 42 }, defaultVariant: 'big' },
    'float-flag': { state: 'ENABLED', variants: { pi: 3.14, e: 2.72 }, defaultVariant: 'pi' },
    'object-flag': { state: 'ENABLED', variants: { cfg: { color: 'red', size: 2 } }, defaultVariant: 'cfg', metadata: { owner: 'ui' } },
    // A list is not a google.protobuf.Struct: ResolveObject refuses it (TYPE_MISMATCH), as flagd does.
    'list-flag': { state: 'ENABLED', variants: { l: [1, 2] }, defaultVariant: 'l' },
    ...CONTEXT_FLAGS,
    'disabled-flag': { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'broken-flag': { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { nope: [1] } },
  },
};
const OTHER_FLAGS = { metadata: { flagSetId: 'other' }, flags: { 'other-flag': { state: 'ENABLED', variants: { x: 'x' }, defaultVariant: 'x' } } };

const silent = pino({ level: 'silent' });

type Reply = Record<string, unknown>;
type UnaryMethod = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Reply) => void) => void;
type StreamMethod = (req: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<Reply>;

const EvalV1Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(evaluationV1.Service), 'Service');
const EvalV2Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(evaluationV2.Service), 'Service');
const SyncClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(syncV1.FlagSyncService), 'FlagSyncService');

function unary(client: grpc.Client, method: string, req: unknown, md = new grpc.Metadata()): Promise<{ err: grpc.ServiceError | null; res?: Reply }> {
  return new Promise((resolve) => (client as unknown as Record<string, UnaryMethod>)[method].call(client, req, md, (err, res) => resolve({ err, res })));
}

async function ok(client: grpc.Client, method: string, req: unknown, md?: grpc.Metadata): Promise<Reply> {
  const { err, res } = await unary(client, method, req, md);
  if (err) throw new Error(`${method}: ${err.code} ${err.details}`);
  return res!;
}

/** A server stream read message by message: `next()` resolves with the next one, or rejects with the stream's error. */
function reader(call: grpc.ClientReadableStream<Reply>) {
  const queue: Reply[] = [];
  const waiting: { resolve: (m: Reply) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | undefined;
  let ended = false;
  const settle = () => {
    while (waiting.length > 0 && queue.length > 0) waiting.shift()!.resolve(queue.shift()!);
    if (failure || ended) for (const w of waiting.splice(0)) w.reject(failure ?? new Error('stream ended'));
  };
  call.on('data', (m: Reply) => (queue.push(m), settle()));
  call.on('error', (e: Error) => ((failure = e), settle()));
  call.on('end', () => ((ended = true), settle()));
  const status = new Promise<number>((resolve) => call.on('status', (s: grpc.StatusObject) => resolve(s.code)));
  return {
    next: (timeoutMs = 5_000) =>
      new Promise<Reply>((resolve, reject) => {
        const waiter = { resolve: (m: Reply) => (clearTimeout(t), resolve(m)), reject: (e: Error) => (clearTimeout(t), reject(e)) };
        // A waiter that timed out leaves the queue, so the next message goes to the next next().
        const t = setTimeout(() => (waiting.splice(waiting.indexOf(waiter), 1), reject(new Error(`no message within ${timeoutMs} ms`))), timeoutMs);
        waiting.push(waiter);
        settle();
      }),
    status,
    cancel: () => call.cancel(),
  };
}

function stream(client: grpc.Client, method: string, req: unknown, md = new grpc.Metadata()) {
  return reader((client as unknown as Record<string, StreamMethod>)[method].call(client, req, md));
}

describe('evaluation and sync servers in-process (port 0)', () => {
  let store: FlagStore;
  let evaluation: EvaluationServer;
  let sync: SyncServer;
  let evalPort: number;
  let syncPort: number;
  const clients: grpc.Client[] = [];
  const client = <C extends grpc.Client>(c: C): C => (clients.push(c), c);

  beforeEach(async () => {
    store = new FlagStore([SOURCE, OTHER]);
    expect(store.update(SOURCE, JSON.stringify(FLAGS)).ok).toBe(true);
    expect(store.update(OTHER, JSON.stringify(OTHER_FLAGS)).ok).toBe(true);
    const metrics = createMetrics({ defaultMetrics: false });
    const context = { contextValues: { env: 'prod' }, contextFromHeaders: { 'x-tier': 'tier' } };
    evaluation = createEvaluationServer({ store, logger: silent, metrics, host: '127.0.0.1', port: 0, corsOrigins: [], ...context });
    sync = createSyncServer({ store, logger: silent, metrics, host: '127.0.0.1', port: 0, contextValues: context.contextValues });
    evalPort = (await evaluation.start()).port;
    syncPort = (await sync.start()).port;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all([evaluation.close(), sync.close()]);
  });

  const evalClient = (version: 'v1' | 'v2') =>
    client(new (version === 'v1' ? EvalV1Client : EvalV2Client)(`127.0.0.1:${evalPort}`, grpc.credentials.createInsecure()));
  const syncClient = () => client(new SyncClient(`127.0.0.1:${syncPort}`, grpc.credentials.createInsecure()));

  it('binds free ports', () => {
    expect(evalPort).toBeGreaterThan(0);
    expect(syncPort).toBeGreaterThan(0);
    expect(evalPort).not.toBe(syncPort);
  });

  for (const version of ['v1', 'v2'] as const) {
    describe(`flagd.evaluation.${version}`, () => {
      it('resolves each type with value, variant, reason and metadata', async () => {
        const c = evalClient(version);
        expect(await ok(c, 'ResolveBoolean', { flagKey: 'bool-flag' })).toMatchObject({ value: true, variant: 'on', reason: 'STATIC' });
        expect(await ok(c, 'ResolveString', { flagKey: 'string-flag' })).toMatchObject({ value: 'a', variant: 'alpha', reason: 'DEFAULT' });
        expect(await ok(c, 'ResolveInt', { flagKey: 'int-flag' })).toMatchObject({ value: 42n, variant: 'big', reason: 'STATIC' });
        expect(await ok(c, 'ResolveFloat', { flagKey: 'float-flag' })).toMatchObject({ value: 3.14, variant: 'pi', reason: 'STATIC' });
        const object = await ok(c, 'ResolveObject', { flagKey: 'object-flag' });
        expect(object).toMatchObject({ value: { color: 'red', size: 2 }, variant: 'cfg', reason: 'STATIC' });
        // Set metadata flows into flag metadata, as flagd merges it.
        expect(object.metadata).toMatchObject({ owner: 'ui', flagSetId: 'shop', version: 'v1' });
      });

      it('evaluates targeting with the request context, -X values and -H headers', async () => {
        const c = evalClient(version);
        expect(await ok(c, 'ResolveString', { flagKey: 'string-flag', context: { email: 'x@example.com' } })).toMatchObject({
          value: 'b',
          variant: 'beta',
          reason: 'TARGETING_MATCH',
        });
        expect(await ok(c, 'ResolveString', { flagKey: 'env-flag' })).toMatchObject({ value: 'production', reason: 'TARGETING_MATCH' });
        // -X overrides the request's own value for the same key.
        expect(await ok(c, 'ResolveString', { flagKey: 'env-flag', context: { env: 'dev' } })).toMatchObject({ value: 'production' });
        const md = new grpc.Metadata();
        md.set('x-tier', 'gold');
        expect(await ok(c, 'ResolveString', { flagKey: 'tier-flag', context: { tier: 'basic' } }, md)).toMatchObject({ value: 'gold', reason: 'TARGETING_MATCH' });
        expect(await ok(c, 'ResolveString', { flagKey: 'tier-flag' })).toMatchObject({ value: 'basic', reason: 'DEFAULT' });
      });

      it('answers a disabled flag without a value for the caller\'s default', async () => {
        const r = await ok(evalClient(version), 'ResolveBoolean', { flagKey: 'disabled-flag' });
        expect(r.reason).toBe('DISABLED');
        // v1 has no field presence (zero values); v2 leaves value and variant unset.
        if (version === 'v1') expect(r).toMatchObject({ value: false, variant: '' });
        else expect([r.value, r.variant]).toEqual([undefined, undefined]);
      });

      it('resolves all flags at once, without the disabled and erroring ones', async () => {
        const r = await ok(evalClient(version), 'ResolveAll', { context: { email: 'x@example.com' } });
        const flags = r.flags as Record<string, { reason: string; variant?: string; value: { case?: string; value?: unknown } }>;
        expect(flags['bool-flag']).toMatchObject({ reason: 'STATIC', variant: 'on', value: { case: 'boolValue', value: true } });
        expect(flags['string-flag']).toMatchObject({ reason: 'TARGETING_MATCH', variant: 'beta', value: { case: 'stringValue', value: 'b' } });
        expect(flags['int-flag'].value).toEqual({ case: 'doubleValue', value: 42 });
        expect(flags['object-flag'].value).toEqual({ case: 'objectValue', value: { color: 'red', size: 2 } });
        expect(flags['other-flag']).toMatchObject({ value: { case: 'stringValue', value: 'x' } });
        expect(Object.keys(flags)).not.toContain('disabled-flag');
        expect(Object.keys(flags)).not.toContain('broken-flag');
      });

      it('maps errors as flagd: FLAG_NOT_FOUND → NOT_FOUND, TYPE_MISMATCH → INVALID_ARGUMENT, PARSE_ERROR → DATA_LOSS', async () => {
        const c = evalClient(version);
        const missing = await unary(c, 'ResolveBoolean', { flagKey: 'missing' });
        expect(missing.err?.code).toBe(grpc.status.NOT_FOUND);
        expect(missing.err?.details).toContain('missing');
        expect((await unary(c, 'ResolveBoolean', { flagKey: 'string-flag' })).err?.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect((await unary(c, 'ResolveObject', { flagKey: 'int-flag' })).err?.code).toBe(grpc.status.INVALID_ARGUMENT);
        const list = await unary(c, 'ResolveObject', { flagKey: 'list-flag' });
        expect(list.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(list.err?.details).toBe('Evaluated type of the flag list-flag does not match. Expected object, got array');
        expect((await unary(c, 'ResolveString', { flagKey: 'broken-flag' })).err?.code).toBe(grpc.status.DATA_LOSS);
      });

      it('selects flags with the flagd-selector header', async () => {
        const c = evalClient(version);
        const md = new grpc.Metadata();
        md.set('flagd-selector', 'flagSetId=other');
        expect(await ok(c, 'ResolveString', { flagKey: 'other-flag' }, md)).toMatchObject({ value: 'x' });
        expect((await unary(c, 'ResolveBoolean', { flagKey: 'bool-flag' }, md)).err?.code).toBe(grpc.status.NOT_FOUND);
        expect(Object.keys((await ok(c, 'ResolveAll', {}, md)).flags as object)).toEqual(['other-flag']);
      });

      it('EventStream: provider_ready first, configuration_change with the changed keys, provider_shutdown on close', async () => {
        const events = stream(evalClient(version), 'EventStream', {});
        expect((await events.next()).type).toBe('provider_ready');
        const changed = { ...FLAGS, flags: { ...FLAGS.flags, 'bool-flag': { ...FLAGS.flags['bool-flag'], defaultVariant: 'off' }, added: FLAGS.flags['int-flag'] } };
        expect(store.update(SOURCE, JSON.stringify(changed)).ok).toBe(true);
        const change = await events.next();
        expect(change.type).toBe('configuration_change');
        expect(change.data).toEqual({ flags: { 'bool-flag': { type: 'update' }, added: { type: 'write' } } });
        expect(await ok(evalClient(version), 'ResolveBoolean', { flagKey: 'bool-flag' })).toMatchObject({ value: false, variant: 'off' });
        const closing = evaluation.close();
        expect((await events.next()).type).toBe('provider_shutdown');
        await closing;
        expect(await events.status).toBe(grpc.status.OK);
        // afterEach closes again: close() must tolerate it.
      });
    });
  }

  it('answers undecodable request bytes with INVALID_ARGUMENT on both ports, not INTERNAL', async () => {
    const raw = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b });
    const Raw = grpc.makeGenericClientConstructor({ Resolve: raw('/flagd.evaluation.v2.Service/ResolveBoolean'), Fetch: raw('/flagd.sync.v1.FlagSyncService/FetchAllFlags') }, 'Raw');
    // Field 1 (flag_key) as a length-delimited string of 100 bytes, with 1 byte present.
    const garbage = Buffer.from([0x0a, 0x64, 0x61]);
    const code = (port: number, method: 'Resolve' | 'Fetch') =>
      new Promise<number | undefined>((resolve) => {
        const c = client(new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
        (c as unknown as Record<string, (b: Buffer, cb: (e: grpc.ServiceError | null) => void) => void>)[method](garbage, (e) => resolve(e?.code));
      });
    expect(await code(evalPort, 'Resolve')).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await code(syncPort, 'Fetch')).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('serves Connect and gRPC-web on the same port (HTTP/1.1)', async () => {
    const baseUrl = `http://127.0.0.1:${evalPort}`;
    const connect = createClient(evaluationV1.Service, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
    expect(await connect.resolveString({ flagKey: 'env-flag' })).toMatchObject({ value: 'production', reason: 'TARGETING_MATCH' });
    const web = createClient(evaluationV2.Service, createGrpcWebTransport({ baseUrl, httpVersion: '1.1' }));
    expect(await web.resolveInt({ flagKey: 'int-flag' })).toMatchObject({ value: 42n, variant: 'big' });
    await expect(web.resolveBoolean({ flagKey: 'missing' })).rejects.toMatchObject({ code: 5 /* Code.NotFound */ });
  });

  describe('flagd.sync.v1', () => {
    it('SyncFlags: the whole flag set with sync_context on subscribe, then again after each change', async () => {
      const s = stream(syncClient(), 'SyncFlags', { providerId: 'test' });
      const first = await s.next();
      expect(JSON.parse(first.flagConfiguration as string)).toEqual(JSON.parse(store.flagSetJson()));
      expect(Object.keys(JSON.parse(first.flagConfiguration as string).flags)).toContain('other-flag');
      expect(first.syncContext).toEqual({ env: 'prod' });
      const changed = { ...FLAGS, flags: { ...FLAGS.flags, fresh: FLAGS.flags['bool-flag'] } };
      expect(store.update(SOURCE, JSON.stringify(changed)).ok).toBe(true);
      const second = JSON.parse((await s.next()).flagConfiguration as string);
      expect(second.flags.fresh).toMatchObject({ state: 'ENABLED', defaultVariant: 'on' });
      expect(sync.activeStreams).toBe(1);
      s.cancel();
      expect(await s.status).toBe(grpc.status.CANCELLED);
    });

    it('SyncFlags with a selector (header or field) sends only the selected flags, and only their changes', async () => {
      const md = new grpc.Metadata();
      md.set('flagd-selector', 'flagSetId=other');
      const byHeader = stream(syncClient(), 'SyncFlags', {}, md);
      const byField = stream(syncClient(), 'SyncFlags', { selector: `source=${OTHER}` });
      for (const s of [byHeader, byField]) expect(Object.keys(JSON.parse((await s.next()).flagConfiguration as string).flags)).toEqual(['other-flag']);
      // A change to the other source's flags only: nothing for these streams.
      expect(store.update(SOURCE, JSON.stringify({ ...FLAGS, flags: { ...FLAGS.flags, unseen: FLAGS.flags['bool-flag'] } })).ok).toBe(true);
      await expect(byHeader.next(300)).rejects.toThrow(/no message/);
      const next = { ...OTHER_FLAGS, flags: { ...OTHER_FLAGS.flags, 'other-2': OTHER_FLAGS.flags['other-flag'] } };
      expect(store.update(OTHER, JSON.stringify(next)).ok).toBe(true);
      for (const s of [byHeader, byField]) expect(Object.keys(JSON.parse((await s.next()).flagConfiguration as string).flags).sort()).toEqual(['other-2', 'other-flag']);
    });

    it('SyncFlags streams end with OK when the server closes', async () => {
      const s = stream(syncClient(), 'SyncFlags', {});
      await s.next();
      await sync.close();
      expect(await s.status).toBe(grpc.status.OK);
    });

    it('FetchAllFlags answers the flag set once; GetMetadata the sync context', async () => {
      const c = syncClient();
      const all = await ok(c, 'FetchAllFlags', {});
      expect(JSON.parse(all.flagConfiguration as string)).toEqual(JSON.parse(store.flagSetJson()));
      const selected = await ok(c, 'FetchAllFlags', { selector: 'flagSetId=shop' });
      expect(Object.keys(JSON.parse(selected.flagConfiguration as string).flags)).not.toContain('other-flag');
      expect((await ok(c, 'GetMetadata', {})).metadata).toEqual({ env: 'prod' });
    });
  });
});

describe('sync server options', () => {
  let store: FlagStore;
  let sync: SyncServer | undefined;
  let c: grpc.Client | undefined;
  beforeAll(() => {
    store = new FlagStore([SOURCE]);
    store.update(SOURCE, JSON.stringify(FLAGS));
  });
  afterAll(async () => {
    c?.close();
    await sync?.close();
  });

  it('--disable-sync-metadata: GetMetadata answers UNIMPLEMENTED, as flagd does', async () => {
    sync = createSyncServer({ store, logger: silent, host: '127.0.0.1', port: 0, contextValues: {}, disableSyncMetadata: true });
    const { port } = await sync.start();
    c = new SyncClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    expect((await unary(c, 'GetMetadata', {})).err?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect((await unary(c, 'FetchAllFlags', {})).err).toBeNull();
  });
});
