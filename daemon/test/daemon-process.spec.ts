/**
 * The daemon as users run it: the real `vexil` process, real files, real gRPC and HTTP clients.
 */
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { evaluationV1, evaluationV2, syncV1 } from '@vexil/proto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { service as healthService } from 'grpc-health-check';
import { grpcServiceDefinition } from '../src/grpc/definitions.js';
import { eventually, startDaemon, type DaemonProcess } from './support/daemon-process.js';

const flags = (banner: string) => ({
  metadata: { flagSetId: 'shop' },
  flags: {
    banner: { state: 'ENABLED', variants: { a: banner, b: 'other' }, defaultVariant: 'a' },
    'new-checkout': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@vexil.dev'] }, 'on', null] },
    },
    'off-flag': { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
    broken: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { nope: [1] } },
    ratio: { state: 'ENABLED', variants: { low: 0.25 }, defaultVariant: 'low' },
  },
});

const EvalV2Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(evaluationV2.Service), 'Service');
const SyncClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(syncV1.FlagSyncService), 'FlagSyncService');

type Unary = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void) => void;

function unary(client: grpc.Client, method: string, req: unknown, md = new grpc.Metadata()): Promise<{ err: grpc.ServiceError | null; res?: Record<string, unknown> }> {
  return new Promise((resolve) => ((client as unknown as Record<string, Unary>)[method]).call(client, req, md, (err, res) => resolve({ err, res })));
}

