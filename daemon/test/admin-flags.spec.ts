/**
 * The management API against a real daemon process and a real flag file: CRUD, validation
 * (nothing written on a bad rule or schema violation), optimistic concurrency (412, no lost
 * update), hand edits, kill, archive/restore, idempotency, body limit, YAML sources.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FLAGS, useAdminFixtures, type AdminFixture } from './support/admin.js';
import { eventually } from './support/daemon-process.js';

const up = useAdminFixtures();

async function ofrep(f: AdminFixture, key: string, context: object = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://127.0.0.1:${f.daemon.ports.ofrep}/ofrep/v1/evaluate/flags/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context }),
  });
  return { status: r.status, body: await r.json() };
}

const newFlag = { key: 'dark-mode', state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' };

describe('management API: flags', () => {
  it('lists, gets, creates, replaces, patches and deletes flags, writing the flag file the daemon serves', async () => {
    const f = await up();
    const list = await f.call('GET', '/flags');
    expect(list.status).toBe(200);
    expect(list.body.flags.map((x: { key: string }) => x.key)).toEqual(['new-checkout', 'banner']);
    expect(list.body.flags[0]).toMatchObject({ key: 'new-checkout', flagSetId: 'shop', state: 'ENABLED', version: expect.stringMatching(/^"[0-9a-f]{64}"$/) });
    expect(list.body.version).toMatch(/^"[0-9a-f]{64}"$/);
    expect((await f.call('GET', '/flags?q=homepage')).body.flags.map((x: { key: string }) => x.key)).toEqual(['banner']);
    expect((await f.call('GET', '/flags?flagSet=other')).body.flags).toEqual([]);

    const created = await f.call('POST', '/flags', { body: newFlag });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe(created.body.version);
    expect(created.body).toMatchObject({ ...newFlag, flagSetId: 'shop', metadata: { owner: 'local', createdAt: expect.any(String), updatedAt: expect.any(String) } });
    expect(JSON.parse(await f.readText()).flags['dark-mode']).toMatchObject({ state: 'ENABLED', defaultVariant: 'on' });
    await eventually(async () => (await ofrep(f, 'dark-mode')).body.value === true);
    expect((await f.call('POST', '/flags', { body: newFlag })).body.error.code).toBe('FLAG_EXISTS');

    const got = await f.call('GET', '/flags/dark-mode');
    expect(got.headers.get('etag')).toBe(created.body.version);

    const replaced = await f.call('PUT', '/flags/dark-mode', {
      body: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
      headers: { 'if-match': got.body.version },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata.createdAt).toBe(created.body.metadata.createdAt);
    await eventually(async () => (await ofrep(f, 'dark-mode')).body.value === false);

    const patched = await f.call('PATCH', '/flags/dark-mode', {
      raw: JSON.stringify({ defaultVariant: 'on', metadata: { description: 'dark theme' } }),
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': replaced.body.version },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ defaultVariant: 'on', metadata: { description: 'dark theme', owner: 'local' } });
    const unset = await f.call('PATCH', '/flags/dark-mode', { body: { metadata: { description: null } }, headers: { 'if-match': patched.body.version } });
    expect(unset.body.metadata.description).toBeUndefined();

    expect((await f.call('PUT', '/flags/dark-mode', { body: newFlag })).status).toBe(428);
    expect((await f.call('DELETE', '/flags/dark-mode')).body.error.code).toBe('PRECONDITION_REQUIRED');
    const deleted = await f.call('DELETE', '/flags/dark-mode', { headers: { 'if-match': unset.body.version } });
    expect(deleted.status).toBe(204);
    expect(JSON.parse(await f.readText()).flags['dark-mode']).toBeUndefined();
    expect((await f.call('GET', '/flags/dark-mode')).status).toBe(404);
  });

  it.each([
    ['an unknown JSON Logic operator', { ...newFlag, targeting: { bogus_op: [1] } }, '$.flags["dark-mode"].targeting', 'INVALID_TARGETING'],
    ['a default variant that is not a variant', { ...newFlag, defaultVariant: 'maybe' }, '$.flags["dark-mode"].defaultVariant', 'DEFAULT_VARIANT_NOT_FOUND'],
    ['mixed variant types', { ...newFlag, variants: { on: true, off: 'no' } }, '$.flags["dark-mode"]', undefined],
    ['a state flagd does not know (schema)', { ...newFlag, state: 'ON' }, '$.state', undefined],
    ['an unknown field (schema)', { ...newFlag, colour: 'red' }, '$.colour', undefined],
    ['a missing variants field (schema)', { key: 'dark-mode', state: 'ENABLED' }, '$', undefined],
  ])('refuses %s with 400 INVALID_FLAG and its path, leaving the file unchanged byte for byte', async (_name, body, path, engineCode) => {
    const f = await up();
    const before = await f.readText();
    const r = await f.call('POST', '/flags', { body });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_FLAG');
    expect(r.body.error.path.startsWith(path)).toBe(true);
    if (engineCode) expect(r.body.error.engineCode).toBe(engineCode);
    expect(await f.readText()).toBe(before);
    expect((await readdir(f.dir)).sort()).toEqual(['flags.json']);
  });

  it('refuses a patch that breaks a rule, and non-JSON bodies, with 400', async () => {
    const f = await up();
    const before = await f.readText();
    const v = (await f.call('GET', '/flags/banner')).body.version;
    const r = await f.call('PATCH', '/flags/banner', { body: { targeting: { if: [{ sem_ver: [1] }, 'blue'] }, defaultVariant: 'green' }, headers: { 'if-match': v } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_FLAG', path: expect.stringContaining('banner') });
    const removeVariants = await f.call('PATCH', '/flags/banner', { body: { variants: null }, headers: { 'if-match': v } });
    expect(removeVariants.status).toBe(400);
    const notJson = await f.call('POST', '/flags', { raw: '{"key":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('INVALID_REQUEST');
    expect(await f.readText()).toBe(before);
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over 256 KiB, writing nothing', async () => {
    const f = await up();
    const before = await f.readText();
    const r = await f.call('POST', '/flags', { body: { ...newFlag, metadata: { description: 'x'.repeat(300 * 1024) } } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await f.readText()).toBe(before);
  });

  it('lets exactly one of two concurrent PUTs with the same If-Match win; the other gets 412 with the current version', async () => {
    const f = await up();
    const v = (await f.call('GET', '/flags/new-checkout')).body.version;
    const put = (defaultVariant: string) =>
      f.call('PUT', '/flags/new-checkout', { body: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant }, headers: { 'if-match': v } });
    const results = await Promise.all([put('on'), put('off')]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 412]);
    const winner = results.find((r) => r.status === 200)!;
    const loser = results.find((r) => r.status === 412)!;
    expect(loser.body.error).toMatchObject({ code: 'VERSION_MISMATCH', current: winner.body.version });
    expect(JSON.parse(await f.readText()).flags['new-checkout'].defaultVariant).toBe(winner.body.defaultVariant);
    const audit = await f.call('GET', '/audit?flag=new-checkout');
    expect(audit.body.entries).toHaveLength(1);
  });

  it('keeps a hand edit made while the API writes: the stale side gets 412, a write to another flag keeps the edit', async () => {
    const f = await up();
    const v = (await f.call('GET', '/flags/new-checkout')).body.version;
    const vBanner = (await f.call('GET', '/flags/banner')).body.version;
    // By hand: new-checkout switched on, in a reformatted file.
    const edited = structuredClone(FLAGS) as typeof FLAGS;
    edited.flags['new-checkout'].defaultVariant = 'on';
    await writeFile(f.file, JSON.stringify(edited));
    const stale = await f.call('PATCH', '/flags/new-checkout', { body: { state: 'DISABLED' }, headers: { 'if-match': v } });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('VERSION_MISMATCH');
    expect(stale.body.error.current).not.toBe(v);
    expect(await f.readText()).toBe(JSON.stringify(edited));
    // The other flag's version did not change with the reformatting: the write goes through, the hand edit stays.
    const other = await f.call('PATCH', '/flags/banner', { body: { defaultVariant: 'blue' }, headers: { 'if-match': vBanner } });
    expect(other.status).toBe(200);
    const after = JSON.parse(await f.readText());
    expect(after.flags['new-checkout'].defaultVariant).toBe('on');
    expect(after.flags.banner.defaultVariant).toBe('blue');
  });

  it('kills a flag in one write (DISABLED, killedAt/killedBy), without If-Match, and the daemon serves it disabled', async () => {
    const f = await up();
    await eventually(async () => (await ofrep(f, 'banner', { email: 'a@example.com' })).body.value === 'blue');
    const killed = await f.call('POST', '/flags/banner/kill');
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({ state: 'DISABLED', metadata: { killedBy: 'local', killedAt: expect.any(String) } });
    await eventually(async () => (await ofrep(f, 'banner', { email: 'a@example.com' })).status === 404);
    const revived = await f.call('PATCH', '/flags/banner', { body: { state: 'ENABLED' }, headers: { 'if-match': killed.body.version } });
    expect(revived.body.state).toBe('ENABLED');
    expect((await f.call('POST', '/flags/nope/kill')).status).toBe(404);
  });

  it('archives (DISABLED, archived, previous state kept) and restores a flag; the list filters by state', async () => {
    const f = await up();
    const archived = await f.call('POST', '/flags/new-checkout/archive');
    expect(archived.body).toMatchObject({ state: 'DISABLED', metadata: { archived: true, archivedState: 'ENABLED' } });
    expect((await f.call('GET', '/flags?state=ARCHIVED')).body.flags.map((x: { key: string }) => x.key)).toEqual(['new-checkout']);
    expect((await f.call('GET', '/flags?state=ENABLED')).body.flags.map((x: { key: string }) => x.key)).toEqual(['banner']);
    expect((await f.call('POST', '/flags/new-checkout/restore', { headers: { 'if-match': '"stale"' } })).status).toBe(412);
    const restored = await f.call('POST', '/flags/new-checkout/restore', { headers: { 'if-match': archived.body.version } });
    expect(restored.body.state).toBe('ENABLED');
    expect(restored.body.metadata.archived).toBe(false);
    expect(restored.body.metadata.archivedState).toBeUndefined();
    expect((await f.call('GET', '/flags?state=BOGUS')).status).toBe(400);
  });

  it('replays a POST with the same Idempotency-Key and body without a second write; another body is 422', async () => {
    const f = await up();
    const headers = { 'idempotency-key': 'create-dark-mode-1' };
    const first = await f.call('POST', '/flags', { body: newFlag, headers });
    const second = await f.call('POST', '/flags', { body: newFlag, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const reused = await f.call('POST', '/flags', { body: { ...newFlag, key: 'other' }, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await f.call('GET', '/audit?action=create')).body.entries).toHaveLength(1);
  });

  it('reads YAML flag files but refuses to write them with 409 UNSUPPORTED_SOURCE', async () => {
    const f = await up([], { name: 'flags.yaml', text: 'flags:\n  a:\n    state: ENABLED\n    variants: { on: true }\n    defaultVariant: "on"\n' });
    expect((await f.call('GET', '/flags')).body.flags.map((x: { key: string }) => x.key)).toEqual(['a']);
    const r = await f.call('POST', '/flags/a/kill');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('UNSUPPORTED_SOURCE');
    expect(r.body.error.message).toMatch(/YAML/);
    expect(await readFile(f.file, 'utf8')).toContain('variants: { on: true }');
  });

  it('reports stale flags: single-variant, unchanged, and not evaluated, from the daemon’s evaluations', async () => {
    const f = await up();
    const old = structuredClone(FLAGS) as any;
    old.flags.banner.metadata.updatedAt = '2020-01-01T00:00:00Z';
    await writeFile(f.file, JSON.stringify(old));
    await eventually(async () => (await ofrep(f, 'banner')).status === 200);
    const r = await f.call('GET', '/stale?days=30');
    expect(r.status).toBe(200);
    const byKey = Object.fromEntries(r.body.flags.map((x: { key: string; reasons: string[] }) => [x.key, x]));
    expect(byKey['new-checkout'].reasons).toEqual(['single-variant']);
    expect(byKey['banner'].reasons).toEqual(['unchanged']);
    const zero = await f.call('GET', '/stale?days=0');
    const z = Object.fromEntries(zero.body.flags.map((x: { key: string; reasons: string[]; lastEvaluatedAt: string | null }) => [x.key, x]));
    expect(z['new-checkout'].reasons).toContain('not-evaluated');
    expect(z['new-checkout'].lastEvaluatedAt).toBeNull();
    expect(z['banner'].lastEvaluatedAt).toEqual(expect.any(String));
  });
});
