/**
 * A file source: `file:relative/or/absolute/path`, `file:///absolute/path`, or a bare path (flagd's
 * `--sources` form `{"uri": "flags.json", "provider": "file"}`). Relative paths resolve against the
 * working directory at construction.
 *
 * Change detection, all funnelled into one serialised "check" (stat, read, stat again):
 * - `fs.watch` on the file (following symlinks, so it sees in-place writes to the target), re-armed
 *   whenever the path resolves to a new inode;
 * - `fs.watch` on the file's directory (atomic rename over the file, deletion and re-creation, and
 *   Kubernetes ConfigMap `..data` symlink swaps: events for the file's name or any `..`-name), plus the
 *   directory of the symlink target when the file resolves elsewhere;
 * - a re-stat every `pollIntervalMs` (default 1 s) comparing dev+ino+size+mtime+ctime, re-reading
 *   when they differ: the fallback where watching is unavailable or events are lost. Watchers that
 *   could not be set up (directory missing) are retried on every tick.
 * Watch events within `debounceMs` (default 5 ms: a rename or a write burst lands well within it,
 * and it is most of the change-to-serve latency) are coalesced into one read. When the file changed
 * while it was being read (the two stats differ), the read is retried after the debounce instead of
 * reporting a half-written file, and content that does not convert is read once more after the
 * debounce before a parse_error is reported (an in-place writer truncates, then writes). Data is handed over only when the JSON text changed.
 *
 * Content: `.yaml`/`.yml` as YAML, `.json` as JSON, anything else JSON-or-YAML (../shared/content.ts).
 * Errors: missing file not_found (watching continues, so it is picked up once created), EACCES/EPERM
 * denied, other read failures (a directory...) read_error, unconvertible content parse_error. An error
 * is reported once per file state: a file that stays missing or broken is not reported every second.
 */
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { SourceFailureReason, type Source, type SourceConfig, type SourceListener } from '../source.js';
import { errorMessage, hintFromPath, toJsonText, type ContentHint } from '../shared/content.js';
import { filePathOf } from '../uri.js';

export interface FileSourceOptions {
  readonly logger?: Logger;
  /** The re-stat fallback period, ms; default 1000. */
  readonly pollIntervalMs?: number;
  /** Watch events within this window are coalesced into one read, ms; default 5. */
  readonly debounceMs?: number;
  /** false: no fs.watch, only the re-stat (filesystems without change notification; tests). */
  readonly watch?: boolean;
}

/** The stable reason for a failed stat/read. */
export function classifyFsError(error: unknown): SourceFailureReason {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (code === 'ENOENT' || code === 'ENOTDIR') return SourceFailureReason.NOT_FOUND;
  if (code === 'EACCES' || code === 'EPERM') return SourceFailureReason.DENIED;
  return SourceFailureReason.READ_ERROR;
}

type CheckResult = 'done' | 'retry';

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

function statKey(s: Stats | undefined): string {
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : 'missing';
}

interface DirWatch {
  readonly watcher: FSWatcher;
  /** Names in this directory whose events matter (besides `..`-names). */
  readonly names: Set<string>;
}

export class FileSource implements Source {
  readonly uri: string;
  readonly path: string;
  private readonly hint: ContentHint;
  private readonly pollIntervalMs: number;
  private readonly debounceMs: number;
  private readonly watching: boolean;
  private readonly logger: Logger | undefined;
  private listener: SourceListener | undefined;
  private stopped = false;

  private readonly dirWatches = new Map<string, DirWatch>();
  private fileWatch: { watcher: FSWatcher; ino: number } | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private wantRead = false;
  private wantStat = false;
  /** When the first not-yet-handled watch event arrived (for the latency log). */
  private eventAt: number | undefined;
  private firstAttemptDone: (() => void) | undefined;

  /** The stat of the file as last read (successfully or not), for the re-stat fallback. */
  private lastStat: Stats | undefined;
  private lastJson: string | undefined;
  private lastErrorKey: string | undefined;
  /** The file state whose content failed to convert once already (reported on the second failure). */
  private parseRetryKey: string | undefined;