let dir: string;
let file: string;
const write = (doc: unknown) => {
  // Atomic replace, as editors and config management do.
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, typeof doc === 'string' ? doc : JSON.stringify(doc));
  renameSync(tmp, file);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-daemon-'));
  file = join(dir, 'flags.json');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vexil start', () => {
  let d: DaemonProcess | undefined;
  const clients: grpc.Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await d?.stop();
    d = undefined;
  });

  async function ofrep(key: string, context: object = {}) {
    const r = await fetch(`http://127.0.0.1:${d!.ports.ofrep}/ofrep/v1/evaluate/flags/${key}`, { method: 'POST', body: JSON.stringify({ context }) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  it('serves a flag file, refuses bad rewrites with a logged reason, keeps the last good flags, and picks up the next good one', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const ready = await fetch(`http://127.0.0.1:${d.ports.management}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ofrep('banner')).body['value']).toBe('hello');

    // Invalid JSON: the source cannot read it; the daemon logs source and reason and serves on.
    write('{"flags": {');
    const parseLog = await d.waitForLog((l) => l['level'] === 50 && l['reason'] === 'parse_error');
    expect(parseLog['source']).toBe(`file:${file}`);
    expect(String(parseLog['msg'])).toContain('still serving the last good flags');
    expect((await ofrep('banner')).body['value']).toBe('hello');

    // A schema violation flagd refuses: the whole document is refused, with the JSON path.
    const bad = flags('nope');
    (bad.flags.banner as { defaultVariant: string }).defaultVariant = 'missing';
    write(bad);
    const refused = await d.waitForLog((l) => l['code'] === 'DEFAULT_VARIANT_NOT_FOUND');
    expect(refused['path']).toBe('$.flags.banner.defaultVariant');
    expect(refused['source']).toBe(`file:${file}`);
    expect((await ofrep('banner')).body['value']).toBe('hello');

    const metrics = await (await fetch(`http://127.0.0.1:${d.ports.management}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`vexil_source_errors_total\\{[^}]*reason="parse_error"[^}]*\\} 1`));
    expect(metrics).toMatch(/vexil_source_errors_total\{[^}]*reason="invalid_flags"[^}]*\} 1/);

    write(flags('changed'));
    const ms = await eventually(async () => (await ofrep('banner')).body['value'] === 'changed', 2_000, 5);
    console.log(`file change served after ${ms.toFixed(0)} ms (includes the polling step)`);
  });

  it('answers gRPC with flagd status codes: NOT_FOUND, INVALID_ARGUMENT, DATA_LOSS; DISABLED without a variant', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const c = new EvalV2Client(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    clients.push(c);
    const hit = await unary(c, 'ResolveBoolean', { flagKey: 'new-checkout', context: { email: 'a@vexil.dev' } });
    expect(hit.err).toBeNull();
    expect(hit.res).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH', metadata: { flagSetId: 'shop' } });
    expect((await unary(c, 'ResolveBoolean', { flagKey: 'missing' })).err?.code).toBe(grpc.status.NOT_FOUND);
    expect((await unary(c, 'ResolveString', { flagKey: 'new-checkout' })).err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await unary(c, 'ResolveString', { flagKey: 'broken' })).err?.code).toBe(grpc.status.DATA_LOSS);
    const disabled = await unary(c, 'ResolveBoolean', { flagKey: 'off-flag' });
    expect(disabled.err).toBeNull();
    expect(disabled.res?.['reason']).toBe('DISABLED');
    expect(disabled.res?.['variant']).toBeUndefined();
    expect(disabled.res?.['value']).toBeUndefined();
    const int = await unary(c, 'ResolveInt', { flagKey: 'ratio' });
    expect(int.res?.['value']).toBe(0n);
    // A request larger than the 4 MiB limit.
    const huge = await unary(c, 'ResolveBoolean', { flagKey: 'banner', context: { blob: 'x'.repeat(5 * 1024 * 1024) } });
    expect(huge.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('answers undecodable gRPC requests with INVALID_ARGUMENT, unary and streaming', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const raw = (path: string, stream: boolean) => ({
      path,
      requestStream: false,
      responseStream: stream,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    });
    const Raw = grpc.makeGenericClientConstructor(
      {
        Resolve: raw('/flagd.evaluation.v2.Service/ResolveBoolean', false),
        Events: raw('/flagd.evaluation.v2.Service/EventStream', true),
        Sync: raw('/flagd.sync.v1.FlagSyncService/SyncFlags', true),
      },
      'Raw',
    );
    const garbage = Buffer.from([0x12, 0xff, 0xff, 0xff]);
    const ev = new Raw(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    const sy = new Raw(`127.0.0.1:${d.ports.sync}`, grpc.credentials.createInsecure());
    clients.push(ev, sy);
    const unaryCode = await new Promise<number | undefined>((resolve) =>
      (ev as unknown as { Resolve(b: Buffer, cb: (e: grpc.ServiceError | null) => void): void }).Resolve(garbage, (e) => resolve(e?.code)),
    );
    expect(unaryCode).toBe(grpc.status.INVALID_ARGUMENT);
    for (const [client, method] of [
      [ev, 'Events'],
      [sy, 'Sync'],
    ] as const) {
      const code = await new Promise<number>((resolve) => {
        const call = (client as unknown as Record<string, (b: Buffer) => grpc.ClientReadableStream<Buffer>>)[method](garbage);
        call.on('data', () => {});
        call.on('error', (e: grpc.ServiceError) => resolve(e.code));
        call.on('end', () => resolve(-1));
      });
      expect(code, method).toBe(grpc.status.INVALID_ARGUMENT);
    }
  });

  it('serves gRPC-web over HTTP/1.1', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const client = createClient(evaluationV2.Service, createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${d.ports.evaluation}`, httpVersion: '1.1' }));
    expect(await client.resolveString({ flagKey: 'banner' })).toMatchObject({ value: 'hello', reason: 'STATIC', variant: 'a' });
    await expect(client.resolveString({ flagKey: 'missing' })).rejects.toMatchObject({ code: 5 });
  });

  it('answers CORS on the evaluation port as flagd: any origin without -C, wildcards inside -C origins', async () => {
    write(flags('hello'));
    const preflight = (port: number, origin: string) =>
      fetch(`http://127.0.0.1:${port}/flagd.evaluation.v1.Service/ResolveAll`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    d = await startDaemon(['-f', `file:${file}`]);
    const open = await preflight(d.ports.evaluation, 'http://anywhere.example');
    expect(open.status).toBe(204);
    expect(open.headers.get('access-control-allow-origin')).toBe('*');
    await d.stop();
    d = await startDaemon(['-f', `file:${file}`, '-C', 'http://127.0.0.1:*']);
    const wild = await preflight(d.ports.evaluation, 'http://127.0.0.1:9999');
    expect(wild.status).toBe(204);
    expect(wild.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:9999');
    expect((await preflight(d.ports.evaluation, 'http://other.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves Connect over HTTP/1.1 (v1 ResolveAll and EventStream, as the flagd web provider calls them) with CORS', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`, '-C', 'http://app.example']);
    const base = `http://127.0.0.1:${d.ports.evaluation}`;
    const client = createClient(evaluationV1.Service, createConnectTransport({ baseUrl: base, httpVersion: '1.1' }));
    const all = await client.resolveAll({ context: { email: 'x@vexil.dev' } });
    expect(Object.keys(all.flags).sort()).toEqual(['banner', 'new-checkout', 'ratio']);
    expect(all.flags['new-checkout'].value).toEqual({ case: 'boolValue', value: true });
    expect(all.metadata).toMatchObject({ flagSetId: 'shop' });

    const pre = await fetch(`${base}/flagd.evaluation.v1.Service/ResolveAll`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,connect-protocol-version' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const denied = await fetch(`${base}/flagd.evaluation.v1.Service/ResolveAll`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    const abort = new AbortController();
    const events: { type: string; data?: unknown }[] = [];
    const reading = (async () => {
      try {
        for await (const e of client.eventStream({}, { signal: abort.signal })) events.push({ type: e.type, data: e.data });
      } catch {
        // aborted
      }
    })();
    await eventually(() => events.some((e) => e.type === 'provider_ready'));
    write(flags('changed'));
    await eventually(() => events.some((e) => e.type === 'configuration_change'));
    expect(events.find((e) => e.type === 'configuration_change')?.data).toEqual({ flags: { banner: { type: 'update' } } });
    abort.abort();
    await reading;
  });

  it('measures evaluation-port calls as flagd does (route = procedure path) and counts open event streams', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const scrape = async () => (await (await fetch(`http://127.0.0.1:${d!.ports.management}/metrics`)).text()).split('\n');
    const sample = (lines: string[], name: string, labels: Record<string, string>) => {
      const line = lines.find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const c = new EvalV2Client(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    clients.push(c);
    for (let i = 0; i < 3; i++) expect((await unary(c, 'ResolveString', { flagKey: 'banner' })).res).toMatchObject({ value: 'hello' });
    expect((await unary(c, 'ResolveString', { flagKey: 'missing' })).err?.code).toBe(grpc.status.NOT_FOUND);
    const connect = createClient(evaluationV1.Service, createConnectTransport({ baseUrl: `http://127.0.0.1:${d.ports.evaluation}`, httpVersion: '1.1' }));
    await expect(connect.resolveBoolean({ flagKey: 'missing' })).rejects.toThrow();
    let lines = await scrape();
    // gRPC calls are HTTP 200 whatever their status; Connect reports the HTTP status it sent.
    expect(sample(lines, 'http_server_request_duration_seconds_count', { http_route: '/flagd.evaluation.v2.Service/ResolveString', http_response_status_code: '200' })).toBe(4);
    expect(sample(lines, 'http_server_request_duration_seconds_count', { http_route: '/flagd.evaluation.v1.Service/ResolveBoolean', http_response_status_code: '404' })).toBe(1);

    const abort = new AbortController();
    const types: string[] = [];
    const reading = (async () => {
      try {
        for await (const e of connect.eventStream({}, { signal: abort.signal })) types.push(e.type);
      } catch {
        // aborted
      }
    })();
    const grpcStream = (c as unknown as { EventStream(r: unknown): grpc.ClientReadableStream<{ type: string }> }).EventStream({});
    grpcStream.on('error', () => {});
    const grpcTypes: string[] = [];
    grpcStream.on('data', (m: { type: string }) => grpcTypes.push(m.type));
    await eventually(() => types.includes('provider_ready') && grpcTypes.includes('provider_ready'));
    lines = await scrape();
    expect(sample(lines, 'vexil_event_streams_active', { service: 'flagd.evaluation.v1.Service' })).toBe(1);
    expect(sample(lines, 'vexil_event_streams_active', { service: 'flagd.evaluation.v2.Service' })).toBe(1);
    abort.abort();
    grpcStream.cancel();
    await reading;
    await eventually(async () => {
      const l = await scrape();
      return sample(l, 'vexil_event_streams_active', { service: 'flagd.evaluation.v1.Service' }) === 0 && sample(l, 'vexil_event_streams_active', { service: 'flagd.evaluation.v2.Service' }) === 0;
    });
    lines = await scrape();
    expect(sample(lines, 'http_server_request_duration_seconds_count', { http_route: '/flagd.evaluation.v2.Service/EventStream' })).toBe(1);
    expect(sample(lines, 'http_server_active_requests', { http_route: '/flagd.evaluation.v2.Service/EventStream' })).toBe(0);
  });

  it('--stream-deadline ends sync and event streams with DEADLINE_EXCEEDED; --disable-sync-metadata; -e serves sync on a unix socket', async () => {
    write(flags('hello'));
    const socket = join(dir, 'sync.sock');
    d = await startDaemon(['-f', `file:${file}`, '--stream-deadline', '700ms', '--disable-sync-metadata', '-e', socket]);
    const sync = new SyncClient(`unix:${socket}`, grpc.credentials.createInsecure());
    clients.push(sync);
    const fetched = await unary(sync, 'FetchAllFlags', {});
    expect(Object.keys((JSON.parse(fetched.res?.['flagConfiguration'] as string) as { flags: object }).flags)).toContain('banner');
    const meta = await unary(sync, 'GetMetadata', {});
    expect(meta.err?.code).toBe(grpc.status.UNIMPLEMENTED);

    const started = Date.now();
    const syncStream = (sync as unknown as { SyncFlags(r: unknown): grpc.ClientReadableStream<unknown> }).SyncFlags({});
    const ev = new EvalV2Client(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    clients.push(ev);
    const eventStream = (ev as unknown as { EventStream(r: unknown): grpc.ClientReadableStream<unknown> }).EventStream({});
    const statusOf = (s: grpc.ClientReadableStream<unknown>) =>
      new Promise<number>((resolve) => {
        s.on('data', () => {});
        s.on('error', (e: grpc.ServiceError) => resolve(e.code));
        s.on('end', () => resolve(grpc.status.OK));
      });
    const connect = createClient(evaluationV1.Service, createConnectTransport({ baseUrl: `http://127.0.0.1:${d.ports.evaluation}`, httpVersion: '1.1' }));
    const connectEnd = (async () => {
      try {
        for await (const e of connect.eventStream({})) void e;
        return 'ended';
      } catch (err) {
        return String((err as { code?: unknown }).code);
      }
    })();
    const [a, b, c] = await Promise.all([statusOf(syncStream), statusOf(eventStream), connectEnd]);
    expect(a).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(b).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(c).toBe('4'); // Connect's Code.DeadlineExceeded
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('starts on the unix sockets a killed daemon left behind, and refuses sockets a live one serves', async () => {
    write(flags('hello'));
    const evalSock = join(dir, 'stale-eval.sock');
    const syncSock = join(dir, 'stale-sync.sock');
    const first = await startDaemon(['-f', `file:${file}`, '-d', evalSock, '-e', syncSock]);
    // A second daemon on the same sockets must not take them from the live one.
    const clash = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/vexil.js', import.meta.url)), 'start', '-f', `file:${file}`, '-d', evalSock, '-e', syncSock, '-p', '0', '-m', '0', '-g', '0', '-r', '0'], { encoding: 'utf8', timeout: 15_000 });
    expect(clash.status).not.toBe(0);
    expect(`${clash.stdout}${clash.stderr}`).toMatch(/EADDRINUSE/);
    const gone = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await gone;
    d = await startDaemon(['-f', `file:${file}`, '-d', evalSock, '-e', syncSock]);
    const sync = new SyncClient(`unix:${syncSock}`, grpc.credentials.createInsecure());
    const ev = new EvalV2Client(`unix:${evalSock}`, grpc.credentials.createInsecure());
    clients.push(sync, ev);
    expect((await unary(ev, 'ResolveString', { flagKey: 'banner' })).res).toMatchObject({ value: 'hello' });
    expect((await unary(sync, 'FetchAllFlags', {})).err).toBeNull();
  });

  it('answers gRPC health checks on the management port next to HTTP: NOT_SERVING until ready, then SERVING', async () => {
    const missing = join(dir, 'later.json');
    rmSync(missing, { force: true });
    d = await startDaemon(['-f', `file:${missing}`], { ready: false });
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const h = new Health(`127.0.0.1:${d.ports.management}`, grpc.credentials.createInsecure());
    clients.push(h);
    const check = (service: string) =>
      new Promise<{ err: grpc.ServiceError | null; status?: string }>((resolve) =>
        (h as unknown as { check(r: unknown, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void }).check({ service }, (err, res) => resolve({ err, status: res?.status })),
      );
    expect(await check('')).toMatchObject({ err: null, status: 'NOT_SERVING' });
    expect((await fetch(`http://127.0.0.1:${d.ports.management}/readyz`)).status).toBe(412);
    const watch = (h as unknown as { watch(r: unknown): grpc.ClientReadableStream<{ status: string }> }).watch({ service: 'flagd.sync.v1.FlagSyncService' });
    const seen: string[] = [];
    watch.on('data', (m: { status: string }) => seen.push(m.status));
    watch.on('error', () => {});
    await eventually(() => seen.includes('NOT_SERVING'));
    writeFileSync(missing, JSON.stringify(flags('now')));
    await eventually(() => seen.includes('SERVING'));
    expect(await check('')).toMatchObject({ err: null, status: 'SERVING' });
    expect(await check('flagd.evaluation.v2.Service')).toMatchObject({ err: null, status: 'SERVING' });
    expect((await check('no.such.Service')).err?.code).toBe(grpc.status.NOT_FOUND);
    expect((await fetch(`http://127.0.0.1:${d.ports.management}/readyz`)).status).toBe(200);
    watch.cancel();
  });

  it('on SIGTERM tells event streams provider_shutdown, ends sync streams, and exits 0; stream gauges return to 0', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const sync = new SyncClient(`127.0.0.1:${d.ports.sync}`, grpc.credentials.createInsecure());
    clients.push(sync);
    const streams = Array.from({ length: 3 }, () =>
      (sync as unknown as { SyncFlags(r: unknown): grpc.ClientReadableStream<{ flagConfiguration: string }> }).SyncFlags({ providerId: 'test', selector: '' }),
    );
    const first = await new Promise<string>((resolve) => streams[0].once('data', (m: { flagConfiguration: string }) => resolve(m.flagConfiguration)));
    expect(Object.keys((JSON.parse(first) as { flags: object }).flags)).toContain('banner');
    const gauge = async () => {
      const text = await (await fetch(`http://127.0.0.1:${d!.ports.management}/metrics`)).text();
      return [...text.matchAll(/^feature_flag_flagd_sync_active_streams\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
    };
    await eventually(async () => (await gauge()) === 3);
    for (const s of streams.slice(1)) {
      s.on('error', () => {});
      s.cancel();
    }
    await eventually(async () => (await gauge()) === 1);

    const ev = new EvalV2Client(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    clients.push(ev);
    const stream = (ev as unknown as { EventStream(r: unknown): grpc.ClientReadableStream<{ type: string }> }).EventStream({});
    const types: string[] = [];
    stream.on('data', (m: { type: string }) => types.push(m.type));
    stream.on('error', () => {});
    streams[0].on('error', () => {});
    const ended = new Promise<void>((resolve) => streams[0].on('end', () => resolve()).on('error', () => resolve()));
    await eventually(() => types.includes('provider_ready'));
    const code = await d.stop();
    expect(code).toBe(0);
    expect(types).toContain('provider_shutdown');
    await ended;
    expect(d.logs.some((l) => l['msg'] === 'stopped')).toBe(true);
  });

  it('serves gRPC over TLS (-c/-k) on the evaluation and sync ports, with HTTP/1.1 Connect chosen by ALPN', async () => {
    write(flags('hello'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    d = await startDaemon(['-f', `file:${file}`, '-c', cert, '-k', key]);
    const creds = grpc.credentials.createSsl(readFileSync(cert));
    const c = new EvalV2Client(`localhost:${d.ports.evaluation}`, creds);
    clients.push(c);
    expect((await unary(c, 'ResolveString', { flagKey: 'banner' })).res).toMatchObject({ value: 'hello', reason: 'STATIC' });
    const insecure = new EvalV2Client(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    clients.push(insecure);
    expect((await unary(insecure, 'ResolveString', { flagKey: 'banner' })).err?.code).toBe(grpc.status.UNAVAILABLE);
    const sync = new SyncClient(`localhost:${d.ports.sync}`, creds);
    clients.push(sync);
    const fetched = await unary(sync, 'FetchAllFlags', {});
    expect(Object.keys((JSON.parse(fetched.res?.['flagConfiguration'] as string) as { flags: object }).flags)).toContain('banner');
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: 'localhost', port: d!.ports.evaluation, path: '/flagd.evaluation.v1.Service/ResolveString', method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json' } },
        (res) => {
          let b = '';
          res.on('data', (x) => (b += x));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ flagKey: 'banner' }));
    });
    expect(JSON.parse(body)).toMatchObject({ value: 'hello', reason: 'STATIC' });
  });

  it('serves Connect and gRPC-web over HTTP/2 too (h2c, and h2 chosen by ALPN under TLS), next to gRPC on the same connection kind', async () => {
    write(flags('hello'));
    d = await startDaemon(['-f', `file:${file}`]);
    const base = `http://127.0.0.1:${d.ports.evaluation}`;
    const connect = createClient(evaluationV1.Service, createConnectTransport({ baseUrl: base, httpVersion: '2' }));
    expect(await connect.resolveString({ flagKey: 'banner' })).toMatchObject({ value: 'hello', reason: 'STATIC' });
    const binary = createClient(evaluationV2.Service, createConnectTransport({ baseUrl: base, httpVersion: '2', useBinaryFormat: true }));
    expect(await binary.resolveString({ flagKey: 'banner' })).toMatchObject({ value: 'hello', reason: 'STATIC' });
    await expect(connect.resolveBoolean({ flagKey: 'missing' })).rejects.toMatchObject({ code: 5 }); // Connect NotFound
    const web = createClient(evaluationV1.Service, createGrpcWebTransport({ baseUrl: base, httpVersion: '2' }));
    expect(await web.resolveString({ flagKey: 'banner' })).toMatchObject({ value: 'hello' });
    // Server streaming over h2c: the event stream opens with provider_ready.
    const abort = new AbortController();
    for await (const e of connect.eventStream({}, { signal: abort.signal })) {
      expect(e.type).toBe('provider_ready');
      break;
    }
    abort.abort();
    const g = new EvalV2Client(`127.0.0.1:${d.ports.evaluation}`, grpc.credentials.createInsecure());
    clients.push(g);
    expect((await unary(g, 'ResolveString', { flagKey: 'banner' })).res).toMatchObject({ value: 'hello' });
    await d.stop();

    const cert = join(dir, 'h2-cert.pem');
    const key = join(dir, 'h2-key.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    d = await startDaemon(['-f', `file:${file}`, '-c', cert, '-k', key]);
    const tls = createClient(
      evaluationV1.Service,
      createConnectTransport({ baseUrl: `https://localhost:${d.ports.evaluation}`, httpVersion: '2', nodeOptions: { ca: readFileSync(cert) } }),
    );
    expect(await tls.resolveString({ flagKey: 'banner' })).toMatchObject({ value: 'hello', reason: 'STATIC' });
    const gs = new EvalV2Client(`localhost:${d.ports.evaluation}`, grpc.credentials.createSsl(readFileSync(cert)));
    clients.push(gs);
    expect((await unary(gs, 'ResolveString', { flagKey: 'banner' })).res).toMatchObject({ value: 'hello' });
  });

  it('serves evaluation on a unix socket with -d', async () => {
    write(flags('hello'));
    const sock = join(dir, 'vexil.sock');
    d = await startDaemon(['-f', `file:${file}`, '-d', sock]);
    const c = new EvalV2Client(`unix://${sock}`, grpc.credentials.createInsecure());
    clients.push(c);
    expect((await unary(c, 'ResolveString', { flagKey: 'banner' })).res).toMatchObject({ value: 'hello' });
  });
});

describe('vexil command line', () => {
  const bin = fileURLToPath(new URL('../bin/vexil.js', import.meta.url));
  it('prints one clear line and exits 2 on a bad argument', () => {
    const r = spawnSync(process.execPath, [bin, 'start', '--port', 'eighty'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--port');
    expect(r.stderr).toContain('eighty');
    const r2 = spawnSync(process.execPath, [bin, 'start', '-f', 'flags.json'], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('file:');
  });

  it('documents every flag in --help', () => {
    const r = spawnSync(process.execPath, [bin, 'start', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const flag of ['--uri', '--sources', '--port', '--management-port', '--sync-port', '--ofrep-port', '--context-value', '--context-from-header', '--cors-origin', '--log-format', '--server-cert-path', '--server-key-path']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('FLAGD_PORT');
  });
});
