/**
 * The grpc:// source against a real sync server in-process (port 0): what a downstream daemon
 * receives, the selector it sends, and the reasons it reports when the upstream is away or ends
 * the stream. The last good flags are never taken back: a failure only reaches `error`.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcSource, grpcTarget } from '../src/sources/grpc/grpc-source.js';
import { SourceFailureReason, type SourceData, type SourceFailure, type SourceListener } from '../src/sources/source.js';
import { createSyncServer, type SyncServer } from '../src/servers/sync/sync-server.js';
import { FlagStore } from '../src/store/flag-store.js';

const UPSTREAM = 'file:upstream.json';
const doc = (flags: Record<string, string>, flagSetId = 'shop') => ({
  metadata: { flagSetId },
  flags: Object.fromEntries(Object.entries(flags).map(([key, value]) => [key, { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' }])),
});

const silent = pino({ level: 'silent' });

/** A listener that records what it gets and lets a test wait for the n-th data or failure. */
function recorder() {
  const data: SourceData[] = [];
  const errors: SourceFailure[] = [];
  const waits: { done: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of waits.splice(0)) (w.done() ? w.resolve : () => waits.push(w))();
  };
  const until = (done: () => boolean, what: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      waits.push({ done, resolve: () => (clearTimeout(t), resolve()) });
      check();
    });
  const listener: SourceListener = {
    data: (u) => (data.push(u), check()),
    error: (f) => (errors.push(f), check()),
  };
  return { data, errors, listener, dataCount: (n: number) => until(() => data.length >= n, `${n} data`), errorCount: (n: number) => until(() => errors.length >= n, `${n} errors`) };
}

const flagKeys = (u: SourceData | undefined) => Object.keys((JSON.parse(u?.data ?? '{}') as { flags?: object }).flags ?? {}).sort();

describe('GrpcSource', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function upstream(flags: object = doc({ a: 'one' }), port = 0): Promise<{ store: FlagStore; sync: SyncServer; port: number }> {
    const store = new FlagStore([UPSTREAM]);
    expect(store.update(UPSTREAM, JSON.stringify(flags)).ok).toBe(true);
    const sync = createSyncServer({ store, logger: silent, host: '127.0.0.1', port, contextValues: {} });
    const bound = (await sync.start()).port;
    cleanup.push(() => sync.close());
    return { store, sync, port: bound };
  }

  function source(port: number, selector?: string): GrpcSource {
    const s = new GrpcSource({ uri: `grpc://127.0.0.1:${port}`, provider: 'grpc', ...(selector ? { selector } : {}) }, { logger: silent });
    cleanup.push(() => s.stop());
    return s;
  }

  it('delivers the upstream flag set before start resolves, then the whole set after each change', async () => {
    const up = await upstream();
    const s = source(up.port);
    const r = recorder();
    await s.start(r.listener);
    expect(r.data).toHaveLength(1);
    expect(r.data[0].source).toBe(`grpc://127.0.0.1:${up.port}`);
    expect(flagKeys(r.data[0])).toEqual(['a']);
    expect(JSON.parse(r.data[0].data)).toEqual(JSON.parse(up.store.flagSetJson()));
    up.store.update(UPSTREAM, JSON.stringify(doc({ a: 'one', b: 'two' })));
    await r.dataCount(2);
    expect(flagKeys(r.data[1])).toEqual(['a', 'b']);
    expect(r.errors).toEqual([]);
  });

  it('sends its selector upstream and receives only the selected flags', async () => {
    const store = new FlagStore([UPSTREAM, 'file:web.json']);
    store.update(UPSTREAM, JSON.stringify(doc({ a: 'one' })));
    store.update('file:web.json', JSON.stringify(doc({ w: 'web' }, 'web')));
    const sync = createSyncServer({ store, logger: silent, host: '127.0.0.1', port: 0, contextValues: {} });
    const { port } = await sync.start();
    cleanup.push(() => sync.close());
    const r = recorder();
    await source(port, 'flagSetId=web').start(r.listener);
    expect(flagKeys(r.data[0])).toEqual(['w']);
  });

  it('reports network when nothing listens, and start still resolves', async () => {
    const up = await upstream();
    const port = up.port;
    await up.sync.close();
    const r = recorder();
    await source(port).start(r.listener);
    expect(r.data).toEqual([]);
    expect(r.errors[0]).toMatchObject({ source: `grpc://127.0.0.1:${port}`, reason: SourceFailureReason.NETWORK });
    expect(r.errors[0].message).toContain(`grpc://127.0.0.1:${port}`);
  });

  it('reports stream_error when the upstream ends the stream, and resumes once it is back', async () => {
    const up = await upstream();
    const s = source(up.port);
    const r = recorder();
    await s.start(r.listener);
    await up.sync.close();
    await r.errorCount(1);
    expect(r.errors[0].reason).toBe(SourceFailureReason.STREAM_ERROR);
    // Nothing took the flags back: the only data is still the first set.
    expect(r.data).toHaveLength(1);
    await upstream(doc({ a: 'one', back: 'again' }), up.port);
    await r.dataCount(2);
    expect(flagKeys(r.data.at(-1))).toEqual(['a', 'back']);
    for (const e of r.errors) expect(Object.values(SourceFailureReason)).toContain(e.reason);
  });

  it('stops: no callback after stop() resolves', async () => {
    const up = await upstream();
    const s = source(up.port);
    const r = recorder();
    await s.start(r.listener);
    await s.stop();
    up.store.update(UPSTREAM, JSON.stringify(doc({ after: 'stop' })));
    await up.sync.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.data).toHaveLength(1);
    expect(r.errors).toEqual([]);
  });

  it('parses grpc://host:port and grpcs://host:port, and names the uri it refuses', () => {
    expect(grpcTarget('grpc://sync:8015')).toEqual({ target: 'sync:8015', tls: false });
    expect(grpcTarget('grpcs://sync:443/')).toEqual({ target: 'sync:443', tls: true });
    expect(() => grpcTarget('grpc://')).toThrow('source grpc://: expected grpc://host:port or grpcs://host:port');
    expect(() => grpcTarget('grpc://a/b')).toThrow(/grpc:\/\/a\/b/);
  });
});
