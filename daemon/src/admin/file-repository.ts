/**
 * A flag file as the write target. Every write re-reads the file (a hand edit is never
 * overwritten: its version differs, and the stale side gets 412) and replaces it atomically:
 * the new document goes to a temp file in the same directory, which is fsynced; only after the
 * caller's audit entry is durable is it renamed over the flag file and the directory fsynced.
 * The file source then picks the change up like any hand edit.
 *
 * YAML flag files are readable, but writes to them are refused (UNSUPPORTED_SOURCE): rewriting
 * YAML would lose its comments and layout.
 *
 * Reads keep the last parsed snapshot with the file's identity (dev, inode, size, mtime, ctime):
 * a read whose stat matches it answers without reading or parsing, so a large flag file costs one
 * parse per change, not one per API call. Writes replace the file by rename (a new inode) and hand
 * edits change mtime/ctime, so either is seen on the next read.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { filePathOf } from '../sources/uri.js';
import { AdminError, AdminErrorCode } from './errors.js';
import { StaleDocumentError, formatOf, snapshotOf, type FlagRepository, type PreparedWrite, type RepositorySnapshot } from './repository.js';
import { writeSynced } from './durable-write.js';

export class FileRepository implements FlagRepository {
  readonly path: string;
  readonly defaultAuditLog: string;
  private readonly format: 'json' | 'yaml';
  private cached: { readonly identity: string; readonly snapshot: RepositorySnapshot } | undefined;

  constructor(readonly uri: string) {
    this.path = filePathOf(uri);
    this.format = formatOf(this.path);
    this.defaultAuditLog = join(dirname(this.path), 'vexil-audit.jsonl');
  }

  async read(): Promise<RepositorySnapshot> {
    const before = await this.stat();
    if (before === undefined) return { ...snapshotOf('', this.format, this.path), missing: true };
    const identity = identityOf(before);
    if (this.cached?.identity === identity) return this.cached.snapshot;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      // Removed between the stat and the read.
      if ((err as { code?: string }).code === 'ENOENT') return { ...snapshotOf('', this.format, this.path), missing: true };
      throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `cannot read ${this.path}: ${(err as Error).message}`, {}, { cause: err });
    }
    const snapshot = snapshotOf(text, this.format, this.path);
    // Cached only when the file did not change while it was read (else the identity could
    // belong to other bytes than the ones parsed).
    const after = await this.stat().catch(() => undefined);
    if (after !== undefined && identityOf(after) === identity) this.cached = { identity, snapshot };
    return snapshot;
  }

  private async stat(): Promise<Stats | undefined> {
    try {
      return await stat(this.path);
    } catch (err) {
      // A missing file reads as an empty flag set, marked missing: the first create makes it,
      // unless the daemon still serves flags from it (FlagService refuses then).
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `cannot read ${this.path}: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  async prepare(text: string, expected: RepositorySnapshot): Promise<PreparedWrite> {
    if (this.format === 'yaml') {
      throw new AdminError(
        AdminErrorCode.UNSUPPORTED_SOURCE,
        `${this.path} is a YAML flag file: the API writes JSON flag files only (rewriting YAML would lose its comments); convert it to JSON or edit it by hand`,
      );
    }
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeSynced(temp, text, 'wx', 0o644);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `cannot write next to ${this.path}: ${(err as Error).message}`, {}, { cause: err });
    }
    // The file may have been edited by hand since the caller read it.
    let current: RepositorySnapshot;
    try {
      current = await this.read();
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    if (current.version !== expected.version) {
      await unlink(temp).catch(() => {});
      throw new StaleDocumentError(current);
    }
    const path = this.path;
    return {
      async commit() {
        await rename(temp, path);
        // The rename is durable only once the directory entry is.
        const dir = await open(dirname(path), 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      },
      async abort() {
        await unlink(temp).catch(() => {});
      },
    };
  }

  async close(): Promise<void> {}
}

function identityOf(s: Stats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}
