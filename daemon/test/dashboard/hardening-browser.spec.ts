/**
 * Cross-site writes and DNS rebinding in real headless Chromium against the real daemon (no
 * admin tokens: the loopback mode an operator runs `vexil start` in).
 *
 * An attacker page is served by a second, tiny HTTP server on another port, and opened under
 * three names: http://localhost:<p2> (cross-site to http://127.0.0.1:<mgmt>), http://127.0.0.1:<p2>
 * (same-site but cross-origin) and http://evil.example:<p2> (mapped to 127.0.0.1 with
 * --host-resolver-rules). Chromium sends `Sec-Fetch-Site: cross-site`, `same-site` and
 * `cross-site` with them (the target, 127.0.0.1, is potentially trustworthy, so it gets
 * Sec-Fetch-* whatever the page; the Origin-only check is tested in hardening-admin.spec.ts).
 * From each it tries what a page can do without a preflight:
 * auto-submitted forms (text/plain, urlencoded, multipart), fetch in no-cors mode (with and
 * without a body), sendBeacon, and a CORS fetch with a JSON body (which needs a preflight the
 * daemon never grants). Every request that reaches the daemon must be answered 403, and in the
 * end the flag file and audit log must be untouched. A rebinding page (evil.example resolving to
 * the daemon's own port) gets 403 HOST_NOT_ALLOWED for the dashboard and the API, also from its
 * own, same-origin fetches. The dashboard's own client (api.js, same origin) still kills a flag.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';

const CHROMIUM_PATH = '/usr/bin/chromium';

const FLAGS = {
  flags: {
    banner: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    checkout: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    control: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
  },
};

/** What the attacker page does, in the browser; `api` is the daemon's /api/v1 base URL. */
function attackerPage(api: string): string {
  const form = (name: string, action: string, enctype: string) =>
    `<form id="${name}" method="POST" action="${api}${action}" enctype="${enctype}" target="sink-${name}"><input name="x" value='{"state":"DISABLED"}'></form>` +
    `<iframe name="sink-${name}"></iframe>`;
  return `<!doctype html><html><body>
${form('form-text', '/flags/banner/kill', 'text/plain')}
${form('form-urlencoded', '/flags/checkout/archive', 'application/x-www-form-urlencoded')}
${form('form-multipart', '/flags/banner/kill', 'multipart/form-data')}
<script>
  window.attack = async () => {
    const results = {};
    const tryIt = async (name, fn) => {
      try { const r = await fn(); results[name] = r && r.type ? r.type + ':' + r.status : String(r); }
      catch (e) { results[name] = 'error:' + e.name; }
    };
    for (const id of ['form-text', 'form-urlencoded', 'form-multipart']) document.getElementById(id).submit();
    await tryIt('no-cors text/plain kill', () => fetch('${api}/flags/banner/kill', { method: 'POST', mode: 'no-cors', body: 'x', credentials: 'include' }));
    await tryIt('no-cors bodiless archive', () => fetch('${api}/flags/checkout/archive', { method: 'POST', mode: 'no-cors' }));
    await tryIt('no-cors PATCH', () => fetch('${api}/flags/banner', { method: 'PATCH', mode: 'no-cors', body: '{"state":"DISABLED"}' }));
    await tryIt('beacon kill', () => navigator.sendBeacon('${api}/flags/banner/kill', 'x'));
    await tryIt('cors JSON kill', () => fetch('${api}/flags/banner/kill', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    await tryIt('cors header kill', () => fetch('${api}/flags/banner/kill', { method: 'POST', headers: { 'x-vexil-request': '1' } }));
    await tryIt('cors read audit', () => fetch('${api}/audit').then((r) => r.text()));
    return results;
  };
</script></body></html>`;
}

