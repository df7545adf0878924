import { chmod, mkdir, mkdtemp, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileSource, classifyFsError } from '../src/sources/file/file-source.js';
import { filePathOf } from '../src/sources/uri.js';
import type { SourceData, SourceFailure, SourceListener } from '../src/sources/source.js';

// A listener whose `data`/`error` are functions, with the records kept beside it.
function listen(): { listener: SourceListener; data: (SourceData & { at: number })[]; errors: SourceFailure[] } {
  const data: (SourceData & { at: number })[] = [];
  const errors: SourceFailure[] = [];
  return {
    data,
    errors,
    listener: {
      data: (update) => void data.push({ ...update, at: performance.now() }),
      error: (failure) => void errors.push(failure),
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = (check: () => void, timeout = 3_000) => vi.waitFor(check, { timeout, interval: 5 });

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Re-stat far beyond any wait: what these tests see, the watchers delivered. */
const WATCH_ONLY = { pollIntervalMs: 60_000 };

const doc = (value: string) => JSON.stringify({ flags: { f: { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' } } });

let dir: string;
const sources: FileSource[] = [];

function source(path: string, options: ConstructorParameters<typeof FileSource>[1] = {}): FileSource {
  const s = new FileSource({ uri: `file:${path}`, provider: 'file' }, options);
  sources.push(s);
  return s;
}

/** Writes, then waits for the source to deliver it; logs the latency. */
async function changeAndMeasure(
  label: string,
  events: ReturnType<typeof listen>,
  change: () => Promise<void>,
  expected: string,
): Promise<void> {
  const before = events.data.length;
  const t0 = performance.now();
  await change();
  await waitFor(() => expect(events.data.length).toBeGreaterThan(before));
  const got = events.data[events.data.length - 1];
  expect(got.data).toBe(expected);
  console.info(`file source latency (${label}): ${(got.at - t0).toFixed(1)} ms`);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vexil-file-source-'));
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('file source', () => {
  it('reads the file at start, with the configured uri as the source', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const events = listen();
    const s = source(path);
    await s.start(events.listener);
    expect(events.errors).toEqual([]);
    expect(events.data).toHaveLength(1);
    expect(events.data[0].source).toBe(`file:${path}`);
    expect(events.data[0].data).toBe(doc('a'));
    expect(events.data[0].version).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('resolves file: uris, file:// urls and bare paths', () => {
    expect(filePathOf('file:/etc/flags.json')).toBe('/etc/flags.json');
    expect(filePathOf('file:///etc/flags.json')).toBe('/etc/flags.json');
    expect(filePathOf('file:config/flags.json')).toBe(join(process.cwd(), 'config/flags.json'));
    expect(filePathOf('config/flags.json')).toBe(join(process.cwd(), 'config/flags.json'));
    expect(() => filePathOf('file:')).toThrow(/no path/);
  });

  it('sees in-place writes', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const events = listen();
    await source(path, WATCH_ONLY).start(events.listener);
    await changeAndMeasure('in-place write', events, () => writeFile(path, doc('b')), doc('b'));
    await changeAndMeasure('in-place write, same size', events, () => writeFile(path, doc('c')), doc('c'));
    expect(events.errors).toEqual([]);
  });

  it('sees an atomic rename over the file', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const events = listen();
    await source(path, WATCH_ONLY).start(events.listener);
    for (const value of ['b', 'c', 'd']) {
      await changeAndMeasure('atomic rename', events, async () => {
        const tmp = join(dir, `.flags.json.${value}.tmp`);
        await writeFile(tmp, doc(value));
        await rename(tmp, path);
      }, doc(value));
    }
    expect(events.errors).toEqual([]);
  });

  it('reports a deleted file as not_found, keeps the data, and picks the file up when re-created', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const events = listen();
    await source(path, WATCH_ONLY).start(events.listener);
    await unlink(path);
    await waitFor(() => expect(events.errors.map((e) => e.reason)).toEqual(['not_found']));
    expect(events.errors[0].source).toBe(`file:${path}`);
    expect(events.data).toHaveLength(1);
    await changeAndMeasure('re-created', events, () => writeFile(path, doc('b')), doc('b'));
    await changeAndMeasure('in-place write after re-creation', events, () => writeFile(path, doc('c')), doc('c'));
    expect(events.errors).toHaveLength(1);
  });

  it('follows Kubernetes ConfigMap style ..data symlink swaps', async () => {
    // <dir>/flags.json -> ..data/flags.json, ..data -> ..<timestamp>, swapped by renaming a new symlink.
    const publish = async (stamp: string, value: string) => {
      await mkdir(join(dir, stamp));
      await writeFile(join(dir, stamp, 'flags.json'), doc(value));
      await symlink(stamp, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    await publish('..2024_01_01_00_00_00.1', 'a');
    await symlink('..data/flags.json', join(dir, 'flags.json'));
    const path = join(dir, 'flags.json');
    const events = listen();
    await source(path, WATCH_ONLY).start(events.listener);
    expect(events.data.map((d) => d.data)).toEqual([doc('a')]);

    let previous = '..2024_01_01_00_00_00.1';
    for (const [i, value] of ['b', 'c', 'd'].entries()) {
      const stamp = `..2024_01_01_00_00_0${i + 1}.1`;
      await changeAndMeasure('configmap swap', events, async () => {
        await publish(stamp, value);
        await rm(join(dir, previous), { recursive: true });
      }, doc(value));
      previous = stamp;
    }
    expect(events.errors).toEqual([]);
  });

  it('follows a symlink to another directory, including atomic renames there', async () => {
    await mkdir(join(dir, 'target'));
    await mkdir(join(dir, 'link'));
    const target = join(dir, 'target', 'flags.json');
    await writeFile(target, doc('a'));
    await symlink('../target/flags.json', join(dir, 'link', 'flags.json'));
    const path = join(dir, 'link', 'flags.json');
    const events = listen();
    await source(path, WATCH_ONLY).start(events.listener);
    expect(events.data.map((d) => d.data)).toEqual([doc('a')]);
    await changeAndMeasure('symlink target in-place', events, () => writeFile(target, doc('b')), doc('b'));
    await changeAndMeasure('symlink target renamed over', events, async () => {
      await writeFile(join(dir, 'target', 'tmp'), doc('c'));
      await rename(join(dir, 'target', 'tmp'), target);
    }, doc('c'));
    await changeAndMeasure('symlink re-pointed', events, async () => {
      await writeFile(join(dir, 'target', 'other.json'), doc('d'));
      await symlink('../target/other.json', join(dir, 'link', 'tmp-link'));
      await rename(join(dir, 'link', 'tmp-link'), path);
    }, doc('d'));
    await changeAndMeasure('new symlink target in-place', events, () => writeFile(join(dir, 'target', 'other.json'), doc('e')), doc('e'));
    expect(events.errors).toEqual([]);
  });

  it('converts YAML files to JSON text', async () => {
    const path = join(dir, 'flags.yaml');
    await writeFile(path, 'flags:\n  f:\n    state: ENABLED\n    variants:\n      "on": true\n      "off": false\n    defaultVariant: "on"\n');
    const events = listen();
    await source(path).start(events.listener);
    expect(events.errors).toEqual([]);
    expect(JSON.parse(events.data[0].data)).toEqual({
      flags: { f: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' } },
    });
    await changeAndMeasure('yaml edit', events, () => writeFile(path, 'flags: {}\n'), '{"flags":{}}');
  });

  it('reports invalid YAML as parse_error and never hands over empty data', async () => {
    const path = join(dir, 'flags.yml');
    await writeFile(path, 'flags: {}\n');
    const events = listen();
    await source(path, { pollIntervalMs: 50 }).start(events.listener);
    expect(events.data).toHaveLength(1);

    await writeFile(path, 'flags: [unclosed\n  - : :\n');
    await waitFor(() => expect(events.errors.map((e) => e.reason)).toEqual(['parse_error']));
    expect(events.errors[0].message).toMatch(/invalid YAML/);

    await writeFile(path, '');
    await waitFor(() => expect(events.errors.map((e) => e.reason)).toEqual(['parse_error', 'parse_error']));
    expect(events.errors[1].message).toMatch(/empty/);

    await sleep(200); // several re-stat ticks: a broken file is reported once per state, not every tick
    expect(events.errors).toHaveLength(2);
    expect(events.data).toHaveLength(1);

    await changeAndMeasure('fixed yaml', events, () => writeFile(path, 'flags:\n  g: {}\n'), '{"flags":{"g":{}}}');
  });

  it('reports invalid JSON in a .json file as parse_error', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, '{"flags": {,}');
    const events = listen();
    await source(path).start(events.listener);
    expect(events.data).toEqual([]);
    expect(events.errors.map((e) => e.reason)).toEqual(['parse_error']);
    expect(events.errors[0].message).toMatch(/invalid JSON/);
  });

  it('reads JSON or YAML from a file without a known extension', async () => {
    const path = join(dir, 'flags');
    await writeFile(path, 'flags: {}');
    const events = listen();
    await source(path).start(events.listener);
    expect(events.data.map((d) => d.data)).toEqual(['{"flags":{}}']);
    await changeAndMeasure('json, no extension', events, () => writeFile(path, '{ "flags": {} }'), '{ "flags": {} }');
  });

  it('reports a missing file as not_found at start and picks it up when created', async () => {
    const path = join(dir, 'flags.json');
    const events = listen();
    await source(path).start(events.listener);
    expect(events.data).toEqual([]);
    expect(events.errors.map((e) => e.reason)).toEqual(['not_found']);
    await changeAndMeasure('created after start', events, () => writeFile(path, doc('a')), doc('a'));
    expect(events.errors).toHaveLength(1);
  });

  it('picks up a file whose directory did not exist at start (re-stat fallback)', async () => {
    const path = join(dir, 'later', 'flags.json');
    const events = listen();
    await source(path, { pollIntervalMs: 100 }).start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['not_found']);
    await mkdir(join(dir, 'later'));
    await writeFile(path, doc('a'));
    await waitFor(() => expect(events.data.map((d) => d.data)).toEqual([doc('a')]));
    // Once the directory exists it is watched again, so the next change is seen promptly.
    await sleep(150);
    await changeAndMeasure('after directory creation', events, () => writeFile(path, doc('b')), doc('b'));
    expect(events.errors).toHaveLength(1);
  });

  it('notices changes through the re-stat alone when watching is off', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const events = listen();
    await source(path, { watch: false, pollIntervalMs: 50 }).start(events.listener);
    await changeAndMeasure('re-stat: in-place write', events, () => writeFile(path, doc('b')), doc('b'));
    await changeAndMeasure('re-stat: atomic rename', events, async () => {
      await writeFile(join(dir, 'tmp'), doc('c'));
      await rename(join(dir, 'tmp'), path);
    }, doc('c'));
    await unlink(path);
    await waitFor(() => expect(events.errors.map((e) => e.reason)).toEqual(['not_found']));
    await changeAndMeasure('re-stat: re-created', events, () => writeFile(path, doc('d')), doc('d'));
  });

  it('hands over data only when the content changed', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const events = listen();
    await source(path, { pollIntervalMs: 50 }).start(events.listener);
    await writeFile(path, doc('a'));
    await utimes(path, new Date(), new Date(Date.now() + 5_000));
    await sleep(200);
    expect(events.data).toHaveLength(1);
    expect(events.errors).toEqual([]);
  });

  it('ends with the last content after a burst of writes', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('start'));
    const events = listen();
    await source(path).start(events.listener);
    for (let i = 0; i < 50; i++) await writeFile(path, doc(`burst-${i}`.padEnd(8 + (i % 7), 'x')));
    const last = doc('burst-49'.padEnd(8 + (49 % 7), 'x'));
    await waitFor(() => expect(events.data[events.data.length - 1].data).toBe(last));
    // Coalesced: far fewer reads handed over than writes.
    console.info(`file source: ${events.data.length - 1} updates for 50 writes, errors: ${events.errors.length}`);
    expect(events.errors.filter((e) => e.reason !== 'parse_error')).toEqual([]);
  });

  it('classifies fs errors', () => {
    expect(classifyFsError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('not_found');
    expect(classifyFsError(Object.assign(new Error('x'), { code: 'ENOTDIR' }))).toBe('not_found');
    expect(classifyFsError(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('denied');
    expect(classifyFsError(Object.assign(new Error('x'), { code: 'EPERM' }))).toBe('denied');
    expect(classifyFsError(Object.assign(new Error('x'), { code: 'EIO' }))).toBe('read_error');
    expect(classifyFsError('weird')).toBe('read_error');
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file as denied', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    await chmod(path, 0o000);
    const events = listen();
    await source(path).start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['denied']);
  });

  it('reports a directory as read_error', async () => {
    const path = join(dir, 'flags.json');
    await mkdir(path);
    const events = listen();
    await source(path).start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['read_error']);
  });

  it('stop() closes watchers and timers: nothing fires afterwards', async () => {
    const path = join(dir, 'flags.json');
    await writeFile(path, doc('a'));
    const before = resourceCounts();
    const events = listen();
    const s = source(path, { pollIntervalMs: 20, debounceMs: 5 });
    await s.start(events.listener);
    const running = resourceCounts();
    expect(running.FSEventWrap ?? 0).toBeGreaterThan(before.FSEventWrap ?? 0);
    expect(running.Timeout ?? 0).toBeGreaterThan(before.Timeout ?? 0);

    await writeFile(path, doc('b')); // an event in flight while stopping
    await s.stop();
    const after = resourceCounts();
    expect(after.FSEventWrap ?? 0).toBe(before.FSEventWrap ?? 0);
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);

    const seen = events.data.length + events.errors.length;
    await writeFile(path, doc('c'));
    await unlink(path);
    await sleep(200);
    expect(events.data.length + events.errors.length).toBe(seen);
    await s.stop(); // idempotent
  });
});
