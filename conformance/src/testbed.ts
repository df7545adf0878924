/**
 * Where the flagd testbed lives. It is shared data outside this repository, beside the checkout
 * (`../shared/flagd-testbed`). A clone made elsewhere (CI's clean clone, `git clone . /tmp/x`)
 * finds it beside the checkout it was cloned from. `FLAGD_TESTBED_DIR` overrides both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The local checkout this one was cloned from, if its origin is a path on this machine. */
function originCheckout(): string | undefined {
  try {
    const url = execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    return isAbsolute(path) && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function locate(): { dir: string; tried: string[] } {
  if (process.env.FLAGD_TESTBED_DIR) return { dir: resolve(process.env.FLAGD_TESTBED_DIR), tried: [] };
  const tried = [resolve(repoRoot, '../shared/flagd-testbed')];
  const origin = originCheckout();
  if (origin) tried.push(resolve(origin, '../shared/flagd-testbed'));
  return { dir: tried.find((d) => existsSync(d)) ?? tried[0], tried };
}

const located = locate();
export const TESTBED_DIR = located.dir;

/** An absolute path inside the testbed; throws if it does not exist, so a missing testbed fails. */
export function testbedPath(...segments: string[]): string {
  const path = resolve(TESTBED_DIR, ...segments);
  if (!existsSync(path)) {
    const where = located.tried.length > 0 ? ` (looked in ${located.tried.join(', ')})` : '';
    throw new Error(`flagd testbed file not found: ${path}${where}; set FLAGD_TESTBED_DIR to the testbed checkout`);
  }
  return path;
}
