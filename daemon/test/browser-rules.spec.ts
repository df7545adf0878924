/**
 * Rules for browsers (issue 5): GET /vexil/v1/rules and the /vexil/v1/stream Server-Sent Events
 * on the OFREP port. The real daemon process with real flag files, driven by Node's fetch reading
 * the SSE body; the internal stream options (keep-alive interval, slow-client limit) against the
 * OFREP server in process, on a real port.
 */
import * as grpc from '@grpc/grpc-js';
import { syncV1 } from '@vexil/proto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { grpcServiceDefinition } from '../src/grpc/definitions.js';
import type { RunningServer } from '../src/servers/http/listen.js';
import { createOfrepServer } from '../src/servers/ofrep/ofrep-server.js';
import { FlagStore } from '../src/store/flag-store.js';
import { createMetrics, type Metrics } from '../src/telemetry/metrics.js';
import { eventually, startDaemon, type DaemonProcess } from './support/daemon-process.js';

// ------------------------------------------------------------------------------------------------
// Flag files and helpers
// ------------------------------------------------------------------------------------------------

const webDoc = (headline: string) => ({
  metadata: { flagSetId: 'web', browserRules: true },
  flags: {
    headline: { state: 'ENABLED', variants: { a: headline, b: 'B' }, defaultVariant: 'a' },
    'dark-mode': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { fractional: [['on', 50], ['off', 50]] },
    },
  },
});

/** Rules with personal data: never served to browsers unless exposed. */
const serverDoc = (extra: Record<string, unknown> = {}, limit = 10) => ({
  metadata: { flagSetId: 'server' },
  flags: {
    'vip-pricing': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ in: [{ var: 'email' }, ['ann@example.com', 'bob@example.com']] }, 'on', null] },
    },
    'rate-limit': { state: 'ENABLED', variants: { low: limit, high: 100 }, defaultVariant: 'low' },
    ...extra,
  },
});

/** browserRules at the set level, but one flag opts out. */
const mixedDoc = {
  metadata: { flagSetId: 'mixed', browserRules: true },
  flags: {
    open: { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' },
    private: { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on', metadata: { browserRules: false } },
  },
};

// Made at load: test names and tables below use file paths.
const dir = mkdtempSync(join(tmpdir(), 'vexil-browser-'));
const path = (name: string) => join(dir, name);
/** Atomic replace, as editors and config management do. */
const write = (name: string, doc: unknown) => {
  writeFileSync(`${path(name)}.tmp`, JSON.stringify(doc));
  renameSync(`${path(name)}.tmp`, path(name));
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
  /** performance.now() when the event was read. */
  at: number;
}

interface SseClient {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  /** Resolves when the response body ends (or the client aborts). */
  readonly ended: Promise<void>;
  readonly isEnded: () => boolean;
  /** Resolves with the first event (from `from` on) matching, within `ms`. */
  next(match: (e: SseEvent) => boolean, ms?: number, from?: number): Promise<SseEvent>;
  close(): Promise<void>;
}

function parseBlock(block: string): SseEvent {
  const e: SseEvent = { at: performance.now() };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) e.comment = line.slice(1).trim();
    else {
      const colon = line.indexOf(':');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event' || field === 'id') e[field] = value;
      else if (field === 'data') e.data = e.data === undefined ? value : `${e.data}\n${value}`;
    }
  }
  return e;
}

const openClients: SseClient[] = [];

/** An SSE client over fetch: reads the body stream and splits it into events. */
async function sse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  let done = false;
  const ended = (async () => {
    if (res.body === null) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffered += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffered.indexOf('\n\n')) >= 0) {
          events.push(parseBlock(buffered.slice(0, i)));
          buffered = buffered.slice(i + 2);
        }
      }
    } catch {
      // aborted
    } finally {
      done = true;
    }
  })();
  const client: SseClient = {
    status: res.status,
    headers: res.headers,
    events,
    ended,
    isEnded: () => done,
    async next(match, ms = 5_000, from = 0) {
      let found: SseEvent | undefined;
      await eventually(() => (found = events.slice(from).find(match)) !== undefined, ms, 5);
      return found as SseEvent;
    },
    async close() {
      abort.abort();
      await ended;
    },
  };
  openClients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
});

const SyncClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(syncV1.FlagSyncService), 'FlagSyncService');

function fetchAllFlags(port: number, selector: string): Promise<string> {
  const client = new SyncClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    (client as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, res?: { flagConfiguration: string }) => void) => void>)
      ['FetchAllFlags'].call(client, { selector }, (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res!.flagConfiguration);
      });
  });
}

async function gauge(managementPort: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('vexil_event_streams_active{') && l.includes('service="sse"'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const notExposedBody = (what: string) => ({
  errorCode: 'RULES_NOT_EXPOSED',
  errorDetails: `flag set ${what} is not exposed to browsers: use remote evaluation (OFREP), or expose it with --browser-rules or "browserRules": true in its metadata`,
});

// ------------------------------------------------------------------------------------------------
// The daemon process
// ------------------------------------------------------------------------------------------------

describe('rules for browsers: the daemon process (exposure by metadata, -C origins)', () => {
  let d: DaemonProcess;
  let base: string;
  const rules = (query = '', headers: Record<string, string> = {}) => fetch(`${base}/vexil/v1/rules${query}`, { headers });
  const WEB = '?selector=flagSetId%3Dweb';
  const SERVER = '?selector=flagSetId%3Dserver';

  beforeAll(async () => {
    write('web.json', webDoc('Hello'));
    write('server.json', serverDoc());
    write('mixed.json', mixedDoc);
    d = await startDaemon(['-f', `file:${path('web.json')}`, '-f', `file:${path('server.json')}`, '-f', `file:${path('mixed.json')}`, '-C', 'https://app.example']);
    base = `http://127.0.0.1:${d.ports.ofrep}`;
  });
  afterAll(async () => {
    expect(await d.stop()).toBe(0);
  });

  it('serves the flag set JSON the sync service sends, with a strong ETag, no-cache and the ETag exposed', async () => {
    const r = await rules(WEB);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('access-control-expose-headers')).toBe('ETag');
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const text = await r.text();
    expect(text).toBe(await fetchAllFlags(d.ports.sync, 'flagSetId=web'));
    const doc = JSON.parse(text) as { flags: Record<string, { targeting?: unknown }>; metadata: Record<string, unknown> };
    expect(Object.keys(doc.flags).sort()).toEqual(['dark-mode', 'headline']);
    expect(doc.flags['dark-mode'].targeting).toEqual({ fractional: [['on', 50], ['off', 50]] });
    expect(doc.metadata).toEqual({ flagSetId: 'web' });
  });

  it('answers 304 without a body when If-None-Match matches, with the ETag repeated; 200 when it does not', async () => {
    const etag = (await rules(WEB)).headers.get('etag')!;
    const r = await rules(WEB, { 'if-none-match': etag });
    expect(r.status).toBe(304);
    expect(r.headers.get('etag')).toBe(etag);
    expect(await r.text()).toBe('');
    expect((await rules(WEB, { 'if-none-match': `W/${etag}, "other"` })).status).toBe(304);
    const other = await rules(WEB, { 'if-none-match': '"stale"' });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).toBe(etag);
  });

  it('takes the selector from the query, else the Flagd-Selector header; the query wins', async () => {
    const byQuery = await rules(WEB);
    const byHeader = await rules('', { 'flagd-selector': 'flagSetId=web' });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get('etag')).toBe(byQuery.headers.get('etag'));
    expect(await byHeader.text()).toBe(await byQuery.text());
    expect((await rules(WEB, { 'flagd-selector': 'flagSetId=server' })).status).toBe(200);
    expect((await rules(SERVER, { 'flagd-selector': 'flagSetId=web' })).status).toBe(403);
    // An empty query value counts as absent.
    expect((await rules('?selector=', { 'flagd-selector': 'flagSetId=web' })).status).toBe(200);
    // A bare source path selects that file's flags; its set metadata exposes them.
    expect((await rules(`?selector=${encodeURIComponent(path('web.json'))}`)).status).toBe(200);
  });

  it('refuses rules of flag sets that are not exposed with 403 RULES_NOT_EXPOSED', async () => {
    const server = await rules(SERVER);
    expect(server.status).toBe(403);
    expect(server.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await server.json()).toEqual(notExposedBody('flagSetId=server'));
    // No selector: every flag, the server set's included.
    const all = await rules();
    expect(all.status).toBe(403);
    expect(await all.json()).toEqual(notExposedBody('all flags'));
    // Set metadata says browserRules, but one flag opts out.
    expect((await rules('?selector=flagSetId%3Dmixed')).status).toBe(403);
    // A selector matching nothing has no metadata saying so.
    expect((await rules('?selector=flagSetId%3Dnone')).status).toBe(403);
    const stream = await fetch(`${base}/vexil/v1/stream${SERVER}`);
    expect(stream.status).toBe(403);
    expect(stream.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await stream.json()).toEqual(notExposedBody('flagSetId=server'));
  });

  it('answers CORS as the OFREP routes do (-C): allowed origins echoed, others get no CORS headers, preflight 204', async () => {
    const allowed = await rules(WEB, { origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('vary')).toBe('Origin');
    expect(allowed.headers.get('access-control-expose-headers')).toBe('ETag');
    const refused = await rules(SERVER, { origin: 'https://app.example' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await rules(WEB, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    for (const route of ['/vexil/v1/rules', '/vexil/v1/stream']) {
      const pre = await fetch(`${base}${route}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'flagd-selector,if-none-match' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(pre.headers.get('access-control-allow-methods')).toContain('GET');
      expect(pre.headers.get('access-control-allow-headers')).toBe('flagd-selector,if-none-match');
    }

    const s = await sse(`${base}/vexil/v1/stream${WEB}`, { origin: 'https://app.example' });
    expect(s.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(s.headers.get('vary')).toBe('Origin');
  });

  it('rules stream: the flag set at once, again within 1 s of a file change, nothing for another selector’s change', async () => {
    const s = await sse(`${base}/vexil/v1/stream${WEB}`);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('text/event-stream');
    expect(s.headers.get('cache-control')).toBe('no-cache');
    expect(s.headers.get('x-accel-buffering')).toBe('no');
    const first = await s.next((e) => e.event === 'rules');
    const r = await rules(WEB);
    expect(first.id).toBe(r.headers.get('etag')!.slice(1, -1));
    expect(first.data).toBe(await r.text());

    // Another selector's change: the server stream sees it, the web stream does not.
    const server = await sse(`${base}/vexil/v1/stream${SERVER}&rules=false`);
    await server.next((e) => e.event === 'ready');
    write('server.json', serverDoc({}, 20));
    await server.next((e) => e.event === 'change');
    await new Promise((r) => setTimeout(r, 300));
    expect(s.events.filter((e) => e.comment === undefined)).toHaveLength(1);

    const written = performance.now();
    write('web.json', webDoc('Changed'));
    const second = await s.next((e) => e.event === 'rules', 5_000, 1);
    expect(second.at - written).toBeLessThan(1_000);
    const after = await rules(WEB);
    expect(second.id).toBe(after.headers.get('etag')!.slice(1, -1));
    expect(second.id).not.toBe(first.id);
    expect((JSON.parse(second.data!) as { flags: { headline: { variants: { a: string } } } }).flags.headline.variants.a).toBe('Changed');
    expect(second.data).toBe(await after.text());
  });

  it('changes stream (rules=false) works for a selector that is not exposed: ready, then the changed keys', async () => {
    const s = await sse(`${base}/vexil/v1/stream${SERVER}&rules=false`);
    expect(s.status).toBe(200);
    const ready = await s.next(() => true);
    expect(ready).toMatchObject({ event: 'ready', data: '{}' });
    write('server.json', serverDoc({ 'new-flag': { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' } }, 30));
    const change = await s.next((e) => e.event === 'change');
    expect((JSON.parse(change.data!) as { flags: string[] }).flags.sort()).toEqual(['new-flag', 'rate-limit']);
    // No rules ever go down a changes stream.
    expect(s.events.some((e) => e.event === 'rules' || e.data?.includes('ann@example.com'))).toBe(false);
  });

  it('counts open streams in vexil_event_streams_active{service="sse"}, back to 0 once clients disconnect', async () => {
    const a = await sse(`${base}/vexil/v1/stream${WEB}`);
    const b = await sse(`${base}/vexil/v1/stream?rules=false`);
    await a.next((e) => e.event === 'rules');
    await b.next((e) => e.event === 'ready');
    expect(await gauge(d.ports.management)).toBe(2);
    await a.close();
    await b.close();
    await eventually(async () => (await gauge(d.ports.management)) === 0);
  });

  it('answers bad input with a clear 4xx and keeps serving', async () => {
    const bad = async (query: string, status: number, errorCode?: string) => {
      const r = await fetch(`${base}/vexil/v1/rules${query}`);
      expect(r.status).toBe(status);
      if (errorCode !== undefined) expect(((await r.json()) as { errorCode: string }).errorCode).toBe(errorCode);
      else await r.arrayBuffer();
    };
    await bad('?selector=flagSetId%3Dweb&selector=flagSetId%3Dserver', 400, 'INVALID_SELECTOR');
    await bad('?selector=flagSetId%3Dw%01eb', 400, 'INVALID_SELECTOR');
    await bad(`?selector=${'x'.repeat(3_000)}`, 400, 'INVALID_SELECTOR');
    // Past Node's 16 KiB header limit: fastify's client error handler answers 431.
    await bad(`?selector=${'x'.repeat(40_000)}`, 431);
    const header = await fetch(`${base}/vexil/v1/rules`, { headers: { 'flagd-selector': 'y'.repeat(3_000) } });
    expect(header.status).toBe(400);
    expect(((await header.json()) as { errorDetails: string }).errorDetails).toContain('Flagd-Selector');
    const mode = await fetch(`${base}/vexil/v1/stream${WEB}&rules=yes`);
    expect(mode.status).toBe(400);
    expect(await mode.json()).toEqual({ errorCode: 'INVALID_REQUEST', errorDetails: 'rules must be true or false, got "yes"' });
    const post = await fetch(`${base}/vexil/v1/stream`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    await post.arrayBuffer();
    expect((await fetch(`${base}/vexil/v1/stream`, { method: 'HEAD' })).status).toBe(405);
    expect((await rules(WEB)).status).toBe(200);
  });
});

describe('rules for browsers: exposure by --browser-rules and FLAGD_BROWSER_RULES', () => {
  let d: DaemonProcess | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  beforeAll(() => {
    write('web.json', webDoc('Hello'));
    write('server.json', serverDoc());
  });

  const statuses = async (selectors: string[]) => {
    const out: Record<string, number> = {};
    for (const s of selectors) {
      const r = await fetch(`http://127.0.0.1:${d!.ports.ofrep}/vexil/v1/rules${s === '' ? '' : `?selector=${encodeURIComponent(s)}`}`);
      await r.arrayBuffer();
      out[s === '' ? '(none)' : s] = r.status;
    }
    return out;
  };
  const start = (args: string[], env?: Record<string, string>) =>
    startDaemon(['-f', `file:${path('web.json')}`, '-f', `file:${path('server.json')}`, ...args], { env });
  const selectors = ['', 'flagSetId=server', 'flagSetId=web', ' flagSetId=server ', `source=${path('server.json')}`];

  it('a selector as clients send it, compared after trimming (metadata still exposes web)', async () => {
    d = await start(['--browser-rules', ' flagSetId=server ']);
    expect(await statuses(selectors)).toEqual({
      '(none)': 403,
      'flagSetId=server': 200,
      'flagSetId=web': 200,
      ' flagSetId=server ': 200,
      [`source=${path('server.json')}`]: 403,
    });
    const s = await sse(`http://127.0.0.1:${d.ports.ofrep}/vexil/v1/stream?selector=flagSetId%3Dserver`);
    expect((await s.next(() => true)).event).toBe('rules');
  });

  it('all: the request without a selector', async () => {
    d = await start(['--browser-rules', 'all']);
    expect(await statuses(selectors)).toEqual({
      '(none)': 200,
      'flagSetId=server': 403,
      'flagSetId=web': 200,
      ' flagSetId=server ': 403,
      [`source=${path('server.json')}`]: 403,
    });
  });

  it('*: every selector', async () => {
    d = await start(['--browser-rules=*']);
    expect(Object.values(await statuses([...selectors, 'flagSetId=nothing']))).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('FLAGD_BROWSER_RULES, several values', async () => {
    d = await start([], { FLAGD_BROWSER_RULES: `flagSetId=server all` });
    expect(await statuses(selectors)).toMatchObject({ '(none)': 200, 'flagSetId=server': 200, [`source=${path('server.json')}`]: 403 });
  });

  it('SIGTERM sends event: shutdown on every stream and ends it; the daemon exits 0 at once, aborted clients included', async () => {
    d = await start(['--browser-rules', '*']);
    const base = `http://127.0.0.1:${d.ports.ofrep}`;
    const a = await sse(`${base}/vexil/v1/stream?selector=flagSetId%3Dserver`);
    const b = await sse(`${base}/vexil/v1/stream?rules=false`);
    await a.next((e) => e.event === 'rules');
    await b.next((e) => e.event === 'ready');
    // A client that aborted its stream: undici then opens a fresh connection and sends nothing on
    // it, which Node's close() would wait for until the headers timeout.
    const gone = await sse(`${base}/vexil/v1/stream?rules=false`);
    await gone.next((e) => e.event === 'ready');
    await gone.close();
    const stopping = performance.now();
    expect(await d.stop()).toBe(0);
    // Well under the 5 s grace of in-flight calls: the streams did not hold the OFREP server open.
    expect(performance.now() - stopping).toBeLessThan(4_000);
    await Promise.all([a.ended, b.ended]);
    for (const c of [a, b]) expect(c.events.at(-1)).toMatchObject({ event: 'shutdown', data: '{}' });
  });
});

// ------------------------------------------------------------------------------------------------
// In process: the stream options tests shorten
// ------------------------------------------------------------------------------------------------

describe('rules streams in process (internal options)', () => {
  const SOURCE = 'file:web.json';
  let server: RunningServer | undefined;
  let logs: Record<string, unknown>[];

  afterEach(async () => {
    await Promise.all(openClients.splice(0).map((c) => c.close()));
    await server?.close();
    server = undefined;
  });

  /** `doc` undefined: the source has not delivered yet (a daemon just started). */
  async function start(doc: unknown, browserStreams: { keepAliveMs?: number; maxBufferedBytes?: number }) {
    const store = new FlagStore([SOURCE]);
    if (doc !== undefined) {
      const r = store.update(SOURCE, JSON.stringify(doc));
      if (!r.ok) throw new Error(r.error.message);
    }
    const metrics = createMetrics({ defaultMetrics: false });
    logs = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    server = createOfrepServer({
      store,
      metrics,
      logger,
      host: '127.0.0.1',
      port: 0,
      contextValues: {},
      contextFromHeaders: {},
      corsOrigins: [],
      browserStreams,
    });
    const { port } = await server.start();
    return { store, metrics, base: `http://127.0.0.1:${port}` };
  }

  const sseGauge = async (metrics: Metrics) => {
    const line = (await metrics.render()).split('\n').find((l) => l.startsWith('vexil_event_streams_active{service="sse"}'));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('writes a keep-alive comment every keepAliveMs on both kinds of stream', async () => {
    const { base } = await start(webDoc('Hello'), { keepAliveMs: 200 });
    const rules = await sse(`${base}/vexil/v1/stream`);
    const changes = await sse(`${base}/vexil/v1/stream?rules=false`);
    await new Promise((r) => setTimeout(r, 750));
    for (const s of [rules, changes]) {
      const comments = s.events.filter((e) => e.comment !== undefined);
      expect(comments.length).toBeGreaterThanOrEqual(2);
      expect(comments.length).toBeLessThanOrEqual(5);
      expect(comments.every((c) => c.comment === 'keep-alive')).toBe(true);
    }
    expect(rules.events[0].event).toBe('rules');
    expect(changes.events[0].event).toBe('ready');
  });

  it('ends rules streams when a change leaves the flag set no longer exposed; a reconnect gets 403', async () => {
    const { store, base } = await start(webDoc('Hello'), {});
    const s = await sse(`${base}/vexil/v1/stream`);
    await s.next((e) => e.event === 'rules');
    const doc = webDoc('Hello');
    store.update(SOURCE, JSON.stringify({ ...doc, metadata: { flagSetId: 'web' } }));
    await s.ended;
    expect(s.events.map((e) => e.event)).toEqual(['rules']);
    expect(logs.some((l) => l['msg'] === 'flag set no longer exposed to browsers: ending its rules streams')).toBe(true);
    expect((await fetch(`${base}/vexil/v1/stream`)).status).toBe(403);
  });

  it('answers 503 UNAVAILABLE with Retry-After, not 403, for rules and rules streams until the sources have delivered', async () => {
    // A restarted daemon: a web provider that got 403 here would stop for good (FATAL).
    const { store, base } = await start(undefined, {});
    for (const url of [`${base}/vexil/v1/rules`, `${base}/vexil/v1/stream`]) {
      const res = await fetch(url);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual({ errorCode: 'UNAVAILABLE', errorDetails: 'the daemon has not loaded its flag sources yet' });
    }
    store.update(SOURCE, JSON.stringify(webDoc('Hello')));
    expect((await fetch(`${base}/vexil/v1/rules`)).status).toBe(200);
    const s = await sse(`${base}/vexil/v1/stream`);
    await s.next((e) => e.event === 'rules');
  });

  it('drops a client that stops reading once more than maxBufferedBytes wait for it; readers are not affected', async () => {
    const big = (n: number) => ({
      metadata: { flagSetId: 'web', browserRules: true },
      flags: { blob: { state: 'ENABLED', variants: { a: `${n}:${'x'.repeat(512 * 1024)}` }, defaultVariant: 'a' } },
    });
    const { store, metrics, base } = await start(big(0), { maxBufferedBytes: 1024 * 1024 });
    const reader = await sse(`${base}/vexil/v1/stream`);
    await reader.next((e) => e.event === 'rules');
    // A raw HTTP client that sends its request and never reads.
    const url = new URL(base);
    const stalled = connect(Number(url.port), url.hostname);
    stalled.on('error', () => {});
    let stalledClosed = false;
    stalled.once('close', () => (stalledClosed = true));
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.write('GET /vexil/v1/stream HTTP/1.1\r\nHost: localhost\r\n\r\n');
    stalled.pause();
    await eventually(async () => (await sseGauge(metrics)) === 2);
    // Enough changes to fill the kernel's socket buffers and then the response's own.
    let last = 0;
    while (last < 200 && !logs.some((l) => l['msg'] === 'dropping a slow event stream client: it is not reading its events')) {
      store.update(SOURCE, JSON.stringify(big(++last)));
      await new Promise((r) => setTimeout(r, 5));
    }
    const dropped = logs.find((l) => l['msg'] === 'dropping a slow event stream client: it is not reading its events');
    expect(dropped).toMatchObject({ level: 40, limit: 1024 * 1024 });
    expect(dropped!['bufferedBytes'] as number).toBeGreaterThan(1024 * 1024);
    await eventually(async () => (await sseGauge(metrics)) === 1);
    // Its FIN waits behind the bytes it never read.
    stalled.resume();
    await eventually(() => stalledClosed);
    // The reading client is still there and gets the last change.
    await eventually(() => reader.events.at(-1)?.data?.includes(`"a":"${last}:`) === true);
    expect(reader.isEnded()).toBe(false);
  });
});
