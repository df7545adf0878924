/**
 * Runs the Vexil daemon as a real process the way the flagd testbed's control server ("launchpad")
 * runs flagd for the provider suites (`flagd-testbed/gherkin/*.feature`):
 *
 * - Flag files: every `flags/*.json` of the testbed except `selector-*` is deep-merged (in file-name
 *   order, later files win) into `<dir>/flags/allFlags.json`; the selector files are copied to
 *   `<dir>/rawflags/`. Scenarios select flag sets with selectors such as `flags/allFlags.json` and
 *   `rawflags/selector-flags.json`; the daemon matches a bare selector against the end of a file
 *   source's path, so these relative names pick the right source.
 * - Configurations (launchpad's `configs/<name>.json`), chosen by the "a <type> flagd provider" step:
 *   `default` (allFlags.json + selector-flags.json), `metadata` (allFlags.json +
 *   selector-flag-combined-metadata.json, kept apart so its flag set metadata cannot leak into the
 *   default set) and `sync-payload` (as default, with `--disable-sync-metadata`, so in-process
 *   providers must take the context from the sync stream's `sync_context`). All of them run with
 *   `-X injectedmetadata=set`.
 * - `change()` is launchpad's `/change`: toggles `changing-flag`'s defaultVariant between foo and bar
 *   and rewrites allFlags.json (the daemon watches its files).
 * - `loseConnectionFor(s)` is launchpad's `/restart?seconds=s`: kills the process at once (SIGKILL,
 *   as launchpad does, so clients see a dropped connection rather than a graceful close) and starts
 *   it again after `s` seconds on the same ports.
 *
 * The daemon's ports are chosen once, below Linux's ephemeral range (32768 and up): while a daemon
 * is down for `loseConnectionFor`, a server elsewhere in the test run that binds port 0 cannot be
 * given one of its ports, so its providers never reconnect to a stranger. Every start reuses the
 * ports and waits for `/readyz` to answer 200. Child processes still alive when the test process
 * exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testbedPath } from './testbed.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The `vexil` command; needs the daemon built (`npx tsc -b`). */
export const VEXIL_BIN = join(REPO_ROOT, 'daemon/bin/vexil.js');

export type DaemonConfigName = 'default' | 'metadata' | 'sync-payload';

interface DaemonConfig {
  /** Flag files, relative to the harness directory, in source order (later sources win). */
  sources: string[];
  contextValues: Record<string, string>;
  extraArgs: string[];
}

const ALL_FLAGS = 'flags/allFlags.json';
const SELECTOR_FLAGS = 'rawflags/selector-flags.json';
const COMBINED_METADATA = 'rawflags/selector-flag-combined-metadata.json';

export const DAEMON_CONFIGS: Record<DaemonConfigName, DaemonConfig> = {
  default: { sources: [ALL_FLAGS, SELECTOR_FLAGS], contextValues: { injectedmetadata: 'set' }, extraArgs: [] },
  metadata: { sources: [ALL_FLAGS, COMBINED_METADATA], contextValues: { injectedmetadata: 'set' }, extraArgs: [] },
  'sync-payload': {
    sources: [ALL_FLAGS, SELECTOR_FLAGS],
    contextValues: { injectedmetadata: 'set' },
    extraArgs: ['--disable-sync-metadata'],
  },
};

