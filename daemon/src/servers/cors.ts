/**
 * CORS for the daemon's fastify routes (OFREP, rules for browsers), as flagd's rs/cors setup on
 * its OFREP port: no `-C` origins (or `*`) allows any origin; `*` inside an origin is a wildcard.
 * Applied by the handlers rather than a per-request hook, which costs more than an evaluation on
 * the OFREP hot path.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface Cors {
  /** The Access-Control-Allow-Origin value for a request's Origin; undefined when not allowed or absent. */
  allowedOrigin(origin: string | undefined): string | undefined;
  /** The CORS headers of an actual (non-preflight) response; empty when the origin is not allowed. */
  headers(origin: string | undefined): Record<string, string>;
  /** Sets `headers(origin)` on a reply. */
  apply(req: FastifyRequest, reply: FastifyReply): void;
  /** Answers a preflight (OPTIONS) request: 204, with the allow headers when the origin is allowed. */
  preflight(req: FastifyRequest, reply: FastifyReply): void;
}

export function createCors(corsOrigins: readonly string[]): Cors {
  const origins = originMatchers(corsOrigins);
  const allowedOrigin = (origin: string | undefined): string | undefined => {
    if (origin === undefined) return undefined;
    if (origins === '*') return '*';
    return origins.some((re) => re.test(origin)) ? origin : undefined;
  };
  const headers = (origin: string | undefined): Record<string, string> => {
    const allowed = allowedOrigin(origin);
    if (allowed === undefined) return {};
    // ETag is not CORS-safelisted: without this a browser cannot read it to send If-None-Match.
    const h: Record<string, string> = { 'access-control-allow-origin': allowed, 'access-control-expose-headers': 'ETag' };
    if (allowed !== '*') h['vary'] = 'Origin';
    return h;
  };
  return {
    allowedOrigin,
    headers,
    apply(req, reply) {
      const allowed = allowedOrigin(req.headers.origin);
      if (allowed === undefined) return;
      reply.header('access-control-allow-origin', allowed);
      reply.header('access-control-expose-headers', 'ETag');
      if (allowed !== '*') reply.header('vary', 'Origin');
    },
    preflight(req, reply) {
      const allowed = allowedOrigin(req.headers.origin);
      if (allowed !== undefined) {
        reply.header('access-control-allow-origin', allowed);
        if (allowed !== '*') reply.header('vary', 'Origin');
        reply.header('access-control-allow-methods', 'HEAD, GET, POST, PUT, PATCH, DELETE');
        const asked = req.headers['access-control-request-headers'];
        if (asked) reply.header('access-control-allow-headers', asked);
      }
      reply.code(204).send();
    },
  };
}

function originMatchers(origins: readonly string[]): '*' | RegExp[] {
  if (origins.length === 0 || origins.includes('*')) return '*';
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return origins.map((o) => new RegExp(`^${o.split('*').map(escape).join('.*')}$`, 'i'));
}
