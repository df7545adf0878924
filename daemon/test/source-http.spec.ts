import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpSource, type HttpSourceOptions } from '../src/sources/http/http-source.js';
import { backoffDelay, defaultBackoffCapMs } from '../src/sources/shared/poller.js';
import type { SourceConfig, SourceData, SourceFailure, SourceListener } from '../src/sources/source.js';

function listen(): { listener: SourceListener; data: SourceData[]; errors: SourceFailure[] } {
  const data: SourceData[] = [];
  const errors: SourceFailure[] = [];
  return { data, errors, listener: { data: (d) => void data.push(d), error: (e) => void errors.push(e) } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = (check: () => void, timeout = 3_000) => vi.waitFor(check, { timeout, interval: 5 });

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

interface Seen {
  readonly at: number;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly req: IncomingMessage;
}

let server: Server;
let base: string;
let requests: Seen[];
let handler: (req: IncomingMessage, res: ServerResponse) => void;
const sources: HttpSource[] = [];

beforeEach(async () => {
  requests = [];
  handler = (_req, res) => res.end('{}');
  server = createServer((req, res) => {
    requests.push({ at: performance.now(), url: req.url ?? '', headers: req.headers, req });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function source(path: string, config: Partial<SourceConfig> = {}, options: HttpSourceOptions = {}): HttpSource {
  const s = new HttpSource({ uri: `${base}${path}`, provider: 'http', interval: 0.05, ...config }, { timeoutMs: 2_000, ...options });
  sources.push(s);
  return s;
}

const doc = (value: string) => JSON.stringify({ flags: { f: { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' } } });

describe('http source', () => {
  it('sends If-None-Match, treats 304 as unchanged, and sees a new version', async () => {
    let version = 1;
    handler = (req, res) => {
      const etag = `"v${version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.setHeader('ETag', etag);
      res.setHeader('Last-Modified', 'Wed, 01 Jan 2025 00:00:00 GMT');
      res.setHeader('Content-Type', 'application/json');
      res.end(doc(`v${version}`));
    };
    const events = listen();
    await source('/flags.json').start(events.listener);
    expect(events.data).toEqual([{ source: `${base}/flags.json`, data: doc('v1'), version: '"v1"' }]);
    expect(requests[0].headers['if-none-match']).toBeUndefined();

    await waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(4));
    expect(requests[1].headers['if-none-match']).toBe('"v1"');
    expect(requests[1].headers['if-modified-since']).toBe('Wed, 01 Jan 2025 00:00:00 GMT');
    expect(events.data).toHaveLength(1);

    version = 2;
    await waitFor(() => expect(events.data.map((d) => d.version)).toEqual(['"v1"', '"v2"']));
    expect(events.data[1].data).toBe(doc('v2'));
    expect(events.errors).toEqual([]);
  });

  it('hands over data only when it changed, even without validators', async () => {
    handler = (_req, res) => res.end(doc('same'));
    const events = listen();
    await source('/flags').start(events.listener);
    await waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(4));
    expect(events.data).toHaveLength(1);
    expect(events.data[0].version).toBeUndefined();
  });

  it('sends authHeader as Authorization, the extra headers, and an Accept header', async () => {
    const events = listen();
    await source('/flags.json', { authHeader: 'Bearer s3cr3t', headers: { 'X-Tenant': 'acme', 'x-other': '1' } }).start(events.listener);
    expect(requests[0].headers.authorization).toBe('Bearer s3cr3t');
    expect(requests[0].headers['x-tenant']).toBe('acme');
    expect(requests[0].headers['x-other']).toBe('1');
    expect(requests[0].headers.accept).toMatch(/application\/json/);
  });

  it('converts YAML by content type, or by the URL path when the type says nothing', async () => {
    handler = (req, res) => {
      if (req.url === '/typed') res.setHeader('Content-Type', 'application/yaml; charset=utf-8');
      else res.setHeader('Content-Type', 'text/plain');
      res.end('flags:\n  f: {state: ENABLED}\n');
    };
    for (const path of ['/typed', '/flags.yml', '/flags.yaml', '/untyped']) {
      const events = listen();
      await source(path).start(events.listener);
      expect(events.errors).toEqual([]);
      expect(events.data.map((d) => d.data)).toEqual(['{"flags":{"f":{"state":"ENABLED"}}}']);
    }
  });

  it('reports 500 as http_status and recovers', async () => {
    let failures = 2;
    handler = (_req, res) => {
      if (failures-- > 0) {
        res.statusCode = 500;
        res.end('oops');
      } else {
        res.end(doc('ok'));
      }
    };
    const events = listen();
    await source('/flags.json').start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['http_status']);
    expect(events.errors[0].message).toMatch(/HTTP 500/);
    expect(events.errors[0].source).toBe(`${base}/flags.json`);
    expect(events.data).toEqual([]);
    await waitFor(() => expect(events.data.map((d) => d.data)).toEqual([doc('ok')]));
    expect(events.errors.map((e) => e.reason)).toEqual(['http_status', 'http_status']);
  });

  it.each([
    [404, 'not_found'],
    [401, 'denied'],
    [403, 'denied'],
    [418, 'http_status'],
    [503, 'http_status'],
  ])('reports %i as %s', async (status, reason) => {
    handler = (_req, res) => {
      res.statusCode = status;
      res.end('no');
    };
    const events = listen();
    await source('/flags.json').start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual([reason]);
    expect(events.data).toEqual([]);
  });

  it('reports a server that never answers as timeout', async () => {
    handler = () => {}; // never responds
    const events = listen();
    const t0 = performance.now();
    await source('/flags.json', {}, { timeoutMs: 150 }).start(events.listener);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(events.errors.map((e) => e.reason)).toEqual(['timeout']);
    expect(events.errors[0].message).toMatch(/150 ms/);
  });

  it('reports a body stalled after the headers as timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"flags":');
    };
    const events = listen();
    await source('/flags.json', {}, { timeoutMs: 150 }).start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['timeout']);
  });

  it('reports a refused connection as network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const s = new HttpSource({ uri: `http://127.0.0.1:${port}/flags.json`, provider: 'http' });
    sources.push(s);
    const events = listen();
    await s.start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['network']);
    expect(events.errors[0].message).toMatch(/ECONNREFUSED/);
  });

  it('reports garbage as parse_error, keeps polling, and does not keep its validators', async () => {
    let body = '<html><body>502 Bad Gateway</body></html>';
    handler = (req, res) => {
      res.setHeader('ETag', '"garbage"');
      if (req.headers['if-none-match'] === '"garbage"') {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.setHeader('Content-Type', 'text/html');
      res.end(body);
    };
    const events = listen();
    await source('/flags').start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['parse_error']);
    expect(events.errors[0].message).toMatch(/neither JSON nor YAML|not a mapping/);
    expect(events.data).toEqual([]);
    await waitFor(() => expect(events.errors.length).toBeGreaterThanOrEqual(2));
    expect(requests.every((r) => r.headers['if-none-match'] === undefined)).toBe(true);
    body = '{"flags": {}}';
    await waitFor(() => expect(events.data.map((d) => d.data)).toEqual(['{"flags": {}}']));
  });

  it('reports invalid JSON served as application/json as parse_error', async () => {
    handler = (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"flags": {,}');
    };
    const events = listen();
    await source('/flags').start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['parse_error']);
    expect(events.errors[0].message).toMatch(/invalid JSON/);
  });

  it('backs off exponentially while failing, and resets on success', async () => {
    let failing = true;
    handler = (_req, res) => {
      res.statusCode = failing ? 500 : 200;
      res.end(failing ? 'down' : doc('up'));
    };
    const events = listen();
    // interval 50 ms, cap 500 ms; random() = 1 takes the top of each jitter range, so the gaps are
    // 50, 100, 200, 400, 500 ms. Timers never fire early, so only lower bounds are asserted.
    await source('/flags.json', {}, { random: () => 0.999999 }).start(events.listener);
    await waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(6), 10_000);
    const gaps = requests.slice(0, 6).map((r, i, all) => (i === 0 ? 0 : r.at - all[i - 1].at)).slice(1);
    console.info(`http backoff gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    const expected = [50, 100, 200, 400, 500];
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(expected[i] - 10));

    failing = false;
    await waitFor(() => expect(events.data).toHaveLength(1), 5_000);
    const recoveredAt = requests.length;
    await sleep(600);
    // Back on the 50 ms interval: ~12 requests in 600 ms; ask for a third of that.
    console.info(`http requests in 600 ms after recovery: ${requests.length - recoveredAt}`);
    expect(requests.length - recoveredAt).toBeGreaterThanOrEqual(4);
  });

  it('computes backoff delays with full jitter, a floor and a cap', () => {
    const opts = (random: number) => ({ baseMs: 1_000, capMs: 10_000, random: () => random });
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, opts(1)))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(backoffDelay(3, opts(0.5))).toBe(2_000);
    expect(backoffDelay(3, opts(0))).toBe(100); // floor: base / 10
    expect(defaultBackoffCapMs(5_000)).toBe(50_000);
    expect(defaultBackoffCapMs(50)).toBe(500);
    expect(defaultBackoffCapMs(600_000)).toBe(600_000);
  });

  it('stop() aborts an in-flight request, reports nothing, and leaves no timers', async () => {
    handler = () => {}; // never responds
    const before = resourceCounts();
    const events = listen();
    const s = source('/flags.json', {}, { timeoutMs: 30_000 });
    let started = false;
    const starting = s.start(events.listener).then(() => (started = true));
    await waitFor(() => expect(requests).toHaveLength(1));
    const closed = new Promise<void>((resolve) => requests[0].req.socket.once('close', () => resolve()));
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(1_000);
    await closed; // the server saw the client go away
    await starting;
    expect(started).toBe(true);
    expect(events.errors).toEqual([]);
    expect(events.data).toEqual([]);
    expect(resourceCounts().Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    await sleep(200);
    expect(requests).toHaveLength(1);
  });

  it('stop() between polls clears the timer: no more requests', async () => {
    const before = resourceCounts();
    const events = listen();
    const s = source('/flags.json');
    await s.start(events.listener);
    await waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(2));
    await s.stop();
    const count = requests.length;
    expect(resourceCounts().Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    await sleep(200);
    expect(requests).toHaveLength(count);
  });

  it('uses an injected fetch', async () => {
    const fetched: string[] = [];
    const fake: typeof fetch = async (input) => {
      fetched.push(String(input));
      return new Response('{"flags":{}}', { status: 200 });
    };
    const events = listen();
    await source('/injected', {}, { fetch: fake }).start(events.listener);
    expect(fetched).toEqual([`${base}/injected`]);
    expect(requests).toEqual([]);
    expect(events.data.map((d) => d.data)).toEqual(['{"flags":{}}']);
  });

  it('rejects bad configuration', () => {
    expect(() => new HttpSource({ uri: 'ftp://x/y', provider: 'http' })).toThrow(/not an http/);
    expect(() => new HttpSource({ uri: 'not a url', provider: 'http' })).toThrow(/invalid URL/);
    expect(() => new HttpSource({ uri: 'http://x/y', provider: 'http', interval: 0 })).toThrow(/interval/);
  });
});