  constructor(config: SourceConfig, options: FileSourceOptions = {}) {
    this.uri = config.uri;
    this.path = filePathOf(config.uri);
    this.hint = hintFromPath(this.path);
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.debounceMs = options.debounceMs ?? 5;
    this.watching = options.watch ?? true;
    this.logger = options.logger?.child({ source: config.uri });
  }

  async start(listener: SourceListener): Promise<void> {
    if (this.listener) throw new Error(`source ${this.uri} already started`);
    this.listener = listener;
    // Watch the directory before the first read, so nothing between the two goes unseen.
    await this.refreshWatchers(undefined);
    this.pollTimer = setInterval(() => this.schedule(false, 0), this.pollIntervalMs);
    // Resolves at the first conclusive result (data, or an error reported), not at a retry.
    const firstAttempt = new Promise<void>((resolve) => (this.firstAttemptDone = resolve));
    this.wantRead = true;
    this.runChecks();
    await firstAttempt;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    this.pollTimer = undefined;
    this.debounceTimer = undefined;
    this.closeWatchers();
    this.firstAttemptDone?.();
    await this.checking;
    // A check that was running may have re-armed a watcher before it saw `stopped`.
    this.closeWatchers();
    // libuv releases closed watcher handles in the loop's close phase: let one pass, so that when
    // stop() resolves nothing of ours is left.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Asks for a check: `read` re-reads regardless of the stat, otherwise only a changed stat is read. */
  private schedule(read: boolean, delayMs: number): void {
    if (this.stopped) return;
    if (read) {
      this.wantRead = true;
      this.eventAt ??= performance.now();
    } else {
      this.wantStat = true;
    }
    if (this.checking !== undefined || this.debounceTimer !== undefined) return; // picked up by those
    if (delayMs <= 0) {
      this.runChecks();
    } else {
      this.debounceTimer = setTimeout(() => {
        this.debounceTimer = undefined;
        this.runChecks();
      }, delayMs);
    }
  }

  private runChecks(): void {
    const loop = async (): Promise<CheckResult> => {
      while (!this.stopped && (this.wantRead || this.wantStat)) {
        const read = this.wantRead;
        this.wantRead = false;
        this.wantStat = false;
        let result: CheckResult;
        try {
          result = await this.check(read);
        } catch (error) {
          this.fail(SourceFailureReason.READ_ERROR, `${this.path}: ${errorMessage(error)}`, error, 'unexpected');
          result = 'done';
        }
        if (result === 'retry') return 'retry';
        this.firstAttemptDone?.();
        this.firstAttemptDone = undefined;
      }
      return 'done';
    };
    this.checking = loop().then((result) => {
      this.checking = undefined;
      if (result === 'retry') this.schedule(true, this.debounceMs);
    });
  }

  private async check(read: boolean): Promise<CheckResult> {
    let before: Stats;
    try {
      before = await stat(this.path);
    } catch (error) {
      if (this.stopped) return 'done';
      this.lastStat = undefined;
      await this.refreshWatchers(undefined);
      this.fail(classifyFsError(error), `${this.path}: ${errorMessage(error)}`, error, 'missing');
      return 'done';
    }
    if (this.stopped) return 'done';
    await this.refreshWatchers(before);
    if (!read && this.lastStat !== undefined && sameFile(before, this.lastStat)) return 'done';
    if (before.isDirectory()) {
      this.lastStat = before;
      this.fail(SourceFailureReason.READ_ERROR, `${this.path} is a directory`, undefined, statKey(before));
      return 'done';
    }
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (this.stopped) return 'done';
      // Replaced or removed between stat and read: look again shortly rather than report a race.
      const after = await stat(this.path).catch(() => undefined);
      if (after === undefined || !sameFile(before, after)) return 'retry';
      this.lastStat = before;
      this.fail(classifyFsError(error), `${this.path}: ${errorMessage(error)}`, error, statKey(before));
      return 'done';
    }
    const after = await stat(this.path).catch(() => undefined);
    if (this.stopped) return 'done';
    if (after === undefined || !sameFile(before, after)) return 'retry'; // written while we read it
    this.lastStat = after;
    const converted = toJsonText(text, this.hint);
    if (!converted.ok) {
      // Most likely caught between an in-place writer's truncate and write: look once more after
      // the debounce, and report only if the same file state is still unconvertible.
      if (this.parseRetryKey !== statKey(after)) {
        this.parseRetryKey = statKey(after);
        return 'retry';
      }
      // The excerpt goes to the debug log only: the message (logged at error level) names the
      // position, never the content (../shared/content.ts).
      this.fail(SourceFailureReason.PARSE_ERROR, `${this.path}: ${converted.message}`, converted.cause, statKey(after), converted.excerpt);
      return 'done';
    }
    this.parseRetryKey = undefined;
    this.lastErrorKey = undefined;
    if (converted.json !== this.lastJson) {
      this.lastJson = converted.json;
      const latencyMs = this.eventAt === undefined ? undefined : Math.round(performance.now() - this.eventAt);
      this.logger?.debug({ latencyMs, size: after.size }, 'source data changed');
      this.listener?.data({ source: this.uri, data: converted.json, version: new Date(after.mtimeMs).toISOString() });
    }
    this.eventAt = undefined;
    return 'done';
  }

