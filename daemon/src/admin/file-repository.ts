/**
 * A flag file as the write target. Every write re-reads the file (a hand edit is never
 * overwritten: its version differs, and the stale side gets 412) and replaces it atomically:
 * the new document goes to a temp file in the same directory, which is fsynced; only after the
 * caller's audit entry is durable is it renamed over the flag file and the directory fsynced.
 * The file source then picks the change up like any hand edit.
 *
 * YAML flag files are readable, but writes to them are refused (UNSUPPORTED_SOURCE): rewriting
 * YAML would lose its comments and layout.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { filePathOf } from '../sources/file/file-source.js';
import { AdminError, AdminErrorCode } from './errors.js';
import { StaleDocumentError, formatOf, snapshotOf, type FlagRepository, type PreparedWrite, type RepositorySnapshot } from './repository.js';
import { writeSynced } from './durable-write.js';

export class FileRepository implements FlagRepository {
  readonly path: string;
  readonly defaultAuditLog: string;
  private readonly format: 'json' | 'yaml';

  constructor(readonly uri: string) {
    this.path = filePathOf(uri);
    this.format = formatOf(this.path);
    this.defaultAuditLog = join(dirname(this.path), 'vexil-audit.jsonl');
  }

  async read(): Promise<RepositorySnapshot> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      // A missing file is an empty flag set: the first create makes it.
      if (code === 'ENOENT') text = '';
      else throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `cannot read ${this.path}: ${(err as Error).message}`, {}, { cause: err });
    }
    return snapshotOf(text, this.format, this.path);
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
