/**
 * File mode: flags from a local file (flagd's JSON, or the same in YAML), for tests and hosts
 * without a daemon. The file is watched (fs.watch on its directory, so an atomic rename or a
 * Kubernetes ConfigMap symlink swap is seen) and re-checked every `pollIntervalMs` as well, since
 * some filesystems (network mounts, some containers) deliver no events.
 */
import { GeneralError, type EvaluationContext, type JsonValue, type Logger, type ResolutionDetails } from '@openfeature/server-sdk';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LocalFlags } from './local-flags.js';
import type { FlagType, Resolver, ResolverEvents } from './resolver.js';

export interface FileSettings {
  path: string;
  pollIntervalMs: number;
}

/** Editors write in several steps; changes this close together are read once. */
const SETTLE_MS = 5;

export class FileResolver implements Resolver {
  private readonly path: string;
  private readonly flags: LocalFlags;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  /** What was last read (size, mtime and text), so an unchanged file is not reloaded. */
  private lastText: string | undefined;
  private lastStamp = '';
  private stopped = false;
  private failing = false;

  constructor(
    private readonly settings: FileSettings,
    private readonly logger?: Logger,
  ) {
    this.path = resolvePath(settings.path);
    this.flags = new LocalFlags(logger, this.path);
  }

  async connect(events: ResolverEvents): Promise<void> {
    const first = await this.read();
    if (!first.ok) throw new GeneralError(first.message);
    const outcome = this.flags.load(first.document ?? '');
    if (!outcome.ok) throw new GeneralError(`refused ${this.path}: ${outcome.message}`);

    const check = () => {
      clearTimeout(this.settle);
      this.settle = setTimeout(() => void this.reload(events), SETTLE_MS);
    };
    try {
      // The directory, not the file: a rename over the file replaces the inode a file watch holds.
      const name = basename(this.path);
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) check();
      });
      this.watcher.on('error', () => {});
    } catch (err) {
      this.logger?.warn(`cannot watch ${this.path} (${err instanceof Error ? err.message : String(err)}); polling every ${this.settings.pollIntervalMs} ms`);
    }
    this.poll = setInterval(check, this.settings.pollIntervalMs);
    this.poll.unref();
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.settle);
  }

  resolve<T extends JsonValue>(type: FlagType, flagKey: string, defaultValue: T, context: EvaluationContext, _logger: Logger): ResolutionDetails<T> {
    return this.flags.resolve(type, flagKey, defaultValue, context);
  }

  clearCache(): void {}

  private async reload(events: ResolverEvents): Promise<void> {
    if (this.stopped) return;
    const r = await this.read();
    if (this.stopped) return;
    if (!r.ok) {
      // Either way the last good flags stay. A file that is gone or unreadable is re-checked on
      // every poll, so that is said once until it is readable again; a document that does not
      // parse is only read when it changed, so each one is reported.
      if (r.unparsable || !this.failing) this.logger?.error(`${r.message}; still evaluating the last good flags`);
      this.failing = !r.unparsable;
      return;
    }
    this.failing = false;
    if (r.document === undefined) return; // unchanged
    const outcome = this.flags.load(r.document);
    if (outcome.ok && outcome.changed.length > 0) events.changed(outcome.changed);
  }

  /** Reads the file; `document` is undefined when it has not changed since the last read. */
  private async read(): Promise<{ ok: true; document?: string | object } | { ok: false; message: string; unparsable?: true }> {
    let text: string;
    try {
      const st = await stat(this.path);
      const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
      if (stamp === this.lastStamp) return { ok: true };
      text = await readFile(this.path, 'utf8');
      this.lastStamp = stamp;
    } catch (err) {
      return { ok: false, message: `cannot read the flag file ${this.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
    if (text === this.lastText) return { ok: true };
    this.lastText = text;
    const ext = extname(this.path).toLowerCase();
    if (ext === '.yaml' || ext === '.yml') {
      try {
        return { ok: true, document: parseYaml(text, { maxAliasCount: 100 }) as object };
      } catch (err) {
        return { ok: false, unparsable: true, message: `${this.path} is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
      }
    }
    return { ok: true, document: text };
  }
}
