/**
 * The management API (`/api/v1` on the management port) as an encapsulated fastify plugin, in
 * request order:
 * 1. browser guards (every route): without tokens a loopback `Host` only (DNS rebinding); for
 *    state-changing methods, the daemon's own origin only (`Sec-Fetch-Site` / `Origin`) and a JSON
 *    content type or the X-Vexil-Request header (forces a CORS preflight, never granted);
 * 2. the failed-authentication limit per address (before the token is looked at);
 * 3. authentication, then the rate limit per resolved identity (the token's name; the address
 *    without tokens), then the role check;
 * 4. the body: 256 KiB, JSON only (application/json, application/merge-patch+json), at most
 *    MAX_JSON_DEPTH deep, no `__proto__` / `constructor` keys;
 * and one error shape for everything it answers.
 */
import { DEFAULT_ADMIN_AUTH_FAILURE_LIMIT } from '../../../config/daemon-config.js';
import rateLimit from '@fastify/rate-limit';
import type { FastifyContextConfig, FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError, AdminErrorCode } from '../../../admin/errors.js';
import {
  AuthFailureLimiter,
  checkLoopbackHost,
  checkPreflightForced,
  checkSameOrigin,
  isLoopback,
  isStateChanging,
  JSON_CONTENT_TYPES,
  type Authenticator,
  type Principal,
} from '../../../admin/auth.js';
import type { FlagService } from '../../../admin/flag-service.js';
import { IdempotencyCache } from '../../../admin/idempotency.js';
import type { Logger } from '../../../telemetry/logger.js';
import { buildOpenApi } from './openapi.js';
import { API_ROUTES, BODY_LIMIT, jsonPath, type RouteContext } from './routes.js';

export interface ManagementApiOptions {
  readonly service: FlagService | undefined;
  readonly auth: Authenticator;
  /** Requests per minute per token name (per address without tokens). */
  readonly rateLimit: number;
  /** Failed authentications per minute per address (IPv6: per /64) before 429; default 20. */
  readonly authFailureLimit?: number;
  readonly logger: Logger;
  readonly version: string;
  readonly idempotency?: IdempotencyCache;
}

/** Request bodies nesting objects/arrays deeper than this are 400 (the body itself is level 1). */
export const MAX_JSON_DEPTH = 64;
/** Keys refused anywhere in a body: they would reach object prototypes when merged or copied. */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor'];

declare module 'fastify' {
  interface FastifyRequest {
    adminPrincipal?: Principal;
  }
}

const badBody = (message: string, path?: string) =>
  Object.assign(new AdminError(AdminErrorCode.INVALID_REQUEST, message, path === undefined ? {} : { path }), { statusCode: 400 });

