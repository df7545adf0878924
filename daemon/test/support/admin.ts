import { rm } from 'node:fs/promises';
import { afterEach } from 'vitest';
/** Helpers for the management API tests: a flag file in a temp dir, a daemon on it, JSON calls. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type DaemonProcess } from './daemon-process.js';

export const FLAGS = {
  flags: {
    'new-checkout': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
    banner: {
      state: 'ENABLED',
      variants: { red: 'red', blue: 'blue' },
      defaultVariant: 'red',
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'blue', null] },
      metadata: { description: 'Homepage banner colour' },
    },
  },
  metadata: { flagSetId: 'shop' },
};

export interface AdminFixture {
  readonly dir: string;
  readonly file: string;
  readonly daemon: DaemonProcess;
  readonly base: string;
  call(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; headers: Headers; body: any }>;
  readText(): Promise<string>;
}

export async function adminFixture(args: string[] = [], options: { flags?: unknown; text?: string; name?: string; token?: string } = {}): Promise<AdminFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'vexil-admin-'));
  const file = join(dir, options.name ?? 'flags.json');
  await writeFile(file, options.text ?? `${JSON.stringify(options.flags ?? FLAGS, null, 2)}\n`);
  const daemon = await startDaemon(['-f', `file:${file}`, ...args]);
  const base = `http://127.0.0.1:${daemon.ports.management}`;
  return {
    dir,
    file,
    daemon,
    base,
    async call(method, path, o = {}) {
      // X-Vexil-Request: state-changing calls need it or a JSON body (docs/management-api.md).
      const headers: Record<string, string> = { 'x-vexil-request': 'test', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...o.headers };
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${base}/api/v1${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    readText: () => readFile(file, 'utf8'),
  };
}

/**
 * Registers an afterEach that stops every daemon started through the returned function and
 * removes its directory; call once at the top of a spec file.
 */
export function useAdminFixtures(): (...a: Parameters<typeof adminFixture>) => Promise<AdminFixture> {
  const fixtures: AdminFixture[] = [];
  afterEach(async () => {
    for (const f of fixtures.splice(0)) {
      await f.daemon.stop();
      await rm(f.dir, { recursive: true, force: true });
    }
  });
  return async (...a) => {
    const f = await adminFixture(...a);
    fixtures.push(f);
    return f;
  };
}
