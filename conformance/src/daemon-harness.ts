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
 *   default set), `sync-payload` (as default, with `--disable-sync-metadata`, so in-process
 *   providers must take the context from the sync stream's `sync_context`), `ssl` (as default,
 *   serving TLS with ./test-certificates.ts's server pair, `-c`/`-k`) and `socket` (as default, the
 *   evaluation service on `<dir>/flagd.sock`, `-d`, and the sync service on `<dir>/flagd-sync.sock`,
 *   `-e`; the TCP ports stay for management). All of them run with `-X injectedmetadata=set`.
 *   Each also names the flag file a file-mode provider reads instead (`fileSource`); for file mode
 *   the harness only provides the directory and never starts a process.
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
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startForbiddenServer, type ForbiddenServer } from './forbidden-server.js';
import { sharedTestCertificates, type TestCertificates } from './test-certificates.js';
import { freePorts } from './free-ports.js';
import { testbedPath } from './testbed.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The `vexil` command; needs the daemon built (`npx tsc -b`). */
export const VEXIL_BIN = join(REPO_ROOT, 'daemon/bin/vexil.js');

export type DaemonConfigName = 'default' | 'metadata' | 'sync-payload' | 'ssl' | 'socket';

interface DaemonConfig {
  /** Flag files, relative to the harness directory, in source order (later sources win). */
  sources: string[];
  /** The flag file (relative to the harness directory) a file-mode provider reads instead. */
  fileSource: string;
  contextValues: Record<string, string>;
  extraArgs: string[];
  /** Serve TLS (`-c`/`-k`) with the test certificates. */
  tls?: boolean;
  /** Serve evaluation (`-d`) and sync (`-e`) on unix sockets in the harness directory. */
  socket?: boolean;
}

const ALL_FLAGS = 'flags/allFlags.json';
const SELECTOR_FLAGS = 'rawflags/selector-flags.json';
const COMBINED_METADATA = 'rawflags/selector-flag-combined-metadata.json';

const CONTEXT_VALUES = { injectedmetadata: 'set' };
const DEFAULT_CONFIG: DaemonConfig = { sources: [ALL_FLAGS, SELECTOR_FLAGS], fileSource: ALL_FLAGS, contextValues: CONTEXT_VALUES, extraArgs: [] };

export const DAEMON_CONFIGS: Record<DaemonConfigName, DaemonConfig> = {
  default: DEFAULT_CONFIG,
  // A file-mode provider reads the selected file itself (upstream's reference harness does the same).
  metadata: { ...DEFAULT_CONFIG, sources: [ALL_FLAGS, COMBINED_METADATA], fileSource: COMBINED_METADATA },
  'sync-payload': { ...DEFAULT_CONFIG, extraArgs: ['--disable-sync-metadata'] },
  ssl: { ...DEFAULT_CONFIG, tls: true },
  socket: { ...DEFAULT_CONFIG, socket: true },
};

/** The unix sockets of a `socket` configuration, in the harness directory (paths well under 108 bytes). */
const SOCKET_FILE = 'flagd.sock';
const SYNC_SOCKET_FILE = 'flagd-sync.sock';

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
  /** The certificates the daemon serves, for a TLS configuration (set by the first start). */
  certificates: TestCertificates | undefined;
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

  /** The evaluation service's unix socket (a `socket` configuration only). */
  get socketPath(): string {
    if (!this.config.socket) throw new Error(`daemon ${this.name} does not listen on a unix socket`);
    return this.path(SOCKET_FILE);
  }

  /** The sync service's unix socket (a `socket` configuration only). */
  get syncSocketPath(): string {
    if (!this.config.socket) throw new Error(`daemon ${this.name} does not listen on a unix socket`);
    return this.path(SYNC_SOCKET_FILE);
  }

  /** The flag file a file-mode provider reads for this configuration (absolute). */
  get fileSource(): string {
    return this.path(this.config.fileSource);
  }

  /** An absolute path inside the harness directory. */
  path(relative: string): string {
    return join(this.dir, relative);
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
    if (this.config.tls) {
      this.certificates ??= sharedTestCertificates();
      args.push('-c', this.certificates.serverCertPath, '-k', this.certificates.serverKeyPath);
    }
    if (this.config.socket) args.push('-d', this.socketPath, '-e', this.syncSocketPath);

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

/**
 * Lazily started daemons, one per configuration, plus the other provider targets (a forbidden
 * server, an unused port); typically one pool per feature file and mode.
 */
export class DaemonPool {
  private readonly daemons = new Map<DaemonConfigName, DaemonHarness>();
  private forbiddenServer: Promise<ForbiddenServer> | undefined;

  /** The daemon for a configuration, started (or restarted after a lost connection) and ready. */
  async get(name: DaemonConfigName): Promise<DaemonHarness> {
    const daemon = this.harness(name);
    await daemon.ensureRunning();
    return daemon;
  }

  /** The harness (directory and flag files) for a configuration, without starting its process. */
  harness(name: DaemonConfigName): DaemonHarness {
    let daemon = this.daemons.get(name);
    if (!daemon) {
      daemon = new DaemonHarness(name);
      this.daemons.set(name, daemon);
    }
    return daemon;
  }

  /** The pool's server answering every flagd call with PERMISSION_DENIED (started on first use). */
  forbidden(): Promise<ForbiddenServer> {
    this.forbiddenServer ??= startForbiddenServer();
    return this.forbiddenServer;
  }

  /**
   * A loopback port where nothing listens, so connections are refused. Taken below the ephemeral
   * range, where no test server binding port 0 can land on it.
   */
  async unusedPort(): Promise<number> {
    const [port] = await freePorts(1);
    return port;
  }

  all(): DaemonHarness[] {
    return [...this.daemons.values()];
  }

  async dispose(): Promise<void> {
    const forbidden = this.forbiddenServer;
    this.forbiddenServer = undefined;
    await Promise.allSettled([...this.all().map((d) => d.dispose()), forbidden?.then((server) => server.close())]);
    this.daemons.clear();
  }
}

/** Four free ports for a daemon. */
async function reservePorts(): Promise<DaemonPorts> {
  const [evaluation, management, sync, ofrep] = await freePorts(4);
  return { evaluation, management, sync, ofrep };
}
