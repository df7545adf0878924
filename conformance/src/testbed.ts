/**
 * Where the flagd testbed lives. It is shared data outside this repository
 * (`../shared/flagd-testbed` relative to the repo root); `FLAGD_TESTBED_DIR` overrides it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const TESTBED_DIR = process.env.FLAGD_TESTBED_DIR
  ? resolve(process.env.FLAGD_TESTBED_DIR)
  : resolve(repoRoot, '../shared/flagd-testbed');

/** An absolute path inside the testbed; throws if it does not exist, so a missing testbed fails. */
export function testbedPath(...segments: string[]): string {
  const path = resolve(TESTBED_DIR, ...segments);
  if (!existsSync(path)) {
    throw new Error(`flagd testbed file not found: ${path} (set FLAGD_TESTBED_DIR to the testbed checkout)`);
  }
  return path;
}
