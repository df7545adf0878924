/**
 * A small stand-in for the daemon's browser routes (the daemon README, "Rules for browsers",) and OFREP
 * bulk evaluation, on 127.0.0.1 port 0, until the daemon's side lands. The test controls it:
 * replace the flags (pushed to every open stream), drop the streams, refuse connections, stop
 * exposing the rules, and read every request it saw.
 */
import { Evaluator } from '@vexil/core';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FlagSet = { flags: Record<string, unknown>; metadata?: Record<string, unknown> };

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  status?: number;
  at: number;
}

export interface FakeDaemon {
  url: string;
  requests: SeenRequest[];
  /** Serve rules to browsers (else 403 RULES_NOT_EXPOSED on the rules routes). */
  exposed: boolean;
  /** Refuse every new request by resetting its connection, as a daemon that is gone. */
  down: boolean;
  /** Replaces the flag set and tells every open stream. */
  setFlags(doc: FlagSet): void;
  /** Resets every open stream connection (a crash or a network break, no goodbye). */
  dropStreams(): void;
  /** Sends `event: shutdown` and ends every stream, as a daemon that stops. */
  shutdownStreams(): void;
  /** Writes a keep-alive comment to every stream. */
  keepAlive(): void;
  openStreams(): number;
  /** Requests to `path`, optionally only those answered with `status`. */
  count(path: string, status?: number): number;
  close(): Promise<void>;
}

const etagOf = (text: string) => `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;

const NOT_EXPOSED = JSON.stringify({
  errorCode: 'RULES_NOT_EXPOSED',
  errorDetails:
    'flag set all flags is not exposed to browsers: use remote evaluation (OFREP), or expose it with --browser-rules or "browserRules": true in its metadata',
});

export async function startFakeDaemon(initial: FlagSet): Promise<FakeDaemon> {
  let text = JSON.stringify(initial);
  let etag = etagOf(text);
  const ev = new Evaluator();
  ev.setFlags(text);
  const streams = new Set<{ res: ServerResponse; rules: boolean }>();
  const requests: SeenRequest[] = [];

  const send = (res: ServerResponse, seen: SeenRequest, status: number, body?: string, headers: Record<string, string> = {}) => {
    seen.status = status;
    res.writeHead(status, { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'ETag', ...headers });
    res.end(body);
  };

  const bulkBody = (ctx: Record<string, unknown>) =>
    JSON.stringify({
      flags: ev.resolveAll(ctx).map((r) =>
        r.errorCode
          ? { key: r.flagKey, errorCode: r.errorCode, errorDetails: r.errorMessage, metadata: r.flagMetadata }
          : { key: r.flagKey, value: r.value, reason: r.reason, variant: r.variant, metadata: r.flagMetadata },
      ),
      metadata: ev.flagSetMetadata,
    });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const seen: SeenRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, at: performance.now() };
    requests.push(seen);
    if (fake.down) return void req.socket.destroy();
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (url.pathname === '/vexil/v1/rules') {
        if (!fake.exposed) return send(res, seen, 403, NOT_EXPOSED, { 'content-type': 'application/json' });
        if (req.headers['if-none-match'] === etag) return send(res, seen, 304, undefined, { etag });
        return send(res, seen, 200, text, { 'content-type': 'application/json', etag, 'cache-control': 'no-cache' });
      }
      if (url.pathname === '/vexil/v1/stream') {
        const rules = url.searchParams.get('rules') !== 'false';
        if (rules && !fake.exposed) return send(res, seen, 403, NOT_EXPOSED, { 'content-type': 'application/json' });
        seen.status = 200;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', 'access-control-allow-origin': '*' });
        res.write(rules ? `event: rules\nid: ${etag.slice(1, -1)}\ndata: ${text}\n\n` : 'event: ready\ndata: {}\n\n');
        const s = { res, rules };
        streams.add(s);
        res.on('close', () => streams.delete(s));
        return;
      }
      if (url.pathname === '/ofrep/v1/evaluate/flags' && req.method === 'POST') {
        const out = bulkBody((JSON.parse(body || '{}') as { context?: Record<string, unknown> }).context ?? {});
        const tag = etagOf(out);
        if (req.headers['if-none-match'] === tag) return send(res, seen, 304, undefined, { etag: tag });
        return send(res, seen, 200, out, { 'content-type': 'application/json', etag: tag });
      }
      send(res, seen, 404, JSON.stringify({ errorDetails: 'not found' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const fake: FakeDaemon = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    exposed: true,
    down: false,
    setFlags(doc) {
      text = JSON.stringify(doc);
      etag = etagOf(text);
      let changed: string[] = [];
      try {
        changed = ev.setFlags(text);
      } catch {
        // A document the daemon would never send, for the provider's refusal path: streamed as it is.
      }
      for (const { res, rules } of streams) {
        res.write(rules ? `event: rules\nid: ${etag.slice(1, -1)}\ndata: ${text}\n\n` : `event: change\ndata: ${JSON.stringify({ flags: changed })}\n\n`);
      }
    },
    dropStreams() {
      for (const { res } of streams) res.socket?.destroy();
    },
    shutdownStreams() {
      for (const { res } of streams) res.end('event: shutdown\ndata: {}\n\n');
    },
    keepAlive() {
      for (const { res } of streams) res.write(': keep-alive\n\n');
    },
    openStreams: () => streams.size,
    count: (path, status) => requests.filter((r) => r.path === path && (status === undefined || r.status === status)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
