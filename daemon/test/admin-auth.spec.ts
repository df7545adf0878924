/**
 * Management API auth and limits against a real daemon: bearer tokens with roles (401 with
 * WWW-Authenticate, 403), loopback-only without tokens, the per-token rate limit (429 with
 * Retry-After), and the OpenAPI document covering every route fastify registered.
 */
import { networkInterfaces } from 'node:os';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../src/admin/auth.js';
import { ADMIN_ERROR_STATUS, AdminErrorCode } from '../src/admin/errors.js';
import { createManagementServer } from '../src/servers/management/management-server.js';
import { FlagStore } from '../src/store/flag-store.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { useAdminFixtures } from './support/admin.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const up = useAdminFixtures();

const TOKENS = ['--admin-token', 'viewer-secret-1:viewer:vera', '--admin-token', 'editor-secret-1:editor:ed', '--admin-token', 'admin-secret-1:admin:ann'];
const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('management API auth', () => {
  it('answers 401 with WWW-Authenticate without a known token, 403 when the role is too low, and records the actor', async () => {
    const f = await up(TOKENS);
    const none = await f.call('GET', '/flags');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await f.call('GET', '/flags', { headers: as('wrong-secret-1') })).status).toBe(401);
    expect((await f.call('GET', '/flags', { headers: { authorization: 'Basic dmlld2VyOng=' } })).status).toBe(401);

    expect((await f.call('GET', '/whoami', { headers: as('viewer-secret-1') })).body).toEqual({ actor: 'vera', role: 'viewer' });
    expect((await f.call('GET', '/flags', { headers: as('viewer-secret-1') })).status).toBe(200);
    const viewerKill = await f.call('POST', '/flags/banner/kill', { headers: as('viewer-secret-1') });
    expect(viewerKill.status).toBe(403);
    expect(viewerKill.body.error.code).toBe('FORBIDDEN');

    const killed = await f.call('POST', '/flags/banner/kill', { headers: as('editor-secret-1') });
    expect(killed.status).toBe(200);
    expect(killed.body.metadata.killedBy).toBe('ed');
    const editorDelete = await f.call('DELETE', '/flags/banner', { headers: { ...as('editor-secret-1'), 'if-match': killed.body.version } });
    expect(editorDelete.status).toBe(403);
    expect((await f.call('DELETE', '/flags/banner', { headers: { ...as('admin-secret-1'), 'if-match': killed.body.version } })).status).toBe(204);

    const audit = await f.call('GET', '/audit', { headers: as('viewer-secret-1') });
    expect(audit.body.entries.map((e: { actor: string; action: string }) => `${e.actor}:${e.action}`)).toEqual(['ann:delete', 'ed:kill']);
    // The OpenAPI document needs no token.
    expect((await f.call('GET', '/openapi.json')).status).toBe(200);
    expect(f.daemon.logs.some((l) => String(l['msg']).includes('bearer tokens configured'))).toBe(true);
    expect(JSON.stringify(f.daemon.logs)).not.toContain('editor-secret-1');
  });

  it('answers only loopback callers without tokens, and says so at start', async () => {
    const f = await up(['--host', '0.0.0.0']);
    expect(f.daemon.logs.some((l) => String(l['msg']).includes('loopback callers only'))).toBe(true);
    expect((await f.call('GET', '/whoami')).body).toEqual({ actor: 'local', role: 'admin' });
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (external === undefined) return; // no non-loopback address on this machine
    const r = await fetch(`http://${external.address}:${f.daemon.ports.management}/api/v1/whoami`);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('LOOPBACK_ONLY');
    // Health and metrics stay open, as before.
    expect((await fetch(`http://${external.address}:${f.daemon.ports.management}/healthz`)).status).toBe(200);
  });

  it('rate-limits per token with 429 RATE_LIMITED and Retry-After', async () => {
    const f = await up([...TOKENS, '--admin-rate-limit', '3']);
    for (let i = 0; i < 3; i++) expect((await f.call('GET', '/whoami', { headers: as('viewer-secret-1') })).status).toBe(200);
    const limited = await f.call('GET', '/whoami', { headers: as('viewer-secret-1') });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another token has its own budget.
    expect((await f.call('GET', '/whoami', { headers: as('editor-secret-1') })).status).toBe(200);
  });
});

describe('management API OpenAPI document', () => {
  it('lists every route fastify registered under /api/v1, with its method', async () => {
    const store = new FlagStore([]);
    const server = createManagementServer({
      store,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
      api: { service: undefined, auth: new Authenticator([]), rateLimit: 600, version: 'test' },
    });
    const registered: string[] = [];
    server.app.addHook('onRoute', (r) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const m of methods) if (r.url.startsWith('/api/v1/') && m !== 'HEAD') registered.push(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    });
    const { port } = await server.start();
    try {
      const doc = (await (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(doc.openapi).toBe('3.1.0');
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      expect(registered.length).toBeGreaterThanOrEqual(12);
      expect(documented.sort()).toEqual([...new Set(registered)].sort());
      // Without a writable source, flag routes say so.
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/flags`);
      expect(r.status).toBe(409);
    } finally {
      await server.close();
    }
  });

  it('documents every error code of the catalogue in docs/management-api.md', () => {
    const doc = readFileSync(fileURLToPath(new URL('../docs/management-api.md', import.meta.url)), 'utf8');
    for (const code of Object.values(AdminErrorCode)) {
      expect(doc, code).toContain(code);
      expect(doc, `${code} status`).toContain(`${ADMIN_ERROR_STATUS[code]}`);
    }
  });
});
