/**
 * Data-integrity hardening of the management layer, against the real `vexil` process and real
 * files: no wipe through a missing flag file, paged and cached list reads, a keyed audit chain
 * with checkpoints, and parse errors that never quote the file's content in the log.
 */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../../scripts/prerequisites.mjs';
import { FileRepository } from '../src/admin/file-repository.js';
import { FLAGS, useAdminFixtures } from './support/admin.js';
import { runVexil } from './support/cli.js';
import { S3RVER_CREDENTIALS, startS3rver } from './support/s3rver.js';
import { eventually, startDaemon, type DaemonProcess } from './support/daemon-process.js';

const up = useAdminFixtures();

const newFlag = { key: 'dark-mode', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' };

async function ofrepStatus(port: number, key: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/ofrep/v1/evaluate/flags/${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"context":{}}' });
  await res.arrayBuffer();
  return res.status;
}

describe('management API: the source of truth and the served flags must agree before a write', () => {
  it('refuses writes with 503 SOURCE_OF_TRUTH_MISMATCH while the flag file is missing, and writes again once it is restored', async () => {
    const f = await up();
    const original = await f.readText();
    await rm(f.file);
    // The daemon keeps serving the last good flags (its source reports not_found).
    await f.daemon.waitForLog((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('still serving the last good flags'));

    const list = await f.call('GET', '/flags');
    expect(list.status).toBe(503);
    expect(list.body.error.code).toBe('SOURCE_OF_TRUTH_MISMATCH');

    const created = await f.call('POST', '/flags', { body: newFlag });
    expect(created.status).toBe(503);
    expect(created.body.error.code).toBe('SOURCE_OF_TRUTH_MISMATCH');
    expect(created.body.error.message).toMatch(/Restore the file/);
    // Nothing written: no file, and OFREP still serves every flag.
    await expect(readFile(f.file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await ofrepStatus(f.daemon.ports.ofrep, 'banner')).toBe(200);
    expect(await ofrepStatus(f.daemon.ports.ofrep, 'new-checkout')).toBe(200);
    // The refused write left no audit entry either.
    expect((await f.call('GET', '/audit')).body.entries).toEqual([]);

    await writeFile(f.file, original);
    const again = await f.call('POST', '/flags', { body: newFlag });
    expect(again.status).toBe(201);
    const doc = JSON.parse(await f.readText()) as typeof FLAGS;
    expect(Object.keys(doc.flags)).toEqual(['new-checkout', 'banner', 'dark-mode']);
    await eventually(async () => (await ofrepStatus(f.daemon.ports.ofrep, 'dark-mode')) === 200);
    expect(await ofrepStatus(f.daemon.ports.ofrep, 'banner')).toBe(200);
  });

  it('refuses a write while the file holds a document the daemon refused, naming the way out', async () => {
    const f = await up();
    // Valid JSON the engine refuses (a flag that is not an object): the daemon keeps the old flags.
    await writeFile(f.file, '{"flags": {"x": 5}}\n');
    await f.daemon.waitForLog((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('refused flag set'));
    const created = await f.call('POST', '/flags', { body: newFlag });
    expect(created.status).toBe(503);
    expect(created.body.error.code).toBe('SOURCE_OF_TRUTH_MISMATCH');
    expect(created.body.error.message).toMatch(/refused it/);
    expect(await f.readText()).toBe('{"flags": {"x": 5}}\n');
    expect(await ofrepStatus(f.daemon.ports.ofrep, 'banner')).toBe(200);
  });

  it('lets consecutive writes through: each waits for the previous one to be served', async () => {
    const f = await up();
    for (const key of ['a1', 'a2', 'a3']) expect((await f.call('POST', '/flags', { body: { ...newFlag, key } })).status).toBe(201);
    const doc = JSON.parse(await f.readText()) as typeof FLAGS;
    expect(Object.keys(doc.flags)).toEqual(['new-checkout', 'banner', 'a1', 'a2', 'a3']);
  });

  it('creates the flag file when the daemon serves nothing from it yet (first run)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-first-'));
    const file = join(dir, 'flags.json');
    const d = await startDaemon(['-f', `file:${file}`], { ready: false });
    try {
      const res = await fetch(`http://127.0.0.1:${d.ports.management}/api/v1/flags`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(newFlag),
      });
      expect(res.status).toBe(201);
      expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as typeof FLAGS).flags)).toEqual(['dark-mode']);
    } finally {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('management API: an S3 admin source whose object went missing', () => {
  it('refuses writes with 503 SOURCE_OF_TRUTH_MISMATCH while the object is gone, and writes once it is back', async () => {
    const s3 = await startS3rver('vexil-hardening-s3-');
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
    const dir = await mkdtemp(join(tmpdir(), 'vexil-s3-admin-'));
    const body = `${JSON.stringify(FLAGS)}\n`;
    await client.send(new PutObjectCommand({ Bucket: 'flags', Key: 'flags.json', Body: body }));
    const uri = 's3://flags/flags.json';
    const sources = JSON.stringify([{ uri, provider: 's3', interval: 1, endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' }]);
    const d = await startDaemon(['-s', sources, '--admin-source', uri, '--audit-log', join(dir, 'audit.jsonl')], {
      env: { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey },
    });
    const create = (key: string) =>
      fetch(`http://127.0.0.1:${d.ports.management}/api/v1/flags`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...newFlag, key }) });
    try {
      await client.send(new DeleteObjectCommand({ Bucket: 'flags', Key: 'flags.json' }));
      const refused = await create('dark-mode');
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SOURCE_OF_TRUTH_MISMATCH');
      await expect(client.send(new HeadObjectCommand({ Bucket: 'flags', Key: 'flags.json' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      expect(await ofrepStatus(d.ports.ofrep, 'banner')).toBe(200);

      await client.send(new PutObjectCommand({ Bucket: 'flags', Key: 'flags.json', Body: body }));
      const created = await create('dark-mode');
      expect(created.status).toBe(201);
      await eventually(async () => (await ofrepStatus(d.ports.ofrep, 'dark-mode')) === 200);
      expect(await ofrepStatus(d.ports.ofrep, 'new-checkout')).toBe(200);
    } finally {
      await d.stop();
      client.destroy();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('admin repositories: the parsed document is reused until the source changes', () => {
  it('FileRepository answers the same snapshot while the file is unchanged and a new one after any edit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-repo-'));
    try {
      const file = join(dir, 'flags.json');
      await writeFile(file, `${JSON.stringify(FLAGS)}\n`);
      const repo = new FileRepository(`file:${file}`);
      const first = await repo.read();
      expect(await repo.read()).toBe(first);
      // Same size, same second: only the identity (mtime/ctime in ns, inode) tells the edit apart.
      await writeFile(file, `${JSON.stringify(FLAGS).replace('"off"', '"on" ')}\n`);
      const second = await repo.read();
      expect(second).not.toBe(first);
      expect(second.version).not.toBe(first.version);
      await rm(file);
      expect((await repo.read()).missing).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 SOURCE_UNAVAILABLE for an unparseable admin file with its position, never its content', async () => {
    const f = await up();
    await writeFile(f.file, '{"flags": {"x": "SECRET-hunter2" oops}}\n');
    await f.daemon.waitForLog((l) => l['reason'] === 'parse_error');
    const res = await f.call('GET', '/flags');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('SOURCE_UNAVAILABLE');
    expect(res.body.error.message).toMatch(/line 1, column \d+/);
    expect(res.body.error.message).not.toContain('SECRET');
  });
});

describe('management API: paged list', () => {
  const many = { flags: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f${String(i).padStart(2, '0')}`, { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' }])) };

  it('pages with limit and an opaque cursor in document order, and without limit answers as before', async () => {
    const f = await up([], { flags: many });
    const whole = await f.call('GET', '/flags');
    expect(whole.status).toBe(200);
    expect(whole.body.flags).toHaveLength(25);
    expect(whole.body.nextCursor).toBeUndefined();

    const keys: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await f.call('GET', `/flags?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.version).toBe(whole.body.version);
      keys.push(...page.body.flags.map((x: { key: string }) => x.key));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(keys).toEqual(Object.keys(many.flags));

    // Filters apply before paging.
    const filtered = await f.call('GET', '/flags?limit=2&q=f1');
    expect(filtered.body.flags.map((x: { key: string }) => x.key)).toEqual(['f10', 'f11']);
    expect(filtered.body.nextCursor).toEqual(expect.any(String));
  });

  it('continues after the last key when the flag set changed between pages, and refuses a forged cursor', async () => {
    const f = await up([], { flags: many });
    const first = await f.call('GET', '/flags?limit=5');
    expect((await f.call('POST', '/flags', { body: { ...newFlag, key: 'z-new' } })).status).toBe(201);
    const second = await f.call('GET', `/flags?limit=100&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.status).toBe(200);
    expect(second.body.flags[0].key).toBe('f05');
    expect(second.body.flags.at(-1).key).toBe('z-new');

    const bad = await f.call('GET', '/flags?cursor=bm90LWEtY3Vyc29y');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
    expect((await f.call('GET', '/flags?limit=0')).status).toBe(400);
    expect((await f.call('GET', '/flags?limit=5001')).status).toBe(400);
  });

  it('the dashboard follows every page: it shows all 5,003 flags of a set larger than one page', async () => {
    const big = { flags: Object.fromEntries(Array.from({ length: 5003 }, (_, i) => [`b${i}`, { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' }])) };
    const f = await up([], { flags: big });
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      const lists: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/api/v1/flags?')) lists.push(r.url());
      });
      await page.goto(`${f.base}/`);
      await page.locator('[data-testid="flag-count"]', { hasText: '5003 flags' }).waitFor({ timeout: 30_000 });
      expect(lists).toHaveLength(2);
      expect(lists[1]).toContain('cursor=');
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('sees a hand edit on the next read (the parsed document is cached by the file identity)', async () => {
    const f = await up();
    expect((await f.call('GET', '/flags')).body.flags).toHaveLength(2);
    await writeFile(f.file, `${JSON.stringify({ flags: { only: { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' } } })}\n`);
    expect((await f.call('GET', '/flags')).body.flags.map((x: { key: string }) => x.key)).toEqual(['only']);
  });
});

describe('sources: a flag file that fails to parse is never quoted in the log', () => {
  const daemons: DaemonProcess[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  for (const [name, text] of [
    ['flags.json', 'root:x:0:0:SECRET-hunter2-token:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n'],
    ['flags.json', '{"flags": {"x": "SECRET-hunter2-token" oops}}'],
    ['flags.yaml', 'flags:\n  a: [1, 2\nsecret: SECRET-hunter2-token\n'],
    ['flags', 'password: "SECRET-hunter2-token\n'],
  ] as const) {
    it(`names ${name} and the position, not the content (${JSON.stringify(text.slice(0, 12))}...)`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'vexil-leak-'));
      dirs.push(dir);
      const file = join(dir, name);
      await writeFile(file, text);
      const d = await startDaemon(['-f', `file:${file}`], { ready: false });
      daemons.push(d);
      const line = await d.waitForLog((l) => l['reason'] === 'parse_error');
      expect(line['msg']).toContain(file);
      expect(line['msg']).toMatch(/line \d+, column \d+/);
      const all = JSON.stringify(d.logs);
      expect(all).not.toContain('SECRET');
      expect(all).not.toContain('hunter2');
      expect(all).not.toContain('root:x');
    });
  }

  it('shows a short escaped excerpt at debug level only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-leak-'));
    dirs.push(dir);
    const file = join(dir, 'flags.json');
    await writeFile(file, `{"flags": {"x": 1 oops ${'y'.repeat(200)}}}`);
    const d = await startDaemon(['-f', `file:${file}`, '--debug'], { ready: false });
    daemons.push(d);
    const debug = await d.waitForLog((l) => l['excerpt'] !== undefined);
    expect((debug['excerpt'] as string).length).toBeLessThan(60);
    const error = await d.waitForLog((l) => l['reason'] === 'parse_error' && l['excerpt'] === undefined);
    expect(error['msg']).not.toContain('oops');
  });
});

describe('audit log: keyed chain and signed checkpoints', () => {
  const run = runVexil;
  const K1 = `k1 ${'a'.repeat(40)}`;
  const K2 = `k2 ${'b'.repeat(40)}`;
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  /** What someone who can write the log but lacks the key can do: recompute plain hashes from `from` on. */
  const rechain = (lines: Record<string, unknown>[], opts: { stripKid: boolean; from?: number }) => {
    let prev = '0'.repeat(64);
    return lines.map((e, i) => {
      if (i < (opts.from ?? 0)) {
        prev = e['hash'] as string;
        return JSON.stringify(e);
      }
      const { hash: _h, kid, ...rest } = e;
      const entry: Record<string, unknown> = { ...rest, prev, ...(opts.stripKid || kid === undefined ? {} : { kid }) };
      entry['hash'] = sha256(JSON.stringify(entry));
      prev = entry['hash'] as string;
      return JSON.stringify(entry);
    });
  };

  async function keyed(keyText: string, extra: string[] = []) {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-keys-'));
    const keyFile = join(dir, 'audit.keys');
    await writeFile(keyFile, `# audit keys, newest last\n${keyText}\n`, { mode: 0o600 });
    const f = await up(['--audit-key-file', keyFile, ...extra]);
    const log = join(f.dir, 'vexil-audit.jsonl');
    const verify = (keys = keyFile) => run(['audit', 'verify', '--audit-log', log, '--audit-key-file', keys]);
    const entries = async () => (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    return { f, dir, keyFile, log, verify, entries };
  }

  it('writes HMAC entries named by kid and a checkpoint; verify passes, and fails without the key', async () => {
    const { f, log, verify, entries } = await keyed(K1);
    for (const key of ['a1', 'a2', 'a3']) expect((await f.call('POST', '/flags', { body: { ...newFlag, key } })).status).toBe(201);
    const all = await entries();
    expect(all.map((e) => e['kid'])).toEqual(['k1', 'k1', 'k1']);
    expect((await f.call('GET', '/audit')).body.entries[0]).toMatchObject({ seq: 3, kid: 'k1', hash: all[2]['hash'] });
    const checkpoint = JSON.parse(await readFile(`${log}.checkpoint`, 'utf8')) as Record<string, unknown>;
    expect(checkpoint).toMatchObject({ seq: 3, hash: all[2]['hash'], kid: 'k1' });
    const ok = await verify();
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('3 entries, chain intact (3 keyed)');
    expect(ok.stdout).toContain('checkpoint at seq 3 matches');
    const keyless = await run(['audit', 'verify', '--audit-log', log]);
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain('give the key file');
  });

  it('detects an edited entry whose hashes were all recomputed, naming its seq', async () => {
    const { f, log, verify, entries } = await keyed(K1);
    for (const key of ['a1', 'a2', 'a3']) await f.call('POST', '/flags', { body: { ...newFlag, key } });
    const all = await entries();
    all[1]['actor'] = 'mallory';
    // Keeping kid: seq 2's hash is no HMAC under k1.
    await writeFile(log, `${rechain(all, { stripKid: false, from: 1 }).join('\n')}\n`);
    const kept = await verify();
    expect(kept.code).toBe(1);
    expect(kept.stderr).toContain('(seq 2)');
    // Dropping kid everywhere (a valid plain chain): the checkpoint's hash no longer matches.
    await writeFile(log, `${rechain(all, { stripKid: true }).join('\n')}\n`);
    const stripped = await verify();
    expect(stripped.code).toBe(1);
    expect(stripped.stderr).toMatch(/seq 3.*differs from the checkpoint/);
  });

  it('detects lines deleted from the end (the checkpoint is ahead), and the daemon refuses to append to such a log', async () => {
    const { f, log, verify } = await keyed(K1);
    for (const key of ['a1', 'a2', 'a3']) await f.call('POST', '/flags', { body: { ...newFlag, key } });
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    await writeFile(log, `${lines.slice(0, 1).join('\n')}\n`);
    const cut = await verify();
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('the log ends at seq 1 but the checkpoint records seq 3');
    const before = await f.readText();
    const write = await f.call('POST', '/flags', { body: { ...newFlag, key: 'a4' } });
    expect(write.status).toBe(503);
    expect(write.body.error.code).toBe('AUDIT_UNAVAILABLE');
    expect(write.body.error.message).toContain('removed from the end');
    expect(await f.readText()).toBe(before);
    // Deleting the whole log is the same cut: no new chain starts over the checkpoint.
    await rm(log);
    const fresh = await f.call('POST', '/flags', { body: { ...newFlag, key: 'a5' } });
    expect(fresh.status).toBe(503);
    expect(fresh.body.error.code).toBe('AUDIT_UNAVAILABLE');
    await expect(readFile(log, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rotates keys: new entries use the newest, verify accepts every listed key, and old unkeyed entries are reported', async () => {
    const { f, dir, keyFile, log } = await keyed(K1);
    // An older log written without a key: its entries stay valid, reported as unkeyed.
    await f.daemon.stop();
    const plain = rechain(
      [{ seq: 1, time: new Date().toISOString(), actor: 'old', action: 'kill', flag: 'banner', before: null, after: null, version: '"x"' }],
      { stripKid: true },
    );
    await writeFile(log, `${plain.join('\n')}\n`);
    const g = await up(['--audit-key-file', keyFile], { text: await f.readText() });
    const glog = join(g.dir, 'vexil-audit.jsonl');
    await writeFile(glog, `${plain.join('\n')}\n`);
    await g.call('POST', '/flags', { body: { ...newFlag, key: 'a1' } });
    await g.daemon.stop();
    await writeFile(keyFile, `${K1}\n${K2}\n`);
    const h = await up(['--audit-key-file', keyFile, '--audit-log', glog], { text: await g.readText() });
    await h.call('POST', '/flags', { body: { ...newFlag, key: 'a2' } });
    const kids = (await readFile(glog, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { kid?: string }).kid);
    expect(kids).toEqual([undefined, 'k1', 'k2']);
    const ok = await run(['audit', 'verify', '--audit-log', glog, '--audit-key-file', keyFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('3 entries, chain intact (2 keyed, 1 unkeyed');
    const onlyNew = join(dir, 'new.keys');
    await writeFile(onlyNew, `${K2}\n`);
    const missingOld = await run(['audit', 'verify', '--audit-log', glog, '--audit-key-file', onlyNew]);
    expect(missingOld.code).toBe(1);
    expect(missingOld.stderr).toContain('key "k1" is not in the key file');
  });

  it('refuses a malformed key file in vexil audit verify, naming the file and line but not the secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vexil-keys-'));
    const keyFile = join(dir, 'audit.keys');
    await writeFile(keyFile, 'k1 short-secret\n');
    const r = await run(['audit', 'verify', '--audit-log', join(dir, 'none.jsonl'), '--audit-key-file', keyFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${keyFile} line 1`);
    expect(r.stderr).not.toContain('short-secret');
    await rm(dir, { recursive: true, force: true });
  });
});