/**
 * A request body: JSON, at most MAX_JSON_DEPTH levels of objects and arrays, no reserved key; a
 * 400 INVALID_REQUEST with the JSON path of the fault otherwise. Walked without recursion, so a
 * body nested 100,000 deep is refused, not a stack overflow.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badBody('the body is empty but its Content-Type says JSON');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw badBody(`the body is not valid JSON: ${(err as Error).message}`);
  }
  type Node = { readonly value: unknown; readonly parent: Node | undefined; readonly key: string; readonly depth: number };
  const pathOf = (n: Node | undefined, extra?: string): string => {
    const parts: string[] = extra === undefined ? [] : [extra];
    for (let p = n; p?.parent !== undefined; p = p.parent) parts.push(p.key);
    return jsonPath(parts.reverse().map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''));
  };
  const stack: Node[] = [{ value, parent: undefined, key: '', depth: 1 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.value === null || typeof node.value !== 'object') continue;
    if (node.depth > MAX_JSON_DEPTH) {
      const path = pathOf(node);
      throw badBody(`the body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels, at ${path}`, path);
    }
    const entries: [string, unknown][] = Array.isArray(node.value) ? node.value.map((v, i) => [String(i), v]) : Object.entries(node.value);
    for (const [key, child] of entries) {
      if (!Array.isArray(node.value) && RESERVED_KEYS.includes(key)) {
        const path = pathOf(node, key);
        throw badBody(`the body has a ${JSON.stringify(key)} key, at ${path}: ${RESERVED_KEYS.map((k) => JSON.stringify(k)).join(' and ')} keys are refused anywhere in a body`, path);
      }
      if (child !== null && typeof child === 'object') stack.push({ value: child, parent: node, key, depth: node.depth + 1 });
    }
  }
  return value;
}

export const managementApi: FastifyPluginAsync<ManagementApiOptions> = async (app, opts) => {
  const openapi = buildOpenApi(API_ROUTES, opts.version);
  const ctx: RouteContext = { service: opts.service, idempotency: opts.idempotency ?? new IdempotencyCache(), openapi: () => openapi };

  app.decorateRequest('adminPrincipal', undefined);

  // JSON only: fastify's own parsers go (its text/plain one would take a form's body), ours check
  // depth and reserved keys on every route.
  app.removeAllContentTypeParsers();
  for (const type of JSON_CONTENT_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  }

  // Browser guards, first of all and on every route (also the 404s): see the module comment.
  app.addHook('onRequest', async (req) => {
    // (A caller off loopback gets LOOPBACK_ONLY from authentication instead.)
    if (opts.auth.loopbackOnly && isLoopback(req.socket.remoteAddress)) checkLoopbackHost(req.headers.host);
    if (isStateChanging(req.method)) {
      checkSameOrigin(req.method, req.headers);
      checkPreflightForced(req.method, req.headers);
    }
  });

  const failures = new AuthFailureLimiter(opts.authFailureLimit ?? DEFAULT_ADMIN_AUTH_FAILURE_LIMIT);
  await app.register(rateLimit, {
    // Not on every route's hooks (the plugin would run after authentication there): placed below.
    global: false,
    max: opts.rateLimit,
    timeWindow: 60_000,
    // Per resolved identity: the token's name (however the Authorization header is spelled);
    // without tokens, or on the routes that need none, per address.
    keyGenerator: (req) => (req.adminPrincipal !== undefined && !opts.auth.loopbackOnly ? `principal:${req.adminPrincipal.actor}` : `ip:${req.ip}`),
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_req, context) =>
      new AdminError(AdminErrorCode.RATE_LIMITED, `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  const perIdentity = app.rateLimit();

  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const address = req.socket.remoteAddress;
    const wait = failures.retryAfterMs(address);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      void reply.header('retry-after', String(s));
      throw new AdminError(AdminErrorCode.RATE_LIMITED, `too many failed authentications from this address (${failures.max} per minute); retry in ${s} s`);
    }
    try {
      req.adminPrincipal = opts.auth.authenticate(req.headers.authorization, address);
    } catch (err) {
      // A token that was tried and is not known counts; no token at all is no guess.
      if (err instanceof AdminError && err.code === AdminErrorCode.UNAUTHENTICATED && (req.headers.authorization ?? '').trim() !== '') failures.fail(address);
      throw err;
    }
  };

  app.setErrorHandler((err: FastifyError, req, reply) => sendError(req, reply, err, opts.logger));
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new AdminError(AdminErrorCode.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`), opts.logger));

  for (const route of API_ROUTES) {
    const role = route.role;
    app.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      bodyLimit: BODY_LIMIT,
      config: { bodyError: route.bodyError ?? AdminErrorCode.INVALID_FLAG } as FastifyContextConfig,
      onRequest:
        role === undefined
          ? [perIdentity]
          : [
              authenticate,
              perIdentity,
              async (req: FastifyRequest) => {
                opts.auth.authorize(req.adminPrincipal!, role);
              },
            ],
      handler: (req, reply) => route.handler(req, reply, ctx, req.adminPrincipal),
    });
  }
};

function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown, logger: Logger): FastifyReply {
  const e = toAdminError(err, (req.routeOptions.config as { bodyError?: AdminErrorCode } | undefined)?.bodyError ?? AdminErrorCode.INVALID_FLAG);
  if (e.code === AdminErrorCode.INTERNAL) logger.error({ err, method: req.method, url: req.url }, 'management API error');
  if (e.code === AdminErrorCode.UNAUTHENTICATED) void reply.header('www-authenticate', 'Bearer realm="vexil"');
  return reply.code(e.status).type('application/json').send(JSON.stringify(e.toBody()));
}

/** `bodyError`: the code for a body that breaks the route's schema (INVALID_FLAG for flag bodies). */
function toAdminError(err: unknown, bodyError: AdminErrorCode): AdminError {
  if (err instanceof AdminError) return err;
  const f = err as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(f.validation) && f.validation.length > 0) {
    const first = f.validation[0] as { instancePath?: string; message?: string; params?: Record<string, unknown> };
    const extra = first.params?.['additionalProperty'];
    const path = jsonPath(first.instancePath ?? '') + (typeof extra === 'string' ? jsonPath(`/${extra}`).slice(1) : '');
    const message = `${f.validationContext ?? 'request'} ${path}: ${first.message ?? 'invalid'}${typeof extra === 'string' ? '' : ''}`;
    if (f.validationContext === 'body') return new AdminError(bodyError, message, { path });
    return new AdminError(AdminErrorCode.INVALID_REQUEST, message);
  }
  if (f.statusCode === 413 || f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new AdminError(AdminErrorCode.PAYLOAD_TOO_LARGE, `request bodies are limited to ${BODY_LIMIT / 1024} KiB`);
  }
  if (f.statusCode === 415) return new AdminError(AdminErrorCode.UNSUPPORTED_MEDIA_TYPE, f.message ?? 'unsupported media type');
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new AdminError(AdminErrorCode.INVALID_REQUEST, f.message ?? 'bad request');
  }
  return AdminError.from(err);
}
