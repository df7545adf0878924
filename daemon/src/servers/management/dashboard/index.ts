/**
 * The dashboard (issue 6): static HTML, CSS and vanilla JS modules served on the management port
 * at `/` and `/dashboard/*`. The page talks only to `/api/v1` on the same origin; this plugin
 * serves files and nothing else.
 *
 * The files live in `static/` beside this module's source and are not compiled: tsc does not copy
 * them, so they are located from the package root, which is four levels up from both
 * `src/servers/management/dashboard/index.ts` and `dist/servers/management/dashboard/index.js`.
 * The package ships `src`, so the same URL works from the source tree (vitest), from `dist` and
 * from an installed package. They are read once, at registration, into memory (about 80 KB):
 * the page's modules (app.js, views/*.js, ...) import each other by relative path under
 * `/dashboard/`, which `script-src 'self'` allows.
 *
 * Every response carries a Content-Security-Policy that allows only same-origin scripts, styles
 * and fetches: the page has no inline script or style attribute and never evaluates strings.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../../admin/auth.js';

/** Where the static files are, from either `src/…/dashboard/` or `dist/…/dashboard/`. */
export const DASHBOARD_STATIC_DIR = new URL('../../../../src/servers/management/dashboard/static/', import.meta.url);

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface DashboardOptions {
  /**
   * Serve the pages only to loopback clients (403 LOOPBACK_ONLY otherwise), as the API does when no
   * admin token is configured. Default true: pass false when tokens are configured (the page holds
   * no data; every API call it makes needs a token then).
   */
  loopbackOnly?: boolean;
  /** Another directory of static files (tests). */
  staticDir?: URL;
}

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Reads every servable file of `dir` and its subfolders (by extension; `.d.ts` type files and
 * the tsconfig are not served), keyed by the path below `dir` that the page imports them by
 * (`app.js`, `views/flag-list.js`).
 */
export function loadStaticFiles(dir: URL): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const read = (folder: URL, prefix: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        read(new URL(`${entry.name}/`, folder), `${prefix}${entry.name}/`);
        continue;
      }
      const name = entry.name;
      if (!entry.isFile() || name.endsWith('.d.ts')) continue;
      const type = TYPES[name.slice(name.lastIndexOf('.'))];
      if (type === undefined) continue;
      const body = readFileSync(new URL(name, folder));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      files.set(`${prefix}${name}`, { body, type, etag });
    }
  };
  read(dir, '');
  if (!files.has('index.html')) throw new Error(`dashboard: no index.html in ${dir.href}`);
  return files;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, opts) => {
  const files = loadStaticFiles(opts.staticDir ?? DASHBOARD_STATIC_DIR);
  const loopbackOnly = opts.loopbackOnly ?? true;

  const send = (req: FastifyRequest, reply: FastifyReply, file: StaticFile | undefined) => {
    if (loopbackOnly && !LOOPBACK.test(req.socket.remoteAddress ?? '')) {
      return reply.code(403).send({ error: { code: 'LOOPBACK_ONLY', message: 'no admin token is configured: the dashboard answers loopback clients only' } });
    }
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 still sends Host: evil.example.
    if (loopbackOnly && !isLoopbackHost(req.headers.host)) {
      return reply.code(403).send({ error: { code: 'HOST_NOT_ALLOWED', message: 'no admin token is configured: the dashboard answers Host localhost, 127.0.0.1 or [::1] only (DNS rebinding)' } });
    }
    if (file === undefined) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such dashboard file' } });
    reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      // Revalidate every time: a daemon upgrade must not leave a stale script in the browser.
      .header('cache-control', 'no-cache')
      .header('etag', file.etag);
    if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.code(200).type(file.type).send(file.body);
  };

  const index = files.get('index.html');
  app.get('/', (req, reply) => send(req, reply, index));
  app.get('/dashboard', (_req, reply) => reply.redirect('/dashboard/', 301));
  app.get('/dashboard/', (req, reply) => send(req, reply, index));
  // Only the names read above answer: a path the map does not hold (`..`, encoded or not) is a 404.
  app.get<{ Params: { '*': string } }>('/dashboard/*', (req, reply) => send(req, reply, files.get(req.params['*'])));
};
