/**
 * The OFREP server (flagd's -r/--ofrep-port, default 8016): the OpenFeature Remote Evaluation
 * Protocol (open-feature/protocol service/openapi.yaml) as flagd serves it
 * (flagd/pkg/service/flag-evaluation/ofrep/handler.go, ofrep_service.go):
 *
 *   POST /ofrep/v1/evaluate/flags/{key}   one flag
 *   POST /ofrep/v1/evaluate/flags         every enabled flag, with an ETag; If-None-Match → 304
 *
 * and, on the same port, Vexil's rules for browsers (GET /vexil/v1/rules and /vexil/v1/stream,
 * ../browser/browser-routes.ts).
 *
 * The body is `{ "context": { … } }`, context optional; an empty body is an empty context. A body
 * that is not JSON, not an object, or whose context is not an object is refused with 400
 * INVALID_CONTEXT (flagd ignores a non-object context with a warning; the spec types it as an
 * object). A body over `bodyLimit` is refused with 413 `{ errorDetails }`. Any Content-Type is
 * read as JSON, as flagd does. The `Flagd-Selector` header picks the flags; the context is the
 * request's, overridden by `-X` values, overridden by `-H` mapped headers (servers/context.ts).
 * CORS as flagd's rs/cors setup: no `-C` origins (or `*`) allows any origin.
 */
import { fastify, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import type { EvaluationContext } from '@vexil/core';
import { FLAGD_SELECTOR_HEADER, OfrepErrorCode } from '@vexil/shared';
import type { FlagStore } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { browserRoutes, type BrowserRoutesOptions } from '../browser/browser-routes.js';
import { mergeContext, type ContextOptions } from '../context.js';
import { createCors } from '../cors.js';
import { capConnections, DEFAULT_TIMEOUTS, httpTimeoutOptions, type ServerLimits } from '../connection-limits.js';
import { listenable, type RunningServer } from '../http/listen.js';
import { etagOf, ifNoneMatch } from './etag.js';
import { evaluateFlag, evaluateFlags, type EvaluationNote, type SingleResult } from './responses.js';

/** flagd's default is 1 MiB as well (Go's http.MaxBytesReader in front of the evaluate routes). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Route templates as flagd names them in `http_route` (gorilla/mux patterns). */
export const SINGLE_ROUTE = '/ofrep/v1/evaluate/flags/{key}';
export const BULK_ROUTE = '/ofrep/v1/evaluate/{path:flags\\/|flags}';

const SERVICE = 'ofrep';
const JSON_TYPE = 'application/json';

export interface OfrepRoutesOptions extends ContextOptions {
  store: Pick<FlagStore, 'evaluator'>;
  metrics: Pick<Metrics, 'recordEvaluation' | 'startRequest' | 'route'>;
  logger: Logger;
  /** `-C` origins; empty or containing `*` allows any origin. `*` inside an origin is a wildcard. */
  corsOrigins: readonly string[];
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
}

export interface OfrepServerOptions extends OfrepRoutesOptions {
  host: string;
  port: number;
  /** The OFREP routes' needs and the rules-for-browsers routes' (served on the same port). */
  store: OfrepRoutesOptions['store'] & BrowserRoutesOptions['store'];
  metrics: OfrepRoutesOptions['metrics'] & BrowserRoutesOptions['metrics'];
  /** `--browser-rules`: selectors whose rules browsers may fetch; none by default. */
  browserRules?: readonly string[];
  /** Internal tuning of the rules streams (keep-alive interval, slow-client limit, shutdown grace); tests shorten them. */
  browserStreams?: Pick<BrowserRoutesOptions, 'keepAliveMs' | 'maxBufferedBytes' | 'shutdownGraceMs'>;
  /** The rules streams' caps, the port's connection cap and its timeouts. */
  limits?: ServerLimits;
}

type Parsed = { ok: true; context: Record<string, unknown> | undefined } | { ok: false; details: string };

/** Reads `{ "context": {…} }`; no body, whitespace, or `null` is an empty request. */
function parseRequest(body: unknown): Parsed {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  if (text.trim() === '') return { ok: true, context: undefined };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, details: 'the request body is not valid JSON' };
  }
  if (doc === null) return { ok: true, context: undefined };
  if (typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, details: 'the request body must be a JSON object' };
  const context = (doc as Record<string, unknown>)['context'];
  if (context === undefined || context === null) return { ok: true, context: undefined };
  if (typeof context !== 'object' || Array.isArray(context)) return { ok: false, details: 'context must be a JSON object' };
  return { ok: true, context: context as Record<string, unknown> };
}

/** Case-insensitive, first value; an empty header counts as absent (as Go's Header.Get). */
function headerGetter(req: FastifyRequest): (name: string) => string | undefined {
  return (name) => {
    const v = req.headers[name.toLowerCase()];
    const s = Array.isArray(v) ? v[0] : v;
    return s === '' ? undefined : s;
  };
}