  private fail(reason: SourceFailureReason, message: string, cause: unknown, stateKey: string, excerpt?: string): void {
    this.eventAt = undefined;
    const key = `${reason}\0${stateKey}\0${message}`;
    if (this.stopped || key === this.lastErrorKey) return;
    this.lastErrorKey = key;
    this.logger?.debug({ reason, ...(excerpt !== undefined ? { excerpt } : {}) }, message);
    this.listener?.error({ source: this.uri, reason, message, ...(cause !== undefined ? { cause } : {}) });
  }

  /** Makes the watchers match where the file now is; failures are left to the next poll tick. */
  private async refreshWatchers(current: Stats | undefined): Promise<void> {
    if (!this.watching) return;
    const wanted = new Map<string, Set<string>>([[dirname(this.path), new Set([basename(this.path)])]]);
    if (current !== undefined) {
      const real = await realpath(this.path).catch(() => undefined);
      if (real !== undefined && real !== this.path) {
        const names = wanted.get(dirname(real)) ?? new Set<string>();
        names.add(basename(real));
        wanted.set(dirname(real), names);
      }
    }
    if (this.stopped) return;
    for (const [dir, watch] of this.dirWatches) {
      if (!wanted.has(dir)) {
        watch.watcher.close();
        this.dirWatches.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      const existing = this.dirWatches.get(dir);
      if (existing) {
        for (const name of names) existing.names.add(name);
        continue;
      }
      const watcher = this.tryWatch(dir, (filename) => {
        if (filename === null || names.has(filename) || filename.startsWith('..')) this.schedule(true, this.debounceMs);
      });
      if (watcher) this.dirWatches.set(dir, { watcher, names });
    }
    if (current === undefined || (this.fileWatch !== undefined && this.fileWatch.ino !== current.ino)) {
      this.fileWatch?.watcher.close();
      this.fileWatch = undefined;
    }
    if (current !== undefined && this.fileWatch === undefined) {
      const watcher = this.tryWatch(this.path, () => this.schedule(true, this.debounceMs));
      if (watcher) this.fileWatch = { watcher, ino: current.ino };
    }
  }

  private tryWatch(path: string, onEvent: (filename: string | null) => void): FSWatcher | undefined {
    let watcher: FSWatcher;
    try {
      watcher = watch(path, { persistent: true }, (_event, filename) => onEvent(filename ?? null));
    } catch (error) {
      this.logger?.debug({ path, err: errorMessage(error) }, 'cannot watch; relying on re-stat');
      return undefined;
    }
    watcher.on('error', (error) => {
      this.logger?.debug({ path, err: errorMessage(error) }, 'watcher failed; re-arming');
      watcher.close();
      for (const [dir, watch] of this.dirWatches) if (watch.watcher === watcher) this.dirWatches.delete(dir);
      if (this.fileWatch?.watcher === watcher) this.fileWatch = undefined;
      this.schedule(true, this.debounceMs);
    });
    return watcher;
  }

  private closeWatchers(): void {
    for (const watch of this.dirWatches.values()) watch.watcher.close();
    this.dirWatches.clear();
    this.fileWatch?.watcher.close();
    this.fileWatch = undefined;
  }
}
