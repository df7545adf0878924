#!/usr/bin/env node
/**
 * The one place that knows what `npm test` needs from the machine besides `npm install` (issue 18).
 * `npm test` and .ci/run run this first: it finds each prerequisite, installs the missing ones when
 * it can (root with apt-get, as CI is), and otherwise stops before any suite runs with one message
 * naming each missing item and the command that installs it. A suite that found its tool missing
 * half-way through cost a new user 454 s; a suite that skipped itself would make a green run lie.
 *
 * Plain Node with no dependencies, because it runs before `tsc -b` and before `npm ci` in CI.
 * The browser test helpers import CHROMIUM_PATH from here, so the path checked is the path launched.
 *
 * Environment (read here only, since this is the process edge of the test run):
 *   VEXIL_CHROMIUM_PATH  the Chromium binary the browser tests launch (default /usr/bin/chromium)
 *   VEXIL_NO_INSTALL=1   report what is missing, never run apt-get (any value but empty or 0; the step's own test sets it)
 * Flags: --versions prints each found tool's version (CI logs).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Debian's Chromium, launched by playwright-core through its executablePath; playwright never
 * downloads a browser here, so a fixed path rather than PATH is what the tests depend on.
 */
export const CHROMIUM_PATH = process.env.VEXIL_CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH;

/**
 * Every system prerequisite of `npm test`. An entry is found by `path` (an executable file at that
 * exact place) or `command` (an executable of that name on PATH); `debian` is the package that
 * provides it there. PostgreSQL, Prometheus and an OTLP receiver join this table when their
 * issues land. Bench-only tools (h2load, wrk) are not here: bench/ checks those itself.
 */
export const PREREQUISITES = Object.freeze([
  Object.freeze({
    name: 'chromium',
    why: 'the headless browser that the web provider and dashboard browser tests drive through playwright-core',
    path: CHROMIUM_PATH,
    override: process.env.VEXIL_CHROMIUM_PATH ? 'VEXIL_CHROMIUM_PATH' : undefined,
    debian: 'chromium',
    versionArgs: ['--version'],
  }),
  Object.freeze({
    name: 'openssl',
    why: 'makes the throwaway TLS certificates of the daemon, server provider and conformance TLS tests',
    command: 'openssl',
    debian: 'openssl',
    versionArgs: ['version'],
  }),
]);

function isExecutableFile(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on `pathEnv`, as a shell would find it, or undefined. */
export function which(name, pathEnv = process.env.PATH ?? '') {
  for (const dir of pathEnv.split(delimiter)) {
    // An empty PATH entry means the current directory to a shell; a test run should not depend on it.
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, name);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

/** Where `entry` is on this machine, or undefined when it is missing. */
export function locate(entry, pathEnv = process.env.PATH ?? '') {
  if (entry.path) return isExecutableFile(entry.path) ? entry.path : undefined;
  return which(entry.command, pathEnv);
}

/** Node itself: npm only warns about `engines`, and an older Node fails suites in obscure ways. */
function nodeProblem() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const wanted = /^>=\s*(\d+)\.(\d+)/.exec(pkg.engines?.node ?? '');
  if (!wanted) return undefined;
  const [major, minor] = process.versions.node.split('.').map(Number);
  const [wantMajor, wantMinor] = [Number(wanted[1]), Number(wanted[2])];
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) return undefined;
  return `node ${pkg.engines.node} is required, this is ${process.version} (${process.execPath}); install a newer Node from https://nodejs.org/ or your distribution`;
}

/** The entries of `table` that are missing, checked against `pathEnv`. */
export function missingPrerequisites(table = PREREQUISITES, pathEnv = process.env.PATH ?? '') {
  return table.filter((entry) => locate(entry, pathEnv) === undefined);
}

/** The exact shell command that installs `packages` on Debian, with sudo unless we are root. */
export function installCommand(packages, root = process.getuid?.() === 0) {
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(' ')}`;
}

/** The one message printed when something is missing: each item, why it is needed, and the fix. */
export function missingMessage(missing, node) {
  const lines = ['vexil: npm test cannot run on this machine yet; no test suite has started.', 'Missing:'];
  if (node) lines.push(`  - ${node}`);
  for (const entry of missing) {
    const where = entry.path ? `no executable at ${entry.path}` : `no \`${entry.command}\` on PATH`;
    const set = entry.override ? ` (set by ${entry.override}; point it at the binary, or unset it and install the package)` : '';
    lines.push(`  - ${entry.name}: ${where}${set}; ${entry.why}`);
  }
  const packages = [...new Set(missing.map((entry) => entry.debian))];
  if (packages.length > 0) {
    lines.push('Install with (Debian/Ubuntu; elsewhere install the same packages from your distribution):');
    lines.push(`  ${installCommand(packages)}`);
  }
  return lines.join('\n');
}

/**
 * Installs the Debian packages of `missing` when that can work unattended: root, apt-get on PATH,
 * and not opted out. An overridden path is the caller's own binary, so a package would not fix it.
 * Returns 'skipped', 'failed' or 'installed'.
 */
function tryInstall(missing, env) {
  // Any value but empty or 0 opts out, so VEXIL_NO_INSTALL=true does not surprise anyone with an install.
  const optedOut = (env.VEXIL_NO_INSTALL ?? '') !== '' && env.VEXIL_NO_INSTALL !== '0';
  if (optedOut || process.getuid?.() !== 0) return 'skipped';
  const aptGet = which('apt-get', env.PATH ?? '');
  const packages = [...new Set(missing.filter((entry) => !entry.override).map((entry) => entry.debian))];
  if (!aptGet || packages.length === 0) return 'skipped';
  console.error(`vexil: installing ${packages.join(', ')} with apt-get (set VEXIL_NO_INSTALL=1 to only report)`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync(aptGet, ['update', '-qq'], { env: aptEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  if (update.status !== 0) return 'failed';
  // Waits for a dpkg lock held by another apt run (unattended upgrades, a parallel setup) instead of failing at once.
  const install = spawnSync(aptGet, ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', ...packages], {
    env: aptEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return install.status === 0 ? 'installed' : 'failed';
}

function versionOf(file, args) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : `(${file} ${args.join(' ')} failed)`;
}

/** Runs the step; returns the exit code. */
export function main(argv = process.argv.slice(2), env = process.env) {
  const node = nodeProblem();
  let missing = missingPrerequisites(PREREQUISITES, env.PATH ?? '');
  // Node cannot be apt-installed in a version we can promise, so it only ever gets reported.
  let install = 'skipped';
  if (missing.length > 0 && !node) install = tryInstall(missing, env);
  if (install === 'installed') missing = missingPrerequisites(PREREQUISITES, env.PATH ?? '');
  if (node || missing.length > 0) {
    if (install === 'failed') console.error('vexil: apt-get could not install them (its error is above).');
    console.error(missingMessage(missing, node));
    return 1;
  }
  const found = PREREQUISITES.map((entry) => {
    const file = locate(entry, env.PATH ?? '');
    return argv.includes('--versions') ? `${entry.name} ${file}: ${versionOf(file, entry.versionArgs)}` : `${entry.name} ${file}`;
  });
  console.log(`vexil: test prerequisites found: ${found.join('; ')}`);
  return 0;
}

function runDirectly() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (runDirectly()) process.exitCode = main();
