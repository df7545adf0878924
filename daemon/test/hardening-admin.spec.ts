/**
 * Hardening of the management API against a real daemon, with raw node:http requests (so Host,
 * Origin, Sec-Fetch-Site and the client address are ours to set):
 * - cross-site writes (a text/plain "simple request" with Origin and Sec-Fetch-Site of another
 *   site; forms and no-cors fetches without those headers) are 403 and write nothing, with and
 *   without tokens; the daemon's own origin and non-browser clients still write;
 * - without tokens, a non-loopback Host (DNS rebinding) is 403 on the API and the dashboard;
 * - failed authentication is limited per address, before the token is looked at; the per-token
 *   limit counts the token's name, however the header is spelled;
 * - bodies nested too deep, or with __proto__ / constructor keys, are 400 with a JSON path, on
 *   POST and PATCH alike, and write nothing.
 * Browser-side counterparts: test/dashboard/hardening-browser.spec.ts.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, AuthFailureLimiter, checkPreflightForced, checkSameOrigin, hostName, isLoopbackHost } from '../src/admin/auth.js';
import { AdminError } from '../src/admin/errors.js';
import { MAX_JSON_DEPTH, parseJsonBody } from '../src/servers/management/api/api-plugin.js';
import { useAdminFixtures, type AdminFixture } from './support/admin.js';

const up = useAdminFixtures();

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One request through node:http: every header as given (Host too), optionally from another loopback address. */
function raw(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; localAddress?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        // Node sends a DELETE body without a length unless told.
        headers: { ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const port = (f: AdminFixture) => f.daemon.ports.management;
const TOKENS = ['--admin-token', 'viewer-secret-1:viewer:vera', '--admin-token', 'editor-secret-1:editor:ed'];
const CROSS_SITE = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' };

/** The file and the audit log are as they were: nothing was written. */
async function expectNothingWritten(f: AdminFixture, before: string) {
  expect(await f.readText()).toBe(before);
  expect((await f.call('GET', '/audit')).body.entries).toEqual([]);
}

describe('cross-site writes', () => {
  it('refuses the probe: a text/plain POST to /kill and /archive with Origin and Sec-Fetch-Site of another site, and writes nothing', async () => {
    const f = await up();
    const before = await f.readText();
    for (const action of ['kill', 'archive', 'restore']) {
      const r = await raw(port(f), 'POST', `/api/v1/flags/banner/${action}`, {
        headers: { ...CROSS_SITE, host: `127.0.0.1:${port(f)}`, 'content-type': 'text/plain;charset=UTF-8' },
        body: 'x=1',
      });
      expect(r.status, action).toBe(403);
      expect(r.body.error.code).toBe('CROSS_ORIGIN_REQUEST');
      expect(r.body.error.message).toContain('Sec-Fetch-Site: cross-site');
    }
    // Every state-changing method, with a JSON body too: the origin decides first.
    for (const [method, path] of [['PATCH', '/flags/banner'], ['PUT', '/flags/banner'], ['DELETE', '/flags/banner'], ['POST', '/flags']]) {
      const r = await raw(port(f), method, `/api/v1${path}`, { headers: { ...CROSS_SITE, 'content-type': 'application/json' }, body: '{}' });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('CROSS_ORIGIN_REQUEST');
    }
    expect((await f.call('GET', '/flags/banner')).body.state).toBe('ENABLED');
    await expectNothingWritten(f, before);
  });

  it('refuses another origin by Origin alone (browsers that send no Sec-Fetch-Site: plain http on a non-loopback name), and same-site other ports', async () => {
    const f = await up();
    const before = await f.readText();
    const cases: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' }, // a sandboxed iframe, a data: URL
      { origin: `http://127.0.0.1:${port(f) + 1}` }, // same site, another port
      { origin: `http://localhost:${port(f)}` }, // the daemon's port under another name than this Host
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site', origin: `http://127.0.0.1:${port(f)}` }, // Sec-Fetch-Site decides
    ];
    for (const h of cases) {
      const r = await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: { host: `127.0.0.1:${port(f)}`, 'x-vexil-request': '1', ...h } });
      expect(r.status, JSON.stringify(h)).toBe(403);
      expect(r.body.error.code).toBe('CROSS_ORIGIN_REQUEST');
    }
    await expectNothingWritten(f, before);
  });

  it('refuses forms and no-cors fetches without those headers (text/plain, form-encoded, multipart, no body): 403 CSRF_HEADER_REQUIRED', async () => {
    const f = await up();
    const before = await f.readText();
    const simple: { type?: string; body?: string }[] = [
      { type: 'text/plain', body: '{"state":"DISABLED"}' },
      { type: 'text/plain; charset=utf-8', body: 'x' },
      { type: 'application/x-www-form-urlencoded', body: 'a=b' },
      { type: 'multipart/form-data; boundary=x', body: '--x--\r\n' },
      { type: 'text/plain; x=application/json', body: '{}' }, // still text/plain to a browser
      {}, // fetch(url, { method: 'POST', mode: 'no-cors' }): no body, no Content-Type
    ];
    for (const s of simple) {
      for (const path of ['/flags/banner/kill', '/flags/new-checkout/archive']) {
        const r = await raw(port(f), 'POST', `/api/v1${path}`, { headers: s.type ? { 'content-type': s.type } : {}, body: s.body });
        expect(r.status, `${path} ${JSON.stringify(s)}`).toBe(403);
        expect(r.body.error.code).toBe('CSRF_HEADER_REQUIRED');
        expect(r.body.error.message).toContain('X-Vexil-Request');
      }
    }
    const del = await raw(port(f), 'DELETE', '/api/v1/flags/banner', { headers: { 'if-match': (await f.call('GET', '/flags/banner')).body.version } });
    expect(del.body.error.code).toBe('CSRF_HEADER_REQUIRED');
    await expectNothingWritten(f, before);
  });

  it('refuses them in token mode too, with a valid editor token, and then before authentication', async () => {
    const f = await up(TOKENS);
    const before = await f.readText();
    const auth = { authorization: 'Bearer editor-secret-1' };
    const textPlain = await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' });
    expect(textPlain.status).toBe(403);
    expect(textPlain.body.error.code).toBe('CSRF_HEADER_REQUIRED');
    const crossSite = await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: { ...auth, ...CROSS_SITE, 'x-vexil-request': '1' } });
    expect(crossSite.body.error.code).toBe('CROSS_ORIGIN_REQUEST');
    // No token at all: still the browser guard's answer, not 401.
    expect((await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: { 'content-type': 'text/plain' }, body: 'x' })).body.error.code).toBe('CSRF_HEADER_REQUIRED');
    expect(await f.readText()).toBe(before);
    // With the header, as `vexil kill` sends it, the editor writes.
    const ok = await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: { ...auth, 'x-vexil-request': 'vexil-cli' } });
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.killedBy).toBe('ed');
  });

  it('still takes writes from its own origin (the dashboard), from non-browser clients, and JSON bodies without the header', async () => {
    const f = await up();
    const host = `127.0.0.1:${port(f)}`;
    const own = { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', 'x-vexil-request': 'dashboard' };
    expect((await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: own })).status).toBe(200);
    // Origin only (no Sec-Fetch-Site), under the other loopback names, any port.
    for (const name of [`localhost:${port(f)}`, `[::1]:${port(f)}`]) {
      const r = await raw(port(f), 'POST', '/api/v1/flags/new-checkout/archive', { headers: { host: name, origin: `http://${name}`, 'x-vexil-request': '1' } });
      expect(r.status, name).toBe(200);
      expect((await raw(port(f), 'POST', '/api/v1/flags/new-checkout/restore', { headers: { host: name, 'x-vexil-request': '1' } })).status).toBe(200);
    }
    // A typed URL / bookmark (Sec-Fetch-Site: none) is the user's own doing.
    const v = (await f.call('GET', '/flags/banner')).body.version;
    const patch = await raw(port(f), 'PATCH', '/api/v1/flags/banner', {
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': v, 'sec-fetch-site': 'none' },
      body: JSON.stringify({ state: 'ENABLED' }),
    });
    expect(patch.status).toBe(200);
    // A JSON body needs no header (a browser preflights it); GETs need nothing.
    const created = await raw(port(f), 'POST', '/api/v1/flags', {
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ key: 'json-only', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' }),
    });
    expect(created.status).toBe(201);
    expect((await raw(port(f), 'GET', '/api/v1/flags/json-only', { headers: CROSS_SITE })).status).toBe(200);
    // With the header, a body in another content type is 415, not parsed as text.
    const text = await raw(port(f), 'POST', '/api/v1/flags', { headers: { 'content-type': 'text/plain', 'x-vexil-request': '1' }, body: '{}' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const audit = (await f.call('GET', '/audit')).body.entries.map((e: { action: string }) => e.action);
    expect(audit).toEqual(['create', 'update', 'restore', 'archive', 'restore', 'archive', 'kill']);
  });

  it('answers no CORS preflight: OPTIONS carries no Access-Control-Allow-* header', async () => {
    const f = await up();
    const r = await raw(port(f), 'OPTIONS', '/api/v1/flags/banner/kill', {
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-vexil-request' },
    });
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(r.status).toBeGreaterThanOrEqual(400);
  });
});