/** The OFREP routes with their body parsing, CORS, error shapes and HTTP metrics, as an encapsulated plugin. */
export const ofrepRoutes: FastifyPluginAsync<OfrepRoutesOptions> = async (app, opts) => {
  const { store, metrics, logger } = opts;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;

  // CORS as flagd's setup (rs/cors), shared with the rules-for-browsers routes (../cors.ts).
  const { apply: cors, preflight } = createCors(opts.corsOrigins);
  // Every path of the server: the browser routes' own OPTIONS routes are static and win over this one.
  app.options('*', preflight);

  // Every body is bytes; the handlers parse JSON themselves to answer in OFREP's terms.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const done = metrics.startRequest({ route: routeOf(req), method: req.method });
    if (status === 413) return sendJson(req, reply, done, 413, JSON.stringify({ errorDetails: 'request body too large' }));
    if (status < 500) return sendJson(req, reply, done, status, JSON.stringify({ errorDetails: err.message }));
    logger.error({ err, url: req.url }, 'ofrep request failed');
    return sendJson(req, reply, done, status, JSON.stringify({ errorDetails: 'internal error' }));
  });

  // HTTP metrics for the evaluate routes, labelled as flagd labels them, recorded by the handlers
  // themselves: route hooks cost more than the evaluation on this hot path.
  const sendJson = (req: FastifyRequest, reply: FastifyReply, done: (status: number, bytes?: number) => void, status: number, text: string) => {
    cors(req, reply);
    reply.code(status).type(JSON_TYPE).send(text);
    done(status, Buffer.byteLength(text));
    // Nothing to return: a sync handler's return value is sent again by fastify.
  };
  const routeOf = (req: FastifyRequest) => (req.routeOptions.url === '/ofrep/v1/evaluate/flags/:key' ? SINGLE_ROUTE : BULK_ROUTE);

  // The engine hands out the same frozen details for the same outcome (a static flag, one
  // variant of a targeted flag), so their JSON text is kept instead of re-serialised per request.
  const texts = new WeakMap<object, string>();
  const bodyText = (result: SingleResult): string => {
    if (result.shared === undefined) return JSON.stringify(result.body);
    let text = texts.get(result.shared);
    if (text === undefined) texts.set(result.shared, (text = JSON.stringify(result.body)));
    return text;
  };

  const singleRoute = metrics.route({ route: SINGLE_ROUTE, method: 'POST' });
  const bulkRoute = metrics.route({ route: BULK_ROUTE, method: 'POST' });

  const record = (method: string, n: EvaluationNote, durationSeconds: number) =>
    metrics.recordEvaluation({ service: SERVICE, method, durationSeconds, ...n });

  const context = (req: FastifyRequest, request: Record<string, unknown> | undefined): EvaluationContext =>
    mergeContext(request, headerGetter(req), opts);

  // Plain (not async) handlers that send and return nothing: no promise per request on the hot path.
  app.post<{ Params: { key: string } }>('/ofrep/v1/evaluate/flags/:key', (req, reply) => {
    const done = singleRoute.start();
    const key = req.params.key;
    const parsed = parseRequest(req.body);
    if (!parsed.ok) return sendJson(req, reply, done, 400, JSON.stringify({ key, errorCode: OfrepErrorCode.INVALID_CONTEXT, errorDetails: parsed.details }));
    const header = headerGetter(req);
    const ctx = context(req, parsed.context);
    const start = performance.now();
    const ev = store.evaluator(header(FLAGD_SELECTOR_HEADER));
    const result = evaluateFlag(ev, key, ctx);
    record('evaluate', result.note, (performance.now() - start) / 1000);
    return sendJson(req, reply, done, result.status, bodyText(result));
  });

  const bulk = (req: FastifyRequest, reply: FastifyReply) => {
    const done = bulkRoute.start();
    const parsed = parseRequest(req.body);
    if (!parsed.ok) return sendJson(req, reply, done, 400, JSON.stringify({ errorCode: OfrepErrorCode.INVALID_CONTEXT, errorDetails: parsed.details }));
    const header = headerGetter(req);
    const ctx = context(req, parsed.context);
    const start = performance.now();
    const ev = store.evaluator(header(FLAGD_SELECTOR_HEADER));
    const { body, notes } = evaluateFlags(ev, ctx);
    const each = (performance.now() - start) / 1000 / Math.max(1, notes.length);
    for (const n of notes) record('evaluateBulk', n, each);
    const text = JSON.stringify(body);
    const etag = etagOf(text);
    reply.header('etag', etag);
    if (ifNoneMatch(req.headers['if-none-match'], etag)) {
      cors(req, reply);
      reply.code(304).send();
      done(304, 0);
      return;
    }
    return sendJson(req, reply, done, 200, text);
  };
  app.post('/ofrep/v1/evaluate/flags', bulk);
  app.post('/ofrep/v1/evaluate/flags/', bulk);

  // The evaluate paths exist for POST only (flagd's router answers other methods with 405).
  const notAllowed = async (req: FastifyRequest, reply: FastifyReply) =>
    (cors(req, reply), reply).code(405).header('allow', 'POST').type(JSON_TYPE).send({ errorDetails: 'method not allowed' });
  for (const url of ['/ofrep/v1/evaluate/flags/:key', '/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/']) {
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url, handler: notAllowed });
  }
};

export function createOfrepServer(options: OfrepServerOptions): RunningServer {
  const http = httpTimeoutOptions(options.limits?.timeouts ?? DEFAULT_TIMEOUTS);
  const app = fastify({
    logger: false,
    // This server listens itself, so Node enforces these (a connection that sends nothing included).
    http: { headersTimeout: http.headersTimeout, connectionsCheckingInterval: http.connectionsCheckingInterval },
    requestTimeout: http.requestTimeout,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Flag keys are path parameters; the router's default cap of 100 characters would turn a long key into a route 404.
    routerOptions: { maxParamLength: 2048 },
  });
  void app.register(ofrepRoutes, options);
  void app.register(browserRoutes, {
    store: options.store,
    metrics: options.metrics,
    logger: options.logger,
    corsOrigins: options.corsOrigins,
    browserRules: options.browserRules ?? [],
    ...options.browserStreams,
    ...(options.limits?.streams !== undefined ? { streamLimiter: options.limits.streams } : {}),
  });
  capConnections(app.server, 'ofrep', options.limits, options.logger);
  return listenable(app, options, 'ofrep');
}
