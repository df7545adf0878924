/**
 * What the provider's integration tests share: flag files in temp directories (rewritten
 * atomically), real daemons on loopback, OpenFeature clients bound to a fresh domain with every
 * provider event recorded, and a logger that keeps what it is told.
 */
import { OpenFeature, ProviderEvents, type Client, type Logger, type Provider } from '@openfeature/server-sdk';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../../../conformance/src/free-ports.js';
import { startDaemon, type DaemonProcess, type Ports } from '../../../../daemon/test/support/daemon-process.js';

export { eventually } from '../../../../daemon/test/support/daemon-process.js';
export type { DaemonProcess, Ports };

// ---------------------------------------------------------------------------------------------
// Files

const dirs: string[] = [];

/** A new temp directory, removed by cleanupDirs(). Short, so unix socket paths fit in 108 bytes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vx-prov-'));
  dirs.push(dir);
  return dir;
}

export function cleanupDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Replaces a file the way editors and config management do: a temp file renamed over it, so a
 * watcher never reads half a document. Objects are written as JSON, strings as they are.
 */
export function writeAtomic(path: string, doc: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, typeof doc === 'string' ? doc : JSON.stringify(doc));
  renameSync(tmp, path);
}

export { freePorts };

const daemons = new Set<DaemonProcess>();

/** Starts the real daemon on 127.0.0.1 (ephemeral ports unless given) and waits for /readyz. */
export async function startVexil(args: string[], ports?: Partial<Ports>): Promise<DaemonProcess> {
  const daemon = await startDaemon(['--host', '127.0.0.1', ...args], { ports });
  daemons.add(daemon);
  return daemon;
}

/** SIGKILL, as a crash: no drained calls, no goodbye on the streams. Resolves once it has exited. */
export async function killVexil(daemon: DaemonProcess): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
  daemon.child.kill('SIGKILL');
  await exited;
}

export async function stopAllDaemons(): Promise<void> {
  await Promise.allSettled([...daemons].map((d) => d.stop()));
  daemons.clear();
}

// ---------------------------------------------------------------------------------------------
// OpenFeature clients and their events

/** What the tests read of an event's details. */
export type RecordedDetails = { flagsChanged?: string[]; message?: string; errorCode?: string };
export type RecordedEvent = { type: ProviderEvents; details: RecordedDetails; at: number };

const WATCHED = [ProviderEvents.Ready, ProviderEvents.Error, ProviderEvents.Stale, ProviderEvents.ConfigurationChanged] as const;

export class EventLog {
  readonly entries: RecordedEvent[] = [];

  constructor(client: Client) {
    for (const type of WATCHED) client.addHandler(type, (details) => this.entries.push({ type, details: (details ?? {}) as RecordedDetails, at: performance.now() }));
  }

  of(type: ProviderEvents): RecordedEvent[] {
    return this.entries.filter((e) => e.type === type);
  }

  /** The `count`-th event of the type (1-based), waiting up to `ms` for it. */
  async nth(type: ProviderEvents, count: number, ms = 5_000): Promise<RecordedEvent> {
    const deadline = performance.now() + ms;
    for (;;) {
      const seen = this.of(type);
      if (seen.length >= count) return seen[count - 1];
      if (performance.now() > deadline) {
        throw new Error(`no ${type} #${count} within ${ms} ms; events: ${this.describe()}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  describe(): string {
    return JSON.stringify(this.entries.map((e) => ({ type: e.type, flagsChanged: e.details.flagsChanged, message: e.details.message })));
  }
}

let domains = 0;

/**
 * Binds the provider to a fresh domain and waits for it, recording events from before
 * initialisation on. `ready` is the outcome of setProviderAndWait (it rejects when initialize does).
 */
export async function bind(provider: Provider): Promise<{ client: Client; events: EventLog; domain: string; ready: PromiseSettledResult<void> }> {
  const domain = `provider-spec-${++domains}`;
  const client = OpenFeature.getClient(domain);
  const events = new EventLog(client);
  const [ready] = await Promise.allSettled([OpenFeature.setProviderAndWait(domain, provider)]);
  return { client, events, domain, ready };
}

/** bind() that fails the test unless the provider became ready. */
export async function bindReady(provider: Provider): Promise<{ client: Client; events: EventLog }> {
  const bound = await bind(provider);
  if (bound.ready.status === 'rejected') throw new Error(`the provider did not become ready: ${String(bound.ready.reason)}`);
  return bound;
}

// ---------------------------------------------------------------------------------------------
// Logging

export class CapturingLogger implements Logger {
  readonly lines: { level: 'error' | 'warn' | 'info' | 'debug'; text: string }[] = [];
  error = (...args: unknown[]) => this.push('error', args);
  warn = (...args: unknown[]) => this.push('warn', args);
  info = (...args: unknown[]) => this.push('info', args);
  debug = (...args: unknown[]) => this.push('debug', args);

  errors(): string[] {
    return this.lines.filter((l) => l.level === 'error').map((l) => l.text);
  }

  private push(level: 'error' | 'warn' | 'info' | 'debug', args: unknown[]): void {
    this.lines.push({ level, text: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') });
  }
}

// ---------------------------------------------------------------------------------------------
// TLS

/**
 * A self-signed certificate for `localhost` and `127.0.0.1` (SAN), made with the openssl CLI in a
 * temp directory: the daemon serves it, the provider trusts it as its root (`certPath`).
 */
export function selfSignedCertificate(): { certPath: string; keyPath: string } {
  const dir = tempDir();
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return { certPath, keyPath };
}