describe('cross-site requests from another origin, in Chromium', () => {
  let dir: string;
  let file: string;
  let daemon: DaemonProcess;
  let mgmt: number;
  let attacker: Server;
  let p2: number;
  let browser: Browser;
  let page: Page;
  /** Requests the page sent to the daemon's port, with the headers Chromium put on them and the status. */
  let seen: { method: string; url: string; headers: Record<string, string>; status: number | undefined }[];
  let pending: Promise<void>[];

  const audit = async () => ((await (await fetch(`http://127.0.0.1:${mgmt}/api/v1/audit`)).json()) as { entries: { action: string; flag: string }[] }).entries;
  const record = (r: Request) => {
    const url = new URL(r.url());
    if (url.port !== String(mgmt)) return;
    pending.push(
      (async () => {
        const headers = await r.allHeaders();
        const res = await r.response().catch(() => null);
        seen.push({ method: r.method(), url: url.pathname, headers, status: res?.status() });
      })(),
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vexil-hardening-'));
    file = join(dir, 'flags.json');
    writeFileSync(file, `${JSON.stringify(FLAGS, null, 2)}\n`);
    daemon = await startDaemon(['-f', `file:${file}`]);
    mgmt = daemon.ports.management;
    const page = attackerPage(`http://127.0.0.1:${mgmt}/api/v1`);
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page));
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    p2 = (attacker.address() as AddressInfo).port;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--host-resolver-rules=MAP evil.example 127.0.0.1'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    seen = [];
    pending = [];
    page = await browser.newPage();
    page.on('requestfinished', record);
    page.on('requestfailed', record);
  });

  afterEach(async () => {
    await page?.close();
  });

  it.each([
    ['http://localhost', 'cross-site'],
    ['http://127.0.0.1', 'same-site'],
    // Not a trustworthy origin, but the target is: Chromium still sends Sec-Fetch-Site.
    ['http://evil.example', 'cross-site'],
  ])('refuses every write a page at %s:<p2> can send without a preflight (Sec-Fetch-Site: %s); nothing is written', async (origin, site) => {
    const before = readFileSync(file, 'utf8');
    await page.goto(`${origin}:${p2}/`);
    const results = (await page.evaluate('window.attack()')) as Record<string, string>;
    // The forms' navigations land in their iframes, the beacon goes out on its own: wait for all.
    const isWrite = (s: { method: string }) => s.method !== 'GET' && s.method !== 'OPTIONS';
    await expect.poll(() => seen.filter(isWrite).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(6);
    await page.waitForTimeout(200);
    await Promise.all(pending);

    const writes = seen.filter(isWrite);
    // Answered by the daemon: the forms (3), the no-cors POSTs (2) and the beacon, each 403.
    const answered = writes.filter((w) => w.status !== undefined);
    expect(answered.map((w) => `${w.method} ${w.url} ${w.status}`).sort(), JSON.stringify(seen)).toEqual(
      [
        'POST /api/v1/flags/banner/kill 403', // form, text/plain
        'POST /api/v1/flags/checkout/archive 403', // form, urlencoded
        'POST /api/v1/flags/banner/kill 403', // form, multipart
        'POST /api/v1/flags/banner/kill 403', // no-cors fetch, text/plain
        'POST /api/v1/flags/checkout/archive 403', // no-cors fetch, no body
        'POST /api/v1/flags/banner/kill 403', // sendBeacon
      ].sort(),
    );
    // What Chromium sent with the form posts (navigations: their headers are all reported).
    const forms = answered.filter((w) => w.headers['sec-fetch-dest'] === 'iframe');
    expect(forms.map((w) => w.headers['content-type']?.split(';')[0]).sort()).toEqual(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
    for (const w of forms) {
      expect(w.headers['origin']).toBe(`${origin}:${p2}`);
      expect(w.headers['sec-fetch-site']).toBe(site);
    }
    expect(results['no-cors text/plain kill']).toBe('opaque:0');
    expect(results['no-cors bodiless archive']).toBe('opaque:0');
    expect(results['beacon kill']).toBe('true');
    // A no-cors PATCH is refused by the browser itself; the preflighted requests never got past
    // their preflight (the daemon grants none): the fetch fails and no response came.
    expect(results['no-cors PATCH']).toBe('error:TypeError');
    expect(results['cors JSON kill']).toBe('error:TypeError');
    expect(results['cors header kill']).toBe('error:TypeError');
    expect(results['cors read audit']).toBe('error:TypeError');
    for (const w of writes.filter((x) => x.status === undefined)) {
      expect(w.headers['content-type'] === 'application/json' || w.headers['x-vexil-request'] !== undefined, JSON.stringify(w)).toBe(true);
    }

    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(await audit()).toEqual([]);
  });

  it('refuses the forms with CROSS_ORIGIN_REQUEST in the response the iframe got', async () => {
    await page.goto(`http://localhost:${p2}/`);
    const answered = page.waitForResponse((r) => r.url().endsWith('/flags/banner/kill') && r.request().method() === 'POST');
    await page.evaluate("document.getElementById('form-text').submit()");
    const res = await answered;
    expect(res.status()).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CROSS_ORIGIN_REQUEST');
  });

  it('answers a DNS-rebinding page (Host evil.example:<mgmt>) 403 HOST_NOT_ALLOWED, for the dashboard, reads, and its own same-origin writes', async () => {
    const before = readFileSync(file, 'utf8');
    const dashboard = await page.goto(`http://evil.example:${mgmt}/`);
    expect(dashboard?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('HOST_NOT_ALLOWED');
    const results = (await page.evaluate(async () => {
      const call = async (path: string, init?: RequestInit) => {
        const r = await fetch(path, init);
        return `${r.status} ${((await r.json()) as { error?: { code: string } }).error?.code ?? ''}`;
      };
      return {
        audit: await call('/api/v1/audit'),
        flags: await call('/api/v1/flags'),
        kill: await call('/api/v1/flags/banner/kill', { method: 'POST', headers: { 'x-vexil-request': '1' } }),
        patch: await call('/api/v1/flags/banner', { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"state":"DISABLED"}' }),
      };
    })) as Record<string, string>;
    expect(results).toEqual({ audit: '403 HOST_NOT_ALLOWED', flags: '403 HOST_NOT_ALLOWED', kill: '403 HOST_NOT_ALLOWED', patch: '403 HOST_NOT_ALLOWED' });
    // Same origin to itself: the page's fetches carried Origin http://evil.example:<mgmt> = Host.
    await Promise.all(pending);
    const kill = seen.find((s) => s.url.endsWith('/kill'));
    expect(kill?.headers['origin']).toBe(`http://evil.example:${mgmt}`);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(await audit()).toEqual([]);
  });

  it("still lets the dashboard's own client (same origin, api.js) kill a flag, with Sec-Fetch-Site: same-origin", async () => {
    for (const host of [`127.0.0.1:${mgmt}`, `localhost:${mgmt}`]) {
      seen = [];
      pending = [];
      await page.goto(`http://${host}/`);
      await page.waitForSelector('body[data-ready="true"]');
      // A string, not a function: vitest would rewrite a dynamic import() in this file.
      const status = await page.evaluate(`(async () => {
        const { api } = await import('/dashboard/api.js');
        const killed = await api.killFlag('control');
        const revived = await api.patchFlag('control', { state: 'ENABLED' }, (await api.getFlag('control')).etag);
        return [killed.status, revived.status];
      })()`);
      expect(status, host).toEqual([200, 200]);
      await Promise.all(pending);
      const kill = seen.find((s) => s.url.endsWith('/control/kill'));
      expect(kill?.headers['sec-fetch-site']).toBe('same-origin');
      expect(kill?.headers['x-vexil-request']).toBe('dashboard');
    }
    const entries = await audit();
    expect(entries.map((e) => `${e.action} ${e.flag}`)).toEqual(['update control', 'kill control', 'update control', 'kill control']);
    // The others still stand.
    const doc = JSON.parse(readFileSync(file, 'utf8')) as typeof FLAGS;
    expect(doc.flags.banner.state).toBe('ENABLED');
    expect(doc.flags.checkout.state).toBe('ENABLED');
    expect(doc.flags.checkout).not.toHaveProperty('metadata.archived');
  });
});
