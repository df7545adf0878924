/**
 * Connection-level hardening of `vexil start`, on the real process: stream caps per address and in
 * total (browser SSE, EventStream over gRPC and Connect, SyncFlags), per-port connection caps that
 * leave file descriptors to the management port, header/request/idle timeouts on every port, and
 * HTTP/2 told from HTTP/1 however the first bytes are split into TCP segments.
 *
 * Distinct client addresses come from binding 127.0.0.2, 127.0.0.3, ... (Linux routes 127/8 to lo).
 */
import { ConnectError, Code, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { evaluationV2, syncV1 } from '@vexil/proto';
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { get as httpGet, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse.js';
import { defaultMaxConnections, readOpenFileLimit, StreamLimiter } from '../src/servers/connection-limits.js';
import { grpcServiceDefinition } from '../src/grpc/definitions.js';
import { adminFixture, type AdminFixture } from './support/admin.js';
import { eventually } from './support/daemon-process.js';

const EvalV2Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(evaluationV2.Service), 'Service');
const SyncClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(syncV1.FlagSyncService), 'FlagSyncService');
type ServerStream = grpc.ClientReadableStream<unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sse {
  readonly status: number;
  readonly res: IncomingMessage;
  readonly req: ClientRequest;
  /** The first chunk of the body (the `ready` event, or the error JSON). */
  readonly first: string;
}

/** Opens `GET /vexil/v1/stream?rules=false` from `localAddress` on its own connection; resolves with its first bytes. */
function openSse(port: number, localAddress = '127.0.0.1'): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/vexil/v1/stream?rules=false', localAddress, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.once('data', (first: string) => resolve({ status: res.statusCode ?? 0, res, req, first }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

/** Waits for a raw socket to close; resolves with ms since `since` and what the server sent. */
function closed(socket: Socket, since: number): Promise<{ ms: number; received: string }> {
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve({ ms: performance.now() - since, received })));
}

