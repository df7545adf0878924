/**
 * The management API (`/api/v1` on the management port) as an encapsulated fastify plugin:
 * rate limit per token (per address without tokens), authentication and roles, the 256 KiB body
 * limit, JSON merge patch bodies, and one error shape for everything it answers.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError, AdminErrorCode } from '../../../admin/errors.js';
import type { Authenticator, Principal } from '../../../admin/auth.js';
import type { FlagService } from '../../../admin/flag-service.js';
import { IdempotencyCache } from '../../../admin/idempotency.js';
import { sha256Hex } from '../../../admin/versions.js';
import type { Logger } from '../../../telemetry/logger.js';
import { buildOpenApi } from './openapi.js';
import { API_ROUTES, BODY_LIMIT, jsonPath, type RouteContext } from './routes.js';

export interface ManagementApiOptions {
  readonly service: FlagService | undefined;
  readonly auth: Authenticator;
  /** Requests per minute per token (per address without tokens). */
  readonly rateLimit: number;
  readonly logger: Logger;
  readonly version: string;
  readonly idempotency?: IdempotencyCache;
}

declare module 'fastify' {
  interface FastifyRequest {
    adminPrincipal?: Principal;
  }
}

export const managementApi: FastifyPluginAsync<ManagementApiOptions> = async (app, opts) => {
  const openapi = buildOpenApi(API_ROUTES, opts.version);
  const ctx: RouteContext = { service: opts.service, idempotency: opts.idempotency ?? new IdempotencyCache(), openapi: () => openapi };

  app.decorateRequest('adminPrincipal', undefined);

  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string) as unknown);
    } catch (err) {
      done(Object.assign(new AdminError(AdminErrorCode.INVALID_REQUEST, `body is not valid JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });

  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimit,
    timeWindow: 60_000,
    // Per token; without one (or without configured tokens) per address.
    keyGenerator: (req) => {
      const auth = req.headers.authorization;
      return auth !== undefined && auth !== '' ? `token:${sha256Hex(auth)}` : `ip:${req.ip}`;
    },
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_req, context) =>
      new AdminError(AdminErrorCode.RATE_LIMITED, `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });

  app.setErrorHandler((err: FastifyError, req, reply) => sendError(req, reply, err, opts.logger));
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new AdminError(AdminErrorCode.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`), opts.logger));

  for (const route of API_ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      bodyLimit: BODY_LIMIT,
      onRequest: async (req: FastifyRequest) => {
        if (route.role === undefined) return;
        const principal = opts.auth.authenticate(req.headers.authorization, req.socket.remoteAddress);
        opts.auth.authorize(principal, route.role);
        req.adminPrincipal = principal;
      },
      handler: (req, reply) => route.handler(req, reply, ctx, req.adminPrincipal),
    });
  }
};

function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown, logger: Logger): FastifyReply {
  const e = toAdminError(err);
  if (e.code === AdminErrorCode.INTERNAL) logger.error({ err, method: req.method, url: req.url }, 'management API error');
  if (e.code === AdminErrorCode.UNAUTHENTICATED) void reply.header('www-authenticate', 'Bearer realm="vexil"');
  return reply.code(e.status).type('application/json').send(JSON.stringify(e.toBody()));
}

function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  const f = err as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(f.validation) && f.validation.length > 0) {
    const first = f.validation[0] as { instancePath?: string; message?: string; params?: Record<string, unknown> };
    const extra = first.params?.['additionalProperty'];
    const path = jsonPath(first.instancePath ?? '') + (typeof extra === 'string' ? jsonPath(`/${extra}`).slice(1) : '');
    const message = `${f.validationContext ?? 'request'} ${path}: ${first.message ?? 'invalid'}${typeof extra === 'string' ? '' : ''}`;
    if (f.validationContext === 'body') return new AdminError(AdminErrorCode.INVALID_FLAG, message, { path });
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
