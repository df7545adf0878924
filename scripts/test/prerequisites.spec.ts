/**
 * The test-prerequisites step (scripts/prerequisites.mjs, issue 18) run as `npm test` runs it: a real
 * `node` process with PATH and VEXIL_CHROMIUM_PATH pointed at temp dirs, so a prerequisite can be
 * made unfindable (or present, as a stand-in executable) without touching the machine.
 * apt-get is the one stand-in for a system tool: a test must never install packages for real.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH as HARNESS_CHROMIUM_PATH } from '../../providers/web/test/browser/support/browser-harness.js';
import { CHROMIUM_PATH, PREREQUISITES } from '../prerequisites.mjs';

const SCRIPT = fileURLToPath(new URL('../prerequisites.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;

let dir: string;
let bin: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-prereq-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script at `file` that does `body`. */
function executable(file: string, body = 'echo stand-in 1.0'): string {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Runs the step with only `env` (nothing inherited, so the caller's VEXIL_* cannot leak in). */
function runStep(env: Record<string, string>, args: string[] = []) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { env: { PATH: bin, VEXIL_NO_INSTALL: '1', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

describe('test prerequisites step', () => {
  it('fails fast, before any suite, naming chromium and `apt-get install -y chromium` when Chromium is unfindable', () => {
    executable(join(bin, 'openssl'));
    const r = runStep({ VEXIL_CHROMIUM_PATH: join(dir, 'no-such-chromium') });
    expect(r.status).toBe(1);
    expect(r.ms).toBeLessThan(5_000);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no test suite has started');
    expect(r.stderr).toContain(`- chromium: no executable at ${join(dir, 'no-such-chromium')} (set by VEXIL_CHROMIUM_PATH`);
    expect(r.stderr).toMatch(/apt-get install -y chromium$/m);
    expect(r.stderr).not.toContain('- openssl');
  });

  it('reports a tool missing from PATH (openssl) with its own package', () => {
    const r = runStep({ VEXIL_CHROMIUM_PATH: executable(join(dir, 'chromium')) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('- openssl: no `openssl` on PATH');
    expect(r.stderr).toMatch(/apt-get install -y openssl$/m);
    expect(r.stderr).not.toContain('- chromium');
  });

  it('lists everything missing in one message with one install command', () => {
    const r = runStep({ VEXIL_CHROMIUM_PATH: join(dir, 'no-such-chromium') });
    expect(r.status).toBe(1);
    expect(r.stderr.match(/^vexil: npm test cannot run/gm)).toHaveLength(1);
    expect(r.stderr).toContain('- chromium:');
    expect(r.stderr).toContain('- openssl:');
    const installs = r.stderr.split('\n').filter((l) => l.includes('apt-get install'));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/apt-get update && (sudo )?apt-get install -y chromium openssl$/);
  });

  it('does not count a directory, a non-executable file or a relative PATH entry as found', () => {
    const plain = join(dir, 'chromium-not-executable');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    mkdirSync(join(dir, 'rel'));
    executable(join(dir, 'rel', 'openssl'));
    for (const chromium of [dir, plain]) {
      // Relative entries would depend on the cwd the step happens to run in, so they never count.
      const r = spawnSync(process.execPath, [SCRIPT], {
        cwd: dir,
        env: { PATH: `rel:${bin}`, VEXIL_NO_INSTALL: '1', VEXIL_CHROMIUM_PATH: chromium },
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`- chromium: no executable at ${chromium} `);
      expect(r.stderr).toContain('- openssl: no `openssl` on PATH');
    }
  });

  it('passes with every prerequisite found (stand-in chromium and openssl) and prints where each is', () => {
    const chromium = executable(join(dir, 'chromium'));
    const openssl = executable(join(bin, 'openssl'));
    const r = runStep({ VEXIL_CHROMIUM_PATH: chromium }, ['--versions']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`vexil: test prerequisites found: chromium ${chromium}: stand-in 1.0; openssl ${openssl}: stand-in 1.0\n`);
  });

  it('stops an `npm test`-style chain: nothing after the step runs when a prerequisite is missing', () => {
    const marker = join(dir, 'suite-ran');
    executable(join(bin, 'openssl'));
    const chain = (chromium: string) =>
      spawnSync('/bin/sh', ['-c', `"$NODE" "$SCRIPT" && "$NODE" -e "require('fs').writeFileSync(process.env.MARKER, '')"`], {
        env: { PATH: bin, VEXIL_NO_INSTALL: '1', VEXIL_CHROMIUM_PATH: chromium, NODE: process.execPath, SCRIPT, MARKER: marker },
        encoding: 'utf8',
      });

    const missing = chain(join(dir, 'no-such-chromium'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('- chromium:');
    expect(existsSync(marker)).toBe(false);

    // The same chain with Chromium present does reach the next command, so the check above is not vacuous.
    const found = chain(executable(join(dir, 'chromium')));
    expect(found.status).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('never runs apt-get with VEXIL_NO_INSTALL set (1, true), even as root with apt-get on PATH', () => {
    const log = join(dir, 'apt-get.log');
    executable(join(bin, 'apt-get'), `echo "$@" >> ${log}`);
    for (const optOut of ['1', 'true']) {
      const r = runStep({ VEXIL_CHROMIUM_PATH: executable(join(dir, 'chromium')), VEXIL_NO_INSTALL: optOut });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('- openssl:');
      expect(existsSync(log)).toBe(false);
    }
  });

  it('as root installs what is missing with apt-get, then passes; otherwise prints the sudo command and runs nothing', () => {
    const log = join(dir, 'apt-get.log');
    // Stands in for apt-get: records each call, and `install` provides the openssl package's binary.
    executable(join(bin, 'apt-get'), `echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> ${log}\n[ "$1" = install ] && printf '#!/bin/sh\\n' > ${bin}/openssl && /bin/chmod 755 ${bin}/openssl\nexit 0`);
    const r = runStep({ VEXIL_CHROMIUM_PATH: executable(join(dir, 'chromium')), VEXIL_NO_INSTALL: '' });
    if (isRoot) {
      expect(r.stderr).toContain('vexil: installing openssl with apt-get');
      expect(r.status).toBe(0);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
        'DEBIAN_FRONTEND=noninteractive update -qq',
        'DEBIAN_FRONTEND=noninteractive install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 openssl',
      ]);
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/sudo apt-get update && sudo apt-get install -y openssl$/m);
      expect(existsSync(log)).toBe(false);
    }
  });

  it('reports a failed apt-get install and still lists the command, exiting non-zero', () => {
    executable(join(bin, 'apt-get'), '[ "$1" = install ] && echo "E: Unable to locate package openssl" >&2 && exit 100\nexit 0');
    const r = runStep({ VEXIL_CHROMIUM_PATH: executable(join(dir, 'chromium')), VEXIL_NO_INSTALL: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('- openssl: no `openssl` on PATH');
    if (isRoot) expect(r.stderr).toContain('E: Unable to locate package openssl\nvexil: apt-get could not install them');
  });

  it('README lists exactly the prerequisites of the table, each with its install command', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const listed = [...readme.matchAll(/`sudo apt-get install -y ([\w.+-]+)`/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual(PREREQUISITES.map((p) => p.debian).sort());
  });

  it('is the one source of the Chromium path: the browser test harness launches what the step checks', () => {
    expect(HARNESS_CHROMIUM_PATH).toBe(CHROMIUM_PATH);
    expect(PREREQUISITES.find((p) => p.name === 'chromium')?.path).toBe(CHROMIUM_PATH);
  });
});