export interface DaemonPorts {
  evaluation: number;
  management: number;
  sync: number;
  ofrep: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** launchpad's merge: objects merge key by key, anything else is replaced by the later value. */
function deepMerge(target: JsonObject, source: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    target[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : structuredClone(value);
  }
  return target;
}

function readJson(path: string): JsonObject {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isObject(parsed)) throw new Error(`${path}: not a JSON object`);
  return parsed;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every harness process still running, killed if the test process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export class DaemonHarness {
  readonly dir: string;
  private readonly raw = new Map<string, JsonObject>();
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private fixedPorts: DaemonPorts | undefined;
  private pendingRestart: { promise: Promise<void>; cancel: () => void } | undefined;
  private disposed = false;
  private readonly logLines: string[] = [];
  /** The changing flag's current defaultVariant. */
  changingVariant = 'foo';

  constructor(
    readonly name: DaemonConfigName,
    private readonly config: DaemonConfig = DAEMON_CONFIGS[name],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `vexil-conformance-${name}-`));
    mkdirSync(join(this.dir, 'flags'));
    mkdirSync(join(this.dir, 'rawflags'));
    const flagsDir = testbedPath('flags');
    for (const file of readdirSync(flagsDir).filter((f) => f.endsWith('.json')).sort()) {
      this.raw.set(file, readJson(join(flagsDir, file)));
    }
    for (const file of this.raw.keys()) {
      if (file.startsWith('selector-')) this.writeAtomically(`rawflags/${file}`, this.raw.get(file)!);
    }
    this.writeAllFlags();
  }

  /** The ports of the first start (every later start reuses them). */
  get ports(): DaemonPorts {
    if (!this.fixedPorts) throw new Error(`daemon ${this.name} was never started`);
    return this.fixedPorts;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The last lines the daemon wrote (stdout and stderr), for failure messages. */
  recentLogs(count = 15): string[] {
    return this.logLines.slice(-count);
  }

  /** Starts the process and waits for the listening line and /readyz 200. */
  async start(): Promise<void> {
    if (this.disposed) throw new Error(`daemon ${this.name} is disposed`);
    if (this.child) return;
    this.fixedPorts ??= await reservePorts();
    const ports = this.fixedPorts;
    const args = [VEXIL_BIN, 'start', '--host', '127.0.0.1'];
    for (const source of this.config.sources) args.push('-f', `file:${join(this.dir, source)}`);
    args.push('-p', String(ports.evaluation), '-m', String(ports.management), '-g', String(ports.sync));
    args.push('-r', String(ports.ofrep), '-z', 'json');
    for (const [key, value] of Object.entries(this.config.contextValues)) args.push('-X', `${key}=${value}`);
    args.push(...this.config.extraArgs);

    // The daemon reads FLAGD_* variables; none of the test process's may leak into it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLAGD_')));
    const child = spawn(process.execPath, args, { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    liveChildren.add(child);
    this.exited = new Promise<void>((resolveExit) =>
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        this.log(`[harness] daemon exited (code ${code}, signal ${signal})`);
        if (this.child === child) this.child = undefined;
        resolveExit();
      }),
    );

    const listening = new Promise<DaemonPorts>((resolveListening, reject) => {
      let buffered = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          this.log(line);
          const bound = parseListening(line);
          if (bound) resolveListening(bound);
        }
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach((l) => this.log(`[stderr] ${l}`)));
      void this.exited!.then(() => reject(new Error(`daemon ${this.name} exited before listening:\n${this.recentLogs().join('\n')}`)));
    });
    try {
      const bound = await withTimeout(listening, 15_000, `daemon ${this.name} did not log "vexil listening"`);
      this.fixedPorts ??= bound;
      await this.waitReady(15_000);
    } catch (error) {
      await this.stop('SIGKILL');
      throw error;
    }
  }

  /** Stops the process (SIGTERM: graceful; SIGKILL: a crash) and waits for it to exit. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const exited = this.exited!;
    const inTime = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!inTime) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills the daemon now and starts it again on the same ports after `seconds`, in the background. */
  async loseConnectionFor(seconds: number): Promise<void> {
    this.pendingRestart?.cancel();
    await this.stop('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const promise = new Promise<void>((resolveWait) => (timer = setTimeout(resolveWait, seconds * 1000)))
      .then(() => (cancelled ? undefined : this.start()))
      .catch((error: unknown) => this.log(`[harness] restart failed: ${(error as Error).message}`));
    const pending = {
      promise,
      cancel: () => {
        cancelled = true;
        clearTimeout(timer);
      },
    };
    this.pendingRestart = pending;
    void promise.finally(() => {
      if (this.pendingRestart === pending) this.pendingRestart = undefined;
    });
  }

  /** Waits for a pending restart, then starts the daemon if it is not running. */
  async ensureRunning(): Promise<void> {
    if (this.pendingRestart) await this.pendingRestart.promise;
    if (!this.child) await this.start();
  }

  /** launchpad's /change: toggles changing-flag's defaultVariant and rewrites allFlags.json. */
  change(): string {
    this.changingVariant = this.changingVariant === 'foo' ? 'bar' : 'foo';
    const doc = this.raw.get('changing-flag.json');
    const flag = (doc?.flags as JsonObject | undefined)?.['changing-flag'];
    if (!isObject(flag)) throw new Error('testbed changing-flag.json has no changing-flag');
    flag.defaultVariant = this.changingVariant;
    this.writeAllFlags();
    this.log(`[harness] changing-flag defaultVariant -> ${this.changingVariant}`);
    return this.changingVariant;
  }

  /** Stops the process (cancelling a pending restart) and removes the directory. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.pendingRestart?.cancel();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = `http://127.0.0.1:${this.ports.management}/readyz`;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`daemon ${this.name} exited while waiting for /readyz:\n${this.recentLogs().join('\n')}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        last = `HTTP ${response.status}`;
        await response.body?.cancel();
        if (response.status === 200) return;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(50);
    }
    throw new Error(`daemon ${this.name}: /readyz not 200 within ${timeoutMs} ms (last: ${last})`);
  }

  private writeAllFlags(): void {
    const merged: JsonObject = {};
    for (const [file, doc] of [...this.raw].sort(([a], [b]) => a.localeCompare(b))) {
      if (!file.startsWith('selector-')) deepMerge(merged, doc);
    }
    this.writeAtomically(ALL_FLAGS, merged);
  }

  /** Writes a temp file and renames it over the target, so the daemon never reads a partial file. */
  private writeAtomically(relative: string, doc: JsonObject): void {
    const target = join(this.dir, relative);
    const temp = join(this.dir, `.${relative.replace(/\//g, '_')}.tmp`);
    writeFileSync(temp, JSON.stringify(doc, null, 2));
    renameSync(temp, target);
  }

  private log(line: string): void {
    this.logLines.push(line);
    if (this.logLines.length > 500) this.logLines.splice(0, this.logLines.length - 500);
  }
}