function connected(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `first`, waits so it leaves as its own TCP segment, then the rest; resolves with everything the server answered. */
async function splitRequest(port: number, first: string, rest: string): Promise<string> {
  const s = await connected(port);
  s.setNoDelay(true);
  const done = closed(s, performance.now());
  s.write(first);
  await sleep(50);
  s.write(rest);
  const timer = setTimeout(() => s.destroy(), 3_000);
  const { received } = await done;
  clearTimeout(timer);
  return received;
}

/**
 * A connection that writes its first 24 bytes (the HTTP/2 preface, for an HTTP/2 client) one byte
 * per TCP segment, 2 ms apart; for http2.connect's createConnection.
 */
function tricklingConnection(port: number): Duplex {
  const socket = netConnect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  let slow = 24;
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      void (async () => {
        let rest = chunk;
        while (slow > 0 && rest.length > 0) {
          socket.write(rest.subarray(0, 1));
          rest = rest.subarray(1);
          slow--;
          await sleep(2);
        }
        if (rest.length > 0) socket.write(rest, () => callback());
        else callback();
      })();
    },
    read() {
      socket.resume();
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on('data', (c: Buffer) => {
    if (!duplex.push(c)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  return duplex;
}

/** A unary gRPC call over a raw HTTP/2 session: the grpc-status and the response message bytes. */
function rawGrpcUnary(session: ClientHttp2Session, path: string, message: Buffer): Promise<{ grpcStatus: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    stream.on('response', (headers) => (grpcStatus ??= headers['grpc-status'] as string | undefined));
    stream.on('trailers', (trailers) => (grpcStatus = trailers['grpc-status'] as string | undefined));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ grpcStatus, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
  });
}

/** A server stream's first message, or its error code. */
function firstOf(stream: ServerStream): Promise<{ message?: unknown; code?: number }> {
  return new Promise((resolve) => {
    stream.once('data', (message: unknown) => resolve({ message }));
    stream.once('error', (e: grpc.ServiceError) => resolve({ code: e.code }));
  });
}

async function metricsText(f: AdminFixture): Promise<string> {
  return (await fetch(`http://127.0.0.1:${f.daemon.ports.management}/metrics`)).text();
}

function counter(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

/** The management API and probes: readiness, a flag read and the kill switch. */
async function managementWorks(f: AdminFixture): Promise<void> {
  expect((await fetch(`http://127.0.0.1:${f.daemon.ports.management}/readyz`)).status).toBe(200);
  const list = await f.call('GET', '/flags');
  expect(list.status).toBe(200);
  const kill = await f.call('POST', '/flags/new-checkout/kill');
  expect(kill.status).toBe(200);
  await f.call('PATCH', '/flags/new-checkout', { body: { state: 'ENABLED' }, headers: { 'content-type': 'application/merge-patch+json' } });
}

/** One daemon (adminFixture) for a describe block: started before its tests, stopped after them. */
function daemonFor(args: string[] = []): { get(): AdminFixture } {
  let f: AdminFixture | undefined;
  beforeAll(async () => {
    f = await adminFixture(args);
  });
  afterAll(async () => {
    await f?.daemon.stop();
    if (f) await rm(f.dir, { recursive: true, force: true });
  });
  return { get: () => f! };
}

describe('stream caps', () => {
  const fixture = daemonFor(['--max-streams', '8', '--max-streams-per-address', '4', '--max-connections', '40']);
  const sse: Sse[] = [];
  const clients: grpc.Client[] = [];
  const streams: ServerStream[] = [];
  afterEach(async () => {
    for (const s of sse.splice(0)) s.req.destroy();
    for (const s of streams.splice(0)) s.cancel();
    for (const c of clients.splice(0)) c.close();
  });

  it('refuses an SSE stream past --max-streams-per-address with 429 TOO_MANY_STREAMS, other addresses still get theirs, and logs once', async () => {
    const f = fixture.get();
    const port = f.daemon.ports.ofrep;
    for (let i = 0; i < 4; i++) {
      const s = await openSse(port, '127.0.0.2');
      sse.push(s);
      expect(s.status).toBe(200);
      expect(s.first).toContain('event: ready');
    }
    const refusals: Sse[] = [];
    for (let i = 0; i < 3; i++) refusals.push(await openSse(port, '127.0.0.2'));
    for (const r of refusals) {
      expect(r.status).toBe(429);
      expect(r.res.headers['retry-after']).toBe('5');
      expect(JSON.parse(r.first)).toMatchObject({ errorCode: 'TOO_MANY_STREAMS' });
    }
    const other = await openSse(port, '127.0.0.3');
    sse.push(other);
    expect(other.status).toBe(200);

    // A closed stream gives its place back.
    sse.shift()!.req.destroy();
    await eventually(async () => {
      const s = await openSse(port, '127.0.0.2');
      sse.push(s);
      return s.status === 200;
    });

    const text = await metricsText(f);
    expect(counter(text, 'vexil_streams_rejected_total', { service: 'sse', reason: 'per_address' })).toBeGreaterThanOrEqual(3);
    // Three refusals within the warning interval: one log line, not three.
    const warnings = f.daemon.logs.filter((l) => String(l['msg']).startsWith('refusing streams'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, service: 'sse', reason: 'per_address', address: '127.0.0.2', maxStreamsPerAddress: 4 });
  });

  it('refuses every kind of stream past --max-streams: SSE 429, gRPC EventStream and SyncFlags RESOURCE_EXHAUSTED, Connect EventStream resource_exhausted; management keeps answering', async () => {
    const f = fixture.get();
    const { ofrep, evaluation, sync } = f.daemon.ports;
    // 8 = the total cap: 4 + 2 SSE, one gRPC EventStream, one SyncFlags.
    for (const [address, n] of [['127.0.0.2', 4], ['127.0.0.3', 2]] as const) {
      for (let i = 0; i < n; i++) {
        const s = await openSse(ofrep, address);
        sse.push(s);
        expect(s.status).toBe(200);
      }
    }
    const ev = new EvalV2Client(`127.0.0.1:${evaluation}`, grpc.credentials.createInsecure());
    const sy = new SyncClient(`127.0.0.1:${sync}`, grpc.credentials.createInsecure());
    clients.push(ev, sy);
    const eventStream = () => (ev as unknown as { EventStream(r: unknown): ServerStream }).EventStream({});
    const syncFlags = () => (sy as unknown as { SyncFlags(r: unknown): ServerStream }).SyncFlags({});
    const e1 = eventStream();
    const s1 = syncFlags();
    streams.push(e1, s1);
    expect((await firstOf(e1)).message).toBeDefined();
    expect((await firstOf(s1)).message).toBeDefined();

    const late = await openSse(ofrep, '127.0.0.4');
    expect(late.status).toBe(429);
    const e2 = eventStream();
    const s2 = syncFlags();
    streams.push(e2, s2);
    expect((await firstOf(e2)).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((await firstOf(s2)).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const connect = createClient(evaluationV2.Service, createConnectTransport({ baseUrl: `http://127.0.0.1:${evaluation}`, httpVersion: '1.1' }));
    const refused = await (async () => {
      try {
        for await (const m of connect.eventStream({})) return m;
      } catch (err) {
        return ConnectError.from(err);
      }
    })();
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);

    await managementWorks(f);
    const text = await metricsText(f);
    for (const service of ['sse', 'evaluation', 'sync']) {
      expect(counter(text, 'vexil_streams_rejected_total', { service, reason: 'total' }), service).toBeGreaterThanOrEqual(1);
    }

    // Ending the gRPC streams frees their places for the next clients.
    e1.cancel();
    s1.cancel();
    await eventually(async () => {
      const again = eventStream();
      streams.push(again);
      return (await firstOf(again)).message !== undefined;
    });
  });

  it('closes connections past --max-connections on the evaluation and OFREP ports, counts them, and management keeps answering with the open-file limit close', async () => {
    const f = fixture.get();
    const { evaluation, ofrep, sync } = f.daemon.ports;
    const held: Socket[] = [];
    try {
      // 40 per port is the cap; hold it on all three capped ports.
      for (const port of [evaluation, ofrep, sync]) for (let i = 0; i < 40; i++) held.push(await connected(port));
      for (const port of [evaluation, ofrep]) {
        const extra = await connected(port);
        const { ms, received } = await closed(extra, performance.now());
        expect(received).toBe('');
        expect(ms).toBeLessThan(1_000);
      }
      // Lower the daemon's open-file limit under what the three ports would take uncapped: with
      // the caps, what is left still serves the management port.
      const pid = f.daemon.child.pid!;
      const lowered = spawnSync('prlimit', ['--pid', String(pid), '--nofile=200:200']);
      if (lowered.status === 0) {
        const flood: Socket[] = [];
        for (const port of [evaluation, ofrep, sync]) for (let i = 0; i < 60; i++) flood.push(netConnect({ port, host: '127.0.0.1' }).on('error', () => {}));
        held.push(...flood);
        await sleep(300);
        await managementWorks(f);
      } else {
        console.log(`prlimit unavailable (${lowered.stderr.toString().trim()}): the open-file part is skipped`);
      }
      await managementWorks(f);
      const text = await metricsText(f);
      expect(counter(text, 'vexil_connections_rejected_total', { service: 'evaluation', reason: 'max_connections' })).toBeGreaterThanOrEqual(1);
      expect(counter(text, 'vexil_connections_rejected_total', { service: 'ofrep', reason: 'max_connections' })).toBeGreaterThanOrEqual(1);
      expect(f.daemon.logs.some((l) => String(l['msg']).startsWith('refusing connections on the evaluation port'))).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      spawnSync('prlimit', ['--pid', String(fixture.get().daemon.child.pid), '--nofile=20000:20000']);
    }
  });
});

describe('timeouts', () => {
  const fixture = daemonFor(['--headers-timeout', '1s', '--request-timeout', '2s', '--idle-timeout', '1s']);

  it('closes a connection that sends nothing within --headers-timeout, on every port', async () => {
    const results = await Promise.all(
      (['evaluation', 'management', 'sync', 'ofrep'] as const).map(async (name) => {
        const s = await connected(fixture.get().daemon.ports[name]);
        const timer = setTimeout(() => s.destroy(), 5_000);
        const r = await closed(s, performance.now());
        clearTimeout(timer);
        return { name, ms: r.ms };
      }),
    );
    for (const { name, ms } of results) {
      expect(ms, name).toBeGreaterThan(800);
      expect(ms, name).toBeLessThan(2_500);
    }
  });

  it('answers 408 and closes a slowloris connection (one header line every 400 ms) on the evaluation, management and OFREP ports', async () => {
    await Promise.all(
      (['evaluation', 'management', 'ofrep'] as const).map(async (name) => {
        const s = await connected(fixture.get().daemon.ports[name]);
        const start = performance.now();
        const done = closed(s, start);
        s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        const drip = setInterval(() => s.writable && s.write(`X-Slow-${Math.round(performance.now())}: 1\r\n`), 400);
        const guard = setTimeout(() => s.destroy(), 6_000);
        const { ms, received } = await done;
        clearInterval(drip);
        clearTimeout(guard);
        expect(received, name).toMatch(/^HTTP\/1\.1 408/);
        expect(ms, name).toBeLessThan(3_500);
      }),
    );
  });

  it('answers 408 to a request body that trickles past --request-timeout on the management port', async () => {
    const s = await connected(fixture.get().daemon.ports.management);
    const start = performance.now();
    const done = closed(s, start);
    s.write('POST /api/v1/flags HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    const drip = setInterval(() => s.writable && s.write(' '), 300);
    const guard = setTimeout(() => s.destroy(), 6_000);
    const { ms, received } = await done;
    clearInterval(drip);
    clearTimeout(guard);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThan(1_500);
    expect(ms).toBeLessThan(4_500);
  });

  it('sends GOAWAY to an HTTP/2 connection without streams after --idle-timeout; streams (gRPC, Connect over h2c and HTTP/1.1, SSE) outlive every timeout', async () => {
    const idle = http2Connect(`http://127.0.0.1:${fixture.get().daemon.ports.evaluation}`);
    idle.on('error', () => {});
    const start = performance.now();
    const goaway = await new Promise<number>((resolve) => {
      idle.once('goaway', () => resolve(performance.now() - start));
      idle.once('close', () => resolve(performance.now() - start));
    });
    expect(goaway).toBeLessThan(3_000);
    idle.destroy();

    // Streams stay open past the idle, headers and request timeouts: they are not idle, and their requests arrived whole.
    const ev = new EvalV2Client(`127.0.0.1:${fixture.get().daemon.ports.evaluation}`, grpc.credentials.createInsecure());
    const grpcStream = (ev as unknown as { EventStream(r: unknown): ServerStream }).EventStream({});
    let grpcEnded = false;
    grpcStream.on('error', () => (grpcEnded = true));
    grpcStream.on('end', () => (grpcEnded = true));
    expect((await firstOf(grpcStream)).message).toBeDefined();
    const abort = new AbortController();
    const connectStreams = (['2', '1.1'] as const).map((httpVersion) => {
      const client = createClient(evaluationV2.Service, createConnectTransport({ baseUrl: `http://127.0.0.1:${fixture.get().daemon.ports.evaluation}`, httpVersion }));
      const state = { types: [] as string[], ended: false, reading: Promise.resolve() };
      state.reading = (async () => {
        try {
          for await (const e of client.eventStream({}, { signal: abort.signal })) state.types.push(e.type);
        } catch {
          // aborted below
        }
        state.ended = true;
      })();
      return state;
    });
    // A raw h2c session whose only stream is a Connect EventStream: not idle, so no GOAWAY either.
    const busy = http2Connect(`http://127.0.0.1:${fixture.get().daemon.ports.evaluation}`);
    busy.on('error', () => {});
    let busyGoaway = false;
    busy.on('goaway', () => (busyGoaway = true));
    const connectOverH2 = busy.request({ ':method': 'POST', ':path': '/flagd.evaluation.v2.Service/EventStream', 'content-type': 'application/connect+json' });
    connectOverH2.on('error', () => {});
    const envelope = Buffer.alloc(7);
    envelope.writeUInt32BE(2, 1);
    envelope.write('{}', 5);
    connectOverH2.end(envelope);
    await new Promise((resolve) => connectOverH2.once('data', resolve));
    const sse = await openSse(fixture.get().daemon.ports.ofrep);
    expect(sse.status).toBe(200);
    let sseEnded = false;
    sse.res.on('close', () => (sseEnded = true));
    await eventually(() => connectStreams.every((c) => c.types.includes('provider_ready')));
    await sleep(3_000);
    expect(grpcEnded).toBe(false);
    expect(connectStreams.map((c) => c.ended)).toEqual([false, false]);
    expect(sseEnded).toBe(false);
    expect(busyGoaway).toBe(false);
    busy.destroy();
    abort.abort();
    grpcStream.cancel();
    sse.req.destroy();
    ev.close();
    await Promise.all(connectStreams.map((c) => c.reading));
  });
});

describe('HTTP/1 and HTTP/2 told apart on split first segments', () => {
  const fixture = daemonFor();

  const body = JSON.stringify({ state: 'ENABLED' });
  const headers = (extra: string, length: number) =>
    `Host: 127.0.0.1\r\nX-Vexil-Request: t\r\nConnection: close\r\n${extra}Content-Length: ${length}\r\n\r\n`;

  it.each([
    ['P', `OST /api/v1/flags HTTP/1.1\r\n${headers('Content-Type: application/json\r\n', 2)}{}`],
    ['PU', `T /api/v1/flags/new-checkout HTTP/1.1\r\n${headers('Content-Type: application/json\r\n', 2)}{}`],
    ['PA', `TCH /api/v1/flags/new-checkout HTTP/1.1\r\n${headers('Content-Type: application/merge-patch+json\r\n', body.length)}${body}`],
    ['PRI', ` /api/v1/flags HTTP/1.1\r\n${headers('', 0)}`],
  ])('the management port answers HTTP/1.1 to %s, then the rest of the request', async (first, rest) => {
    const answer = await splitRequest(fixture.get().daemon.ports.management, first, rest);
    expect(answer).toMatch(/^HTTP\/1\.1 \d{3} /);
  });

  it('the evaluation port answers a Connect POST split after its first byte', async () => {
    const json = JSON.stringify({ flagKey: 'new-checkout' });
    const answer = await splitRequest(
      fixture.get().daemon.ports.evaluation,
      'P',
      `OST /flagd.evaluation.v2.Service/ResolveBoolean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${json.length}\r\n\r\n${json}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"value":false');
  });

  it('gRPC health (management port) and ResolveBoolean (evaluation port) work when the HTTP/2 preface arrives one byte per segment', async () => {
    const health = http2Connect(`http://127.0.0.1:${fixture.get().daemon.ports.management}`, { createConnection: () => tricklingConnection(fixture.get().daemon.ports.management) });
    health.on('error', () => {});
    const check = await rawGrpcUnary(health, '/grpc.health.v1.Health/Check', Buffer.alloc(0));
    expect(check.grpcStatus).toBe('0');
    // HealthCheckResponse { status: SERVING (1) }, after the 5-byte message prefix.
    expect([...check.body.subarray(5)]).toEqual([0x08, 0x01]);
    health.close();

    const evaluation = http2Connect(`http://127.0.0.1:${fixture.get().daemon.ports.evaluation}`, { createConnection: () => tricklingConnection(fixture.get().daemon.ports.evaluation) });
    evaluation.on('error', () => {});
    const key = Buffer.from('new-checkout');
    const resolved = await rawGrpcUnary(evaluation, '/flagd.evaluation.v2.Service/ResolveBoolean', Buffer.concat([Buffer.from([0x0a, key.length]), key]));
    expect(resolved.grpcStatus).toBe('0');
    expect(resolved.body.length).toBeGreaterThan(5);
    evaluation.close();
  });
});

describe('configuration of the limits', () => {
  const config = (argv: string[], env: Record<string, string> = {}) => {
    const r = parseConfig(argv, env);
    if (r.kind !== 'config') throw new Error(r.kind === 'error' ? r.message : r.kind);
    return r.config;
  };
  const error = (argv: string[], env: Record<string, string> = {}) => {
    const r = parseConfig(argv, env);
    return r.kind === 'error' ? r.message : undefined;
  };

  it('reads the flags, their FLAGD_* variables, and 0 as no cap or no timeout', () => {
    const c = config(['start', '--max-streams', '100', '--max-streams-per-address', '0', '--max-connections', '50', '--headers-timeout', '1500ms', '--request-timeout', '0', '--idle-timeout', '1m']);
    expect(c).toMatchObject({ maxStreams: 100, maxStreamsPerAddress: 0, maxConnections: 50, headersTimeoutMs: 1500, requestTimeoutMs: 0, idleTimeoutMs: 60_000 });
    const e = config(['start'], {
      FLAGD_MAX_STREAMS: '7',
      FLAGD_MAX_STREAMS_PER_ADDRESS: '3',
      FLAGD_MAX_CONNECTIONS: '9',
      FLAGD_HEADERS_TIMEOUT: '2s',
      FLAGD_REQUEST_TIMEOUT: '3s',
      FLAGD_IDLE_TIMEOUT: '4s',
    });
    expect(e).toMatchObject({ maxStreams: 7, maxStreamsPerAddress: 3, maxConnections: 9, headersTimeoutMs: 2000, requestTimeoutMs: 3000, idleTimeoutMs: 4000 });
  });

  it('refuses bad values with the setting and what it expects', () => {
    expect(error(['start', '--max-streams', '-1'])).toBe('invalid --max-streams "-1": expected a whole number (0: no cap)');
    expect(error(['start', '--max-connections', 'lots'])).toBe('invalid --max-connections "lots": expected a whole number (0: no cap)');
    expect(error(['start'], { FLAGD_MAX_STREAMS_PER_ADDRESS: '2.5' })).toBe('invalid FLAGD_MAX_STREAMS_PER_ADDRESS "2.5": expected a whole number (0: no cap)');
    expect(error(['start', '--headers-timeout', '5'])).toMatch(/^invalid --headers-timeout "5": expected a duration/);
    expect(error(['start', '--idle-timeout', 'soon'])).toMatch(/^invalid --idle-timeout "soon": expected a duration/);
  });

  it('derives the connection cap from the open-file limit: a quarter per capped port', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n';
    expect(readOpenFileLimit(() => limits)).toBe(20_000);
    expect(readOpenFileLimit(() => 'Max open files            unlimited            unlimited            files\n')).toBeUndefined();
    expect(
      readOpenFileLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
    expect(defaultMaxConnections(20_000)).toBe(5_000);
    expect(defaultMaxConnections(1_024)).toBe(256);
    expect(defaultMaxConnections(undefined)).toBe(4_096);
  });

  it('a stream limiter counts per address (IPv4-mapped addresses as IPv4) and releases once', () => {
    const limiter = new StreamLimiter({ maxStreams: 3, maxStreamsPerAddress: 2, logger: pino({ level: 'silent' }) });
    const a = limiter.tryOpen('sse', '::ffff:10.0.0.1');
    expect(limiter.tryOpen('sse', '10.0.0.1')).toBeDefined();
    expect(limiter.tryOpen('sse', '10.0.0.1')).toBeUndefined();
    expect(limiter.tryOpen('sync', '10.0.0.2')).toBeDefined();
    expect(limiter.tryOpen('sync', '10.0.0.3')).toBeUndefined();
    a!();
    a!();
    expect(limiter.open).toBe(2);
    expect(limiter.tryOpen('sse', '10.0.0.1')).toBeDefined();
  });
});