describe('Host names without tokens (DNS rebinding)', () => {
  it('refuses a non-loopback Host on the API (reads too) and the dashboard with 403 HOST_NOT_ALLOWED; loopback names on any port pass', async () => {
    const f = await up();
    for (const host of [`evil.example:${port(f)}`, 'evil.example', `127.0.0.1.evil.example:${port(f)}`, `localhost.evil.example:${port(f)}`, '10.0.0.1:8014', '[::2]:8014', '0.0.0.0:8014']) {
      for (const path of ['/api/v1/audit', '/api/v1/flags', '/api/v1/whoami', '/api/v1/openapi.json']) {
        const r = await raw(port(f), 'GET', path, { headers: { host } });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.body.error.code).toBe('HOST_NOT_ALLOWED');
        expect(r.text).not.toContain('banner');
      }
      for (const path of ['/', '/dashboard/', '/dashboard/api.js']) {
        const r = await raw(port(f), 'GET', path, { headers: { host } });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.body.error.code).toBe('HOST_NOT_ALLOWED');
      }
    }
    expect((await raw(port(f), 'GET', '/api/v1/audit', { headers: { host: `evil.example:${port(f)}` } })).body.error.message).toContain('127.0.0.1');
    for (const host of [`localhost:${port(f)}`, 'localhost', `127.0.0.1:${port(f)}`, '127.0.0.1:1', `127.1.2.3:${port(f)}`, `[::1]:${port(f)}`, '[::1]', `LOCALHOST:${port(f)}`, 'app.localhost:9', 'localhost.:80']) {
      expect((await raw(port(f), 'GET', '/api/v1/whoami', { headers: { host } })).status, host).toBe(200);
      expect((await raw(port(f), 'GET', '/', { headers: { host } })).status, host).toBe(200);
    }
    // Health and metrics are not the API's: probes with any Host keep working.
    expect((await raw(port(f), 'GET', '/healthz', { headers: { host: 'pod-1.cluster.local:8014' } })).status).toBe(200);
  });

  it('accepts any Host once tokens are configured (a bearer token is never sent by a page on its own)', async () => {
    const f = await up(TOKENS);
    const r = await raw(port(f), 'GET', '/api/v1/whoami', { headers: { host: 'vexil.internal.example:8014', authorization: 'Bearer viewer-secret-1' } });
    expect(r.status).toBe(200);
    expect((await raw(port(f), 'GET', '/', { headers: { host: 'vexil.internal.example' } })).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('limits failed authentications per address (429 before the token is looked at), not other addresses', async () => {
    const f = await up(TOKENS);
    const from = (localAddress: string, token: string) => raw(port(f), 'GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${token}` }, localAddress });
    // 700 guesses from one address: 20 are answered 401, the rest 429.
    const statuses: number[] = [];
    for (let i = 0; i < 700; i++) statuses.push((await from('127.0.0.1', `guess-${i}-xxxxxxxx`)).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(680).fill(429));
    const limited = await from('127.0.0.1', 'guess-again-xxxxxxxx');
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.body.error.message).toContain('failed authentications');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The valid token gets no answer from that address either: a guess cannot be checked at all.
    expect((await from('127.0.0.1', 'viewer-secret-1')).status).toBe(429);
    // Another address is not punished: it authenticates, and has its own 20 failures (the same
    // wrong token over and over counts as much as new ones).
    expect((await from('127.0.0.2', 'viewer-secret-1')).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await from('127.0.0.2', 'same-wrong-token')).status).toBe(401);
    expect((await from('127.0.0.2', 'same-wrong-token')).status).toBe(429);
    expect((await from('127.0.0.3', 'editor-secret-1')).status).toBe(200);
    // Requests without any Authorization header are 401 but no guess: never 429.
    for (let i = 0; i < 30; i++) expect((await raw(port(f), 'GET', '/api/v1/whoami', { localAddress: '127.0.0.4' })).status).toBe(401);
    expect((await from('127.0.0.4', 'viewer-secret-1')).status).toBe(200);
  });

  it('takes the failed-authentication limit from --admin-auth-failure-limit', async () => {
    const f = await up([...TOKENS, '--admin-auth-failure-limit', '3']);
    const guess = (i: number) => raw(port(f), 'GET', '/api/v1/whoami', { headers: { authorization: `Bearer guess-${i}-xxxxxxxx` }, localAddress: '127.0.0.5' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guess(i)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('counts one budget per token name, however the Authorization header is spelled', async () => {
    const f = await up([...TOKENS, '--admin-rate-limit', '6']);
    const spellings = ['Bearer viewer-secret-1', 'bearer viewer-secret-1', 'BEARER   viewer-secret-1', 'Bearer\tviewer-secret-1 ', 'bEaReR viewer-secret-1\t', 'Bearer  viewer-secret-1  '];
    for (const [i, authorization] of spellings.entries()) {
      const r = await raw(port(f), 'GET', '/api/v1/whoami', { headers: { authorization } });
      expect(r.status, authorization).toBe(200);
      expect(r.headers['x-ratelimit-remaining']).toBe(String(5 - i));
    }
    for (const authorization of ['bearer viewer-secret-1', 'Bearer    viewer-secret-1']) {
      const r = await raw(port(f), 'GET', '/api/v1/whoami', { headers: { authorization } });
      expect(r.status, authorization).toBe(429);
      expect(r.body.error.code).toBe('RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    // From another address too: the budget is the token's, not the connection's.
    expect((await raw(port(f), 'GET', '/api/v1/whoami', { headers: { authorization: 'Bearer viewer-secret-1' }, localAddress: '127.0.0.2' })).status).toBe(429);
    // Another token has its own.
    expect((await raw(port(f), 'GET', '/api/v1/whoami', { headers: { authorization: 'bearer editor-secret-1' } })).status).toBe(200);
  });
});

describe('request bodies', () => {
  const nested = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };
  const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  it('answers 400 INVALID_REQUEST with a JSON path for a body nested 5,000 deep (create and patch), writing nothing', async () => {
    const f = await up();
    const before = await f.readText();
    const create = await raw(port(f), 'POST', '/api/v1/flags', {
      headers: { 'content-type': 'application/json' },
      body: `{"key":"deep","state":"ENABLED","variants":{"on":${nestedText(5000)}},"defaultVariant":"on"}`,
    });
    expect(create.status).toBe(400);
    expect(create.body.error.code).toBe('INVALID_REQUEST');
    // $.variants.on is level 3; the first object past the limit is level MAX_JSON_DEPTH + 1.
    expect(create.body.error.path).toBe(`$.variants.on${'.a'.repeat(MAX_JSON_DEPTH - 2)}`);
    expect(create.body.error.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels, at $.variants.on.a.a`);
    const v = (await f.call('GET', '/flags/banner')).body.version;
    for (const type of ['application/merge-patch+json', 'application/json']) {
      const patch = await raw(port(f), 'PATCH', '/api/v1/flags/banner', { headers: { 'content-type': type, 'if-match': v }, body: `{"targeting":${nestedText(5000)}}` });
      expect(patch.status, type).toBe(400);
      expect(patch.body.error).toMatchObject({ code: 'INVALID_REQUEST', path: `$.targeting${'.a'.repeat(MAX_JSON_DEPTH - 1)}` });
    }
    // Deeper than the stack allows is still a 400, not a 500.
    const huge = await raw(port(f), 'PUT', '/api/v1/flags/banner', { headers: { 'content-type': 'application/json', 'if-match': v }, body: `[${'['.repeat(60_000)}${']'.repeat(60_000)}]` });
    expect(huge.status).toBe(400);
    expect(huge.body.error.code).toBe('INVALID_REQUEST');
    await expectNothingWritten(f, before);
  });

  it('takes a body exactly MAX_JSON_DEPTH deep', async () => {
    const f = await up();
    // body (1) → variants (2) → on (3) → … : the deepest object is level MAX_JSON_DEPTH.
    const r = await f.call('POST', '/flags', { body: { key: 'deep-ok', state: 'ENABLED', variants: { on: nested(MAX_JSON_DEPTH - 2), off: { a: 0 } }, defaultVariant: 'off' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const tooDeep = await f.call('POST', '/flags', { body: { key: 'deep-no', state: 'ENABLED', variants: { on: nested(MAX_JSON_DEPTH - 1), off: { a: 0 } }, defaultVariant: 'off' } });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error.path).toBe(`$.variants.on${'.a'.repeat(MAX_JSON_DEPTH - 2)}`);
  });

  it('refuses __proto__ and constructor keys on POST, PUT and PATCH alike: 400 INVALID_REQUEST naming the key and its path', async () => {
    const f = await up();
    const before = await f.readText();
    const v = (await f.call('GET', '/flags/banner')).body.version;
    const flag = (extra: string) => `{"key":"p","state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",${extra}}`;
    const cases: [string, string, string, string, string][] = [
      ['POST', '/flags', flag('"metadata":{"__proto__":{"isAdmin":true}}'), '__proto__', '$.metadata.__proto__'],
      ['POST', '/flags', '{"__proto__":{"polluted":1},"key":"p","state":"ENABLED","variants":{"on":true}}', '__proto__', '$.__proto__'],
      ['POST', '/flags', flag('"targeting":{"if":[{"constructor":{"prototype":{"x":1}}},"on","off"]}'), 'constructor', '$.targeting.if[0].constructor'],
      ['PUT', '/flags/banner', '{"state":"ENABLED","variants":{"red":"red","__proto__":"blue"},"defaultVariant":"red"}', '__proto__', '$.variants.__proto__'],
      ['PATCH', '/flags/banner', '{"metadata":{"__proto__":{"isAdmin":true}}}', '__proto__', '$.metadata.__proto__'],
      ['PATCH', '/flags/banner', '{"variants":{"constructor":"x"}}', 'constructor', '$.variants.constructor'],
    ];
    const messages: string[] = [];
    for (const [method, path, body, key, at] of cases) {
      for (const type of method === 'PATCH' ? ['application/merge-patch+json', 'application/json'] : ['application/json']) {
        const r = await raw(port(f), method, `/api/v1${path}`, { headers: { 'content-type': type, 'if-match': v }, body });
        expect(r.status, `${method} ${type} ${body}`).toBe(400);
        expect(r.body.error).toEqual({
          code: 'INVALID_REQUEST',
          message: `the body has a ${JSON.stringify(key)} key, at ${at}: "__proto__" and "constructor" keys are refused anywhere in a body`,
          path: at,
        });
        expect(r.body.error.message).not.toMatch(/not valid JSON/i);
        messages.push(r.body.error.message.replace(/ key, at .*?:/, ' key, at …:').replace(/"(__proto__|constructor)" key/, '"…" key'));
      }
    }
    expect(new Set(messages).size).toBe(1); // one message shape everywhere
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
    await expectNothingWritten(f, before);
  });

  it('still answers INVALID_REQUEST for a body that is not JSON, and an empty JSON body', async () => {
    const f = await up();
    const bad = await raw(port(f), 'POST', '/api/v1/flags', { headers: { 'content-type': 'application/json' }, body: '{"key":' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
    expect(bad.body.error.message).toMatch(/^the body is not valid JSON/);
    const empty = await raw(port(f), 'POST', '/api/v1/flags/banner/kill', { headers: { 'content-type': 'application/json', 'content-length': '0' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('INVALID_REQUEST');
  });
});

describe('the OpenAPI document', () => {
  it('lists the browser-guard and body codes per route, and the X-Vexil-Request header on writes', async () => {
    const f = await up();
    const doc = (await f.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, { description: string }>; parameters?: { name: string }[] }>> };
    const kill = doc.paths['/api/v1/flags/{key}/kill'].post;
    expect(kill.responses['403'].description).toContain('CROSS_ORIGIN_REQUEST');
    expect(kill.responses['403'].description).toContain('CSRF_HEADER_REQUIRED');
    expect(kill.responses['403'].description).toContain('HOST_NOT_ALLOWED');
    expect(kill.parameters?.map((p) => p.name)).toContain('X-Vexil-Request');
    const list = doc.paths['/api/v1/flags'].get;
    expect(list.responses['403'].description).toContain('HOST_NOT_ALLOWED');
    expect(list.responses['403'].description).not.toContain('CSRF_HEADER_REQUIRED');
    expect(doc.paths['/api/v1/flags'].post.responses['400'].description).toContain('INVALID_REQUEST');
    expect(doc.paths['/api/v1/flags/{key}'].patch.responses['415'].description).toContain('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('the guards as functions', () => {
  const code = (fn: () => void) => {
    try {
      fn();
      return 'ok';
    } catch (err) {
      return (err as AdminError).code;
    }
  };

  it('reads Host names', () => {
    expect(hostName('LocalHost:8014')).toBe('localhost');
    expect(hostName('[::1]:8014')).toBe('::1');
    expect(hostName('localhost.')).toBe('localhost');
    expect(hostName('a:b:c')).toBeUndefined();
    expect(hostName('user@localhost')).toBeUndefined();
    expect(hostName('localhost:99999999')).toBeUndefined();
    for (const h of ['localhost', '127.0.0.1:1', '127.255.0.9', '[::1]', 'x.localhost:3']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of [undefined, '', 'evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '[::ffff:7f00:1]', '::1', '0.0.0.0', '1.2.3.4']) expect(isLoopbackHost(h), String(h)).toBe(false);
  });

  it('checks origins and preflight-forcing headers', () => {
    expect(code(() => checkSameOrigin('POST', {}))).toBe('ok');
    expect(code(() => checkSameOrigin('POST', { host: 'a:1', origin: 'http://a:1' }))).toBe('ok');
    expect(code(() => checkSameOrigin('POST', { host: 'a', origin: 'http://a:80' }))).toBe('ok');
    expect(code(() => checkSameOrigin('POST', { host: 'a:80', origin: 'http://a' }))).toBe('ok');
    expect(code(() => checkSameOrigin('POST', { host: 'a:1', origin: 'http://a:2' }))).toBe('CROSS_ORIGIN_REQUEST');
    expect(code(() => checkSameOrigin('POST', { host: 'a:1', origin: 'not a url' }))).toBe('CROSS_ORIGIN_REQUEST');
    expect(code(() => checkSameOrigin('POST', { origin: 'http://a:1' }))).toBe('CROSS_ORIGIN_REQUEST');
    expect(code(() => checkSameOrigin('POST', { 'sec-fetch-site': 'Same-Origin', origin: 'https://public.example', host: 'internal:8014' }))).toBe('ok');
    expect(code(() => checkPreflightForced('POST', { 'content-type': 'Application/JSON ; charset=utf-8' }))).toBe('ok');
    expect(code(() => checkPreflightForced('POST', { 'content-type': 'application/merge-patch+json' }))).toBe('ok');
    expect(code(() => checkPreflightForced('POST', { 'x-vexil-request': ' ' }))).toBe('CSRF_HEADER_REQUIRED');
    expect(code(() => checkPreflightForced('POST', { 'content-type': 'application/jsonx' }))).toBe('CSRF_HEADER_REQUIRED');
  });

  it('keys failures by address, IPv6 by /64, and forgets them after the window', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::9')).toBe(addressKey('2001:0db8:0001:0002:ffff::1'));
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    let now = 0;
    const l = new AuthFailureLimiter(3, 60_000, () => now, 2);
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfterMs('10.0.0.1')).toBe(0);
      l.fail('10.0.0.1');
    }
    expect(l.retryAfterMs('10.0.0.1')).toBe(60_000);
    expect(l.retryAfterMs('10.0.0.2')).toBe(0);
    now = 30_000;
    expect(l.retryAfterMs('10.0.0.1')).toBe(30_000);
    now = 60_000;
    expect(l.retryAfterMs('10.0.0.1')).toBe(0);
    // Bounded: a third address pushes the oldest out.
    for (const a of ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3']) l.fail(a);
    expect(l.retryAfterMs('10.0.0.1')).toBe(0);
  });

  it('parses bodies without recursion', () => {
    expect(parseJsonBody('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(() => parseJsonBody(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`)).toThrow(/deeper than 64 levels, at \$(\[0\]){64}$/);
    expect(() => parseJsonBody('{"a~/b":{"__proto__":1}}')).toThrow('at $["a~/b"].__proto__');
  });
});