function parseListening(line: string): DaemonPorts | undefined {
  if (!line.includes('vexil listening')) return undefined;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg !== 'vexil listening') return undefined;
    const { evaluation, management, sync, ofrep } = entry;
    if ([evaluation, management, sync, ofrep].every((p) => typeof p === 'number')) {
      return { evaluation, management, sync, ofrep } as DaemonPorts;
    }
  } catch {
    // not a JSON line
  }
  return undefined;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Lazily started daemons, one per configuration; typically one pool per feature file. */
export class DaemonPool {
  private readonly daemons = new Map<DaemonConfigName, DaemonHarness>();

  /** The daemon for a configuration, started (or restarted after a lost connection) and ready. */
  async get(name: DaemonConfigName): Promise<DaemonHarness> {
    let daemon = this.daemons.get(name);
    if (!daemon) {
      daemon = new DaemonHarness(name);
      this.daemons.set(name, daemon);
    }
    await daemon.ensureRunning();
    return daemon;
  }

  all(): DaemonHarness[] {
    return [...this.daemons.values()];
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.all().map((d) => d.dispose()));
    this.daemons.clear();
  }
}

/** True when 127.0.0.1:port can be bound right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
  });
}

/** Four free ports from 20000-31999 (below the ephemeral range), starting at a random place. */
async function reservePorts(): Promise<DaemonPorts> {
  const found: number[] = [];
  let port = 20_000 + Math.floor(Math.random() * 11_000);
  for (let tries = 0; found.length < 4 && tries < 2_000; tries++, port = port >= 31_999 ? 20_000 : port + 1) {
    if (await isFree(port)) found.push(port);
  }
  if (found.length < 4) throw new Error('no four free ports between 20000 and 31999');
  const [evaluation, management, sync, ofrep] = found;
  return { evaluation, management, sync, ofrep };
}
