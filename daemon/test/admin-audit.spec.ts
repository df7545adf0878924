/**
 * The audit log and the CLI commands against a real daemon: the hash chain, filters, 503 with
 * nothing applied when the log cannot be written, `vexil audit verify` (intact and tampered),
 * `vexil kill`, and a write reaching the official flagd in-process provider in under a second.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlagdProvider } from '@openfeature/flagd-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import { useAdminFixtures } from './support/admin.js';
import { runVexil } from './support/cli.js';
import { eventually } from './support/daemon-process.js';

const run = runVexil;

const up = useAdminFixtures();

describe('audit log', () => {
  it('appends one hash-chained entry per write, filterable, and `vexil audit verify` finds the chain intact', async () => {
    const f = await up();
    const log = join(f.dir, 'vexil-audit.jsonl');
    await f.call('POST', '/flags/banner/kill');
    const v = (await f.call('GET', '/flags/new-checkout')).body.version;
    await f.call('PATCH', '/flags/new-checkout', { body: { defaultVariant: 'on' }, headers: { 'if-match': v } });
    await f.call('POST', '/flags/new-checkout/archive');

    const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => [e.seq, e.action, e.flag])).toEqual([
      [1, 'kill', 'banner'],
      [2, 'update', 'new-checkout'],
      [3, 'archive', 'new-checkout'],
    ]);
    expect(lines[0].prev).toBe('0'.repeat(64));
    expect(lines[1].prev).toBe(lines[0].hash);
    expect(lines[1].before.defaultVariant).toBe('off');
    expect(lines[1].after.defaultVariant).toBe('on');

    const all = await f.call('GET', '/audit');
    expect(all.body.entries.map((e: { seq: number }) => e.seq)).toEqual([3, 2, 1]);
    expect((await f.call('GET', '/audit?flag=new-checkout&limit=1')).body.entries.map((e: { seq: number }) => e.seq)).toEqual([3]);
    expect((await f.call('GET', '/audit?action=kill')).body.entries).toHaveLength(1);
    expect((await f.call('GET', '/audit?actor=someone')).body.entries).toHaveLength(0);
    expect((await f.call('GET', `/audit?since=${encodeURIComponent('2999-01-01T00:00:00Z')}`)).body.entries).toHaveLength(0);
    expect((await f.call('GET', '/audit?since=yesterday')).status).toBe(400);

    const ok = await run(['audit', 'verify', '--audit-log', log]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('3 entries, chain intact');

    // Tamper with line 2: the chain breaks there.
    const tampered = (await readFile(log, 'utf8')).split('\n');
    tampered[1] = tampered[1].replace('"actor":"local"', '"actor":"mallory"');
    await writeFile(log, tampered.join('\n'));
    const bad = await run(['audit', 'verify', '--audit-log', log]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 2');
  });

  it.each([
    ['its parent is a file', (dir: string) => join(dir, 'flags.json', 'audit.jsonl')],
    ['it is a directory', (dir: string) => join(dir, 'audit-dir')],
  ])('refuses writes with 503 AUDIT_UNAVAILABLE and leaves the flag file as it was when %s', async (_name, pathIn) => {
    const f = await up();
    const auditPath = pathIn(f.dir);
    await mkdir(join(f.dir, 'audit-dir'), { recursive: true });
    await f.daemon.stop();
    const g = await up(['--audit-log', auditPath]);
    const before = await g.readText();
    const r = await g.call('POST', '/flags/banner/kill');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('AUDIT_UNAVAILABLE');
    const v = (await g.call('GET', '/flags/banner')).body.version;
    expect((await g.call('PATCH', '/flags/banner', { body: { defaultVariant: 'blue' }, headers: { 'if-match': v } })).status).toBe(503);
    expect(await g.readText()).toBe(before);
    expect((await readdir(g.dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await rm(f.dir, { recursive: true, force: true });
  });
});

describe('vexil kill', () => {
  it('kills a flag through the API and prints the new version; an unknown flag exits 1', async () => {
    const f = await up(['--admin-token', 'editor-secret-1:editor:ops']);
    const r = await run(['kill', 'banner', '--url', f.base, '--token', 'editor-secret-1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/killed banner: state DISABLED, version "[0-9a-f]{64}"/);
    expect(JSON.parse(await f.readText()).flags.banner).toMatchObject({ state: 'DISABLED', metadata: { killedBy: 'ops' } });
    const missing = await run(['kill', 'nope', '--url', f.base, '--token', 'editor-secret-1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('FLAG_NOT_FOUND');
    const unauth = await run(['kill', 'banner', '--url', f.base]);
    expect(unauth.code).toBe(1);
    expect(unauth.stderr).toContain('UNAUTHENTICATED');
  });
});

describe('write to SDK', () => {
  it('an API write reaches the official flagd in-process provider in under a second', async () => {
    const f = await up();
    const provider = new FlagdProvider({ resolverType: 'in-process', host: '127.0.0.1', port: f.daemon.ports.sync });
    await OpenFeature.setProviderAndWait('admin-test', provider);
    try {
      const client = OpenFeature.getClient('admin-test');
      expect(await client.getBooleanValue('new-checkout', true)).toBe(false);
      const v = (await f.call('GET', '/flags/new-checkout')).body.version;
      const started = performance.now();
      const r = await f.call('PATCH', '/flags/new-checkout', { body: { defaultVariant: 'on' }, headers: { 'if-match': v } });
      expect(r.status).toBe(200);
      await eventually(async () => (await client.getBooleanValue('new-checkout', false)) === true, 1_000, 5);
      expect(performance.now() - started).toBeLessThan(1_000);
      // The kill switch: the SDK then serves the application's default.
      await f.call('POST', '/flags/new-checkout/kill');
      await eventually(async () => (await client.getBooleanValue('new-checkout', false)) === false, 1_000, 5);
    } finally {
      await OpenFeature.clearProviders();
    }
  });
});
