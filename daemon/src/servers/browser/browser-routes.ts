/**
 * Rules for browsers (issue 5, daemon side), on the OFREP port next to the OFREP routes, with
 * the same CORS handling (`-C`, ../cors.ts):
 *
 *   GET /vexil/v1/rules[?selector=…]                  the flag set JSON the sync service sends;
 *                                                     ETag, If-None-Match → 304
 *   GET /vexil/v1/stream[?selector=…][&rules=false]   Server-Sent Events: `rules` (whole flag set)
 *                                                     or, with rules=false, `ready` then `change`
 *                                                     (changed keys); `: keep-alive` comments;
 *                                                     `shutdown` when the daemon stops
 *
 * The selector is the `selector` query parameter, else the `Flagd-Selector` header, else none
 * (all flags); an empty value counts as absent. Rules are served only for exposed flag sets
 * (rule-sets.ts), else 403 RULES_NOT_EXPOSED; the changes stream is open to every selector, as
 * it carries flag keys only. Bad input (a repeated or over-long selector, control characters,
 * `rules` other than true/false) is a 400 with `{errorCode, errorDetails}`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import type { FlagStore } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { StreamLimiter } from '../connection-limits.js';
import { createCors } from '../cors.js';
import { ifNoneMatch } from '../ofrep/etag.js';
import { RuleSets } from './rule-sets.js';
import { SSE_SERVICE, SseStreams, type StreamMode } from './sse-streams.js';

export const RULES_ROUTE = '/vexil/v1/rules';
export const STREAM_ROUTE = '/vexil/v1/stream';

/** The error codes of these routes' JSON error bodies. */
export const BrowserErrorCode = {
  /** 403: the flag set's rules are not exposed to browsers. */
  RULES_NOT_EXPOSED: 'RULES_NOT_EXPOSED',
  /** 400: the selector is repeated, too long or holds control characters. */
  INVALID_SELECTOR: 'INVALID_SELECTOR',
  /** 400: another parameter is invalid (`rules` not true/false), or the request could not be read. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** 503: the daemon is shutting down, or no source has delivered flags yet (Retry-After). */
  UNAVAILABLE: 'UNAVAILABLE',
  /** 429: a stream cap is reached (--max-streams, --max-streams-per-address); Retry-After says when to retry. */
  TOO_MANY_STREAMS: 'TOO_MANY_STREAMS',
} as const;
export type BrowserErrorCode = (typeof BrowserErrorCode)[keyof typeof BrowserErrorCode];

export const DEFAULT_KEEP_ALIVE_MS = 15_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 2_000;
/** Longer than any selector in use; as long as the OFREP server's longest path parameter. */
export const MAX_SELECTOR_LENGTH = 2048;
/** Seconds a client refused by a stream cap is told to wait (Retry-After). */
export const STREAM_RETRY_AFTER_SECONDS = 5;

const JSON_TYPE = 'application/json';

export interface BrowserRoutesOptions {
  store: Pick<FlagStore, 'flagSetJson' | 'evaluator' | 'subscribe' | 'currentVersion' | 'ready'>;
  metrics: Pick<Metrics, 'route' | 'eventStreamOpened' | 'eventStreamClosed'>;
  logger: Logger;
  /** `-C` origins, as the OFREP routes take them. */
  corsOrigins: readonly string[];
  /** `--browser-rules` values: selectors whose rules are exposed; `all` for no selector, `*` for every one. */
  browserRules: readonly string[];
  /** Interval of `: keep-alive` comments; default 15 s. Internal (tests shorten it), not a CLI flag. */
  keepAliveMs?: number;
  /** A stream client with more bytes than this waiting unread is dropped; default 8 MiB. */
  maxBufferedBytes?: number;
  /** At shutdown, how long ended streams may take to flush before they are destroyed; default 2 s. */
  shutdownGraceMs?: number;
  /** The daemon's stream caps, shared with its other streaming services; absent: no cap. */
  streamLimiter?: StreamLimiter;
}

type Query = Record<string, string | string[] | undefined>;

