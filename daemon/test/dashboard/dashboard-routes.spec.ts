/**
 * The dashboard plugin by itself (fastify inject): which files it serves, with which headers, to
 * whom; and that the files stay within what its Content-Security-Policy allows.
 */
import { fastify } from 'fastify';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, DASHBOARD_STATIC_DIR, dashboardRoutes, type DashboardOptions } from '../../src/servers/management/dashboard/index.js';

const apps: ReturnType<typeof fastify>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function app(options: DashboardOptions = {}) {
  const a = fastify();
  apps.push(a);
  await a.register(dashboardRoutes, options);
  await a.ready();
  return a;
}

const staticDir = fileURLToPath(DASHBOARD_STATIC_DIR);
/** The page's modules, by their path below static/ (views/flag-list.js). */
const jsFiles = () =>
  (readdirSync(staticDir, { recursive: true }) as string[]).map((f) => f.split(sep).join('/')).filter((f) => f.endsWith('.js')).sort();

describe('dashboard routes', () => {
  it('serves the page at / and /dashboard/ with a strict CSP, and its scripts and styles under /dashboard/', async () => {
    const a = await app();
    for (const url of ['/', '/dashboard/']) {
      const res = await a.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).toContain('<script type="module" src="/dashboard/app.js"></script>');
    }
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');

    for (const [file, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['api.js', 'text/javascript; charset=utf-8'],
      ['targeting.js', 'text/javascript; charset=utf-8'],
      ['dashboard.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await a.inject({ url: `/dashboard/${file}` });
      expect(res.statusCode, file).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.body).toBe(readFileSync(`${staticDir}/${file}`, 'utf8'));
    }
    const redirect = await a.inject({ url: '/dashboard' });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/dashboard/');
  });

  it('serves every module the page imports, views/ included, as JavaScript, and each import names a served file', async () => {
    const a = await app();
    const modules = jsFiles();
    expect(modules).toEqual(expect.arrayContaining(['app.js', 'api.js', 'dom.js', 'views/flag-list.js', 'views/flag-editor.js', 'views/audit.js', 'views/stale.js']));
    for (const file of modules) {
      const res = await a.inject({ url: `/dashboard/${file}` });
      expect(res.statusCode, file).toBe(200);
      expect(res.headers['content-type'], file).toBe('text/javascript; charset=utf-8');
      expect(res.headers['content-security-policy'], file).toBe(DASHBOARD_CSP);
      expect(res.body, file).toBe(readFileSync(join(staticDir, file), 'utf8'));
      // A relative import the server does not answer would leave the page blank: resolve each one.
      for (const [, spec] of res.body.matchAll(/^import [^;]*? from '([^']+)';$/gm)) {
        const target = new URL(spec, `http://x/dashboard/${file}`).pathname;
        expect((await a.inject({ url: target })).statusCode, `${file} imports ${spec}`).toBe(200);
      }
    }
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const a = await app();
    const first = await a.inject({ url: '/dashboard/app.js' });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await a.inject({ url: '/dashboard/app.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves nothing but the listed files: not the type declarations, not other paths', async () => {
    const a = await app();
    for (const url of ['/dashboard/targeting.d.ts', '/dashboard/types.d.ts', '/dashboard/tsconfig.json', '/dashboard/views/', '/dashboard/views/../index.ts', '/dashboard/views%2F..%2F..%2Findex.ts', '/dashboard/..%2Findex.ts', '/dashboard/%2e%2e/index.ts', '/dashboard/nope.js', '/dashboard/index.html/x']) {
      expect((await a.inject({ url })).statusCode, url).toBe(404);
    }
  });

  it('answers loopback clients only by default (403 LOOPBACK_ONLY), and everyone with loopbackOnly false', async () => {
    const closed = await app();
    expect((await closed.inject({ url: '/', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await closed.inject({ url: '/', remoteAddress: '::1' })).statusCode).toBe(200);
    const refused = await closed.inject({ url: '/dashboard/app.js', remoteAddress: '10.1.2.3' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'LOOPBACK_ONLY' } });
    const open = await app({ loopbackOnly: false });
    expect((await open.inject({ url: '/', remoteAddress: '10.1.2.3' })).statusCode).toBe(200);
  });

  it('finds the same static files from the compiled module in dist', async () => {
    const compiled = new URL('../../dist/servers/management/dashboard/index.js', import.meta.url);
    expect(existsSync(compiled), 'run `npx tsc -b` first').toBe(true);
    const mod = (await import(compiled.href)) as { DASHBOARD_STATIC_DIR: URL };
    expect(fileURLToPath(mod.DASHBOARD_STATIC_DIR)).toBe(staticDir);
  });

  it('keeps the page within its CSP: no inline script, style or handler, no eval, no markup from strings', () => {
    const html = readFileSync(`${staticDir}/index.html`, 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="\/dashboard\/[\w.-]+\.js"/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<\s]/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/https?:\/\//);
    for (const file of jsFiles()) {
      const js = readFileSync(join(staticDir, file), 'utf8');
      expect(js, file).not.toMatch(/\beval\s*\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|setTimeout\(\s*['"`]/);
      // Same origin only: every fetch goes through api.js to /api/v1.
      expect(js, file).not.toMatch(/https?:\/\//);
      expect(js, file).not.toMatch(/\.style\./);
    }
  });
});