class BadRequest extends Error {
  constructor(
    readonly code: BrowserErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const browserRoutes: FastifyPluginAsync<BrowserRoutesOptions> = async (app, opts) => {
  const { store, metrics, logger } = opts;
  const cors = createCors(opts.corsOrigins);
  const ruleSets = new RuleSets(store, opts.browserRules);
  const streams = new SseStreams({
    store,
    ruleSets,
    logger,
    metrics,
    keepAliveMs: opts.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    maxBufferedBytes: opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    shutdownGraceMs: opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
  });
  // Before the server stops listening: open streams would otherwise keep close() waiting.
  app.addHook('preClose', async () => {
    await streams.shutdown();
  });

  const sendError = (req: FastifyRequest, reply: FastifyReply, status: number, errorCode: BrowserErrorCode, errorDetails: string) => {
    cors.apply(req, reply);
    const text = JSON.stringify({ errorCode, errorDetails });
    reply.code(status).header('cache-control', 'no-cache').type(JSON_TYPE).send(text);
    return text;
  };

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500) return sendError(req, reply, status, BrowserErrorCode.INVALID_REQUEST, err.message);
    logger.error({ err, url: req.url }, 'rules request failed');
    return sendError(req, reply, 500, BrowserErrorCode.INVALID_REQUEST, 'internal error');
  });

  // Until every source has delivered, a flag set's exposure (its metadata) and rules are unknown:
  // a 403 then would be final for a web provider (it stops retrying), and empty rules would hide
  // flags, so both routes answer 503, which providers retry. A restarted daemon meets this.
  const notReady = (req: FastifyRequest, reply: FastifyReply): string | undefined => {
    if (store.ready) return undefined;
    reply.header('retry-after', '1');
    return sendError(req, reply, 503, BrowserErrorCode.UNAVAILABLE, 'the daemon has not loaded its flag sources yet');
  };

  const notExposed = (selector: string) =>
    `flag set ${selector === '' ? 'all flags' : selector} is not exposed to browsers: use remote evaluation (OFREP), ` +
    'or expose it with --browser-rules or "browserRules": true in its metadata';

  const rulesRoute = metrics.route({ route: RULES_ROUTE, method: 'GET' });

  app.get(RULES_ROUTE, (req, reply) => {
    const done = rulesRoute.start();
    let selector: string;
    try {
      selector = selectorOf(req);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      const text = sendError(req, reply, 400, err.code, err.message);
      done(400, Buffer.byteLength(text));
      return;
    }
    const unready = notReady(req, reply);
    if (unready !== undefined) {
      done(503, Buffer.byteLength(unready));
      return;
    }
    const set = ruleSets.get(selector);
    if (!set.exposed) {
      const text = sendError(req, reply, 403, BrowserErrorCode.RULES_NOT_EXPOSED, notExposed(selector));
      done(403, Buffer.byteLength(text));
      return;
    }
    cors.apply(req, reply);
    reply.header('etag', set.etag).header('cache-control', 'no-cache').header('access-control-expose-headers', 'ETag');
    if (ifNoneMatch(req.headers['if-none-match'], set.etag)) {
      reply.code(304).send();
      done(304, 0);
      return;
    }
    reply.code(200).type(JSON_TYPE).send(set.json);
    done(200, Buffer.byteLength(set.json));
  });

  app.route({
    method: 'GET',
    url: STREAM_ROUTE,
    // A HEAD would run this handler and open a stream.
    exposeHeadRoute: false,
    handler: (req, reply) => {
      let selector: string;
      let mode: StreamMode;
      try {
        selector = selectorOf(req);
        mode = modeOf(req.query as Query);
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        sendError(req, reply, 400, err.code, err.message);
        return;
      }
      if (streams.isClosing) {
        sendError(req, reply, 503, BrowserErrorCode.UNAVAILABLE, 'the daemon is shutting down');
        return;
      }
      if (mode === 'rules' && notReady(req, reply) !== undefined) return;
      const set = mode === 'rules' ? ruleSets.get(selector) : undefined;
      if (set !== undefined && !set.exposed) {
        sendError(req, reply, 403, BrowserErrorCode.RULES_NOT_EXPOSED, notExposed(selector));
        return;
      }
      if (reply.raw.destroyed) return; // the client left before we answered
      let release: (() => void) | undefined;
      if (opts.streamLimiter !== undefined) {
        release = opts.streamLimiter.tryOpen(SSE_SERVICE, req.socket.remoteAddress);
        if (release === undefined) {
          reply.header('retry-after', String(STREAM_RETRY_AFTER_SECONDS));
          sendError(req, reply, 429, BrowserErrorCode.TOO_MANY_STREAMS, StreamLimiter.refusal(SSE_SERVICE));
          return;
        }
        // Not destroyed yet (checked above), so 'close' is still to come.
        reply.raw.once('close', release);
      }
      reply.hijack();
      streams.open(reply.raw, selector, mode, cors.headers(req.headers.origin), set);
    },
  });

  for (const url of [RULES_ROUTE, STREAM_ROUTE]) {
    app.options(url, cors.preflight);
    const allow = url === RULES_ROUTE ? 'GET, HEAD' : 'GET';
    app.route({
      method: url === RULES_ROUTE ? ['POST', 'PUT', 'PATCH', 'DELETE'] : ['HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      handler: (req, reply) => {
        cors.apply(req, reply);
        reply.code(405).header('allow', allow).type(JSON_TYPE).send(JSON.stringify({ errorCode: BrowserErrorCode.INVALID_REQUEST, errorDetails: 'method not allowed' }));
      },
    });
  }
};

/** The `selector` query parameter, else the Flagd-Selector header, else '' (all flags); trimmed. */
function selectorOf(req: FastifyRequest): string {
  const query = (req.query ?? {}) as Query;
  let value = query['selector'];
  let from = 'the selector query parameter';
  if (Array.isArray(value)) throw new BadRequest(BrowserErrorCode.INVALID_SELECTOR, 'selector given more than once: give one selector');
  if (value === undefined || value.trim() === '') {
    const header = req.headers[FLAGD_SELECTOR_HEADER];
    if (Array.isArray(header)) throw new BadRequest(BrowserErrorCode.INVALID_SELECTOR, 'Flagd-Selector given more than once: give one selector');
    value = header;
    from = 'the Flagd-Selector header';
  }
  const selector = (value ?? '').trim();
  if (selector.length > MAX_SELECTOR_LENGTH) {
    throw new BadRequest(BrowserErrorCode.INVALID_SELECTOR, `${from} is ${selector.length} characters long; at most ${MAX_SELECTOR_LENGTH} are accepted`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(selector)) {
    throw new BadRequest(BrowserErrorCode.INVALID_SELECTOR, `${from} holds control characters: expected flagSetId=<id>, source=<uri> or a source path`);
  }
  return selector;
}

/** `rules` absent or true: rules mode; false: changes mode. */
function modeOf(query: Query): StreamMode {
  const rules = query['rules'];
  if (rules === undefined || rules === 'true') return 'rules';
  if (rules === 'false') return 'changes';
  throw new BadRequest(BrowserErrorCode.INVALID_REQUEST, `rules must be true or false, got ${JSON.stringify(rules)}`);
}
