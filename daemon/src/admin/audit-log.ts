/**
 * The audit log: one JSON line per successful write, hash-chained (tamper-evident). Each entry
 * carries `prev`, the previous entry's `hash` (64 zeros for the first), and `hash`, the sha256 of
 * the entry's JSON without `hash` (fields in the order written). An append is fsynced before it
 * resolves; the API answers 2xx only after that.
 */
import { readFile, stat } from 'node:fs/promises';
import { AdminError, AdminErrorCode } from './errors.js';
import { sha256Hex } from './versions.js';
import { writeSynced } from './durable-write.js';

export const AuditAction = {
  create: 'create',
  update: 'update',
  delete: 'delete',
  archive: 'archive',
  restore: 'restore',
  kill: 'kill',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly actor: string;
  readonly action: AuditAction;
  readonly flag: string;
  readonly before: unknown;
  readonly after: unknown;
  /** The flag set version after the write. */
  readonly version: string;
  readonly prev: string;
  readonly hash: string;
}

export type AuditRecord = Pick<AuditEntry, 'actor' | 'action' | 'flag' | 'before' | 'after' | 'version'>;

export interface AuditQuery {
  flag?: string;
  actor?: string;
  action?: string;
  /** Inclusive bounds, ms since the epoch. */
  sinceMs?: number;
  untilMs?: number;
  limit?: number;
}

/** The hash of an entry: sha256 of its JSON without `hash`, keys in their order. */
export function entryHash(entry: Omit<AuditEntry, 'hash'> | Record<string, unknown>): string {
  const { hash: _omit, ...rest } = entry as Record<string, unknown>;
  return sha256Hex(JSON.stringify(rest));
}

export class AuditLog {
  /** The chain's tail as last read or written, with the file size it was true for. */
  private tail: { seq: number; hash: string; size: number } | undefined;

  constructor(readonly path: string) {}

  /** Appends and fsyncs one entry; throws AUDIT_UNAVAILABLE when the log cannot be written. */
  async append(record: AuditRecord, time: Date = new Date()): Promise<AuditEntry> {
    const unavailable = (err: unknown, what: string) =>
      new AdminError(AdminErrorCode.AUDIT_UNAVAILABLE, `audit log ${this.path}: ${what}: ${(err as Error).message ?? String(err)}; nothing was written`, {}, { cause: err });
    let tail: { seq: number; hash: string; size: number };
    try {
      tail = await this.currentTail();
    } catch (err) {
      if (err instanceof AdminError) throw err;
      throw unavailable(err, 'cannot read');
    }
    const unsigned = {
      seq: tail.seq + 1,
      time: time.toISOString(),
      actor: record.actor,
      action: record.action,
      flag: record.flag,
      before: record.before ?? null,
      after: record.after ?? null,
      version: record.version,
      prev: tail.hash,
    };
    const entry: AuditEntry = { ...unsigned, hash: entryHash(unsigned) };
    const line = `${JSON.stringify(entry)}\n`;
    try {
      await writeSynced(this.path, line, 'a', 0o640);
    } catch (err) {
      this.tail = undefined; // a partial line may have landed: read again next time
      throw unavailable(err, 'cannot append');
    }
    this.tail = { seq: entry.seq, hash: entry.hash, size: tail.size + Buffer.byteLength(line) };
    return entry;
  }

  /** Entries matching `query`, newest first. */
  async query(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? 100;
    const out: AuditEntry[] = [];
    const entries = await this.readAll();
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = entries[i];
      if (query.flag !== undefined && e.flag !== query.flag) continue;
      if (query.actor !== undefined && e.actor !== query.actor) continue;
      if (query.action !== undefined && e.action !== query.action) continue;
      const t = Date.parse(e.time);
      if (query.sinceMs !== undefined && !(t >= query.sinceMs)) continue;
      if (query.untilMs !== undefined && !(t <= query.untilMs)) continue;
      out.push(e);
    }
    return out;
  }

  private async readAll(): Promise<AuditEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw new AdminError(AdminErrorCode.AUDIT_UNAVAILABLE, `audit log ${this.path}: cannot read: ${(err as Error).message}`, {}, { cause: err });
    }
    const entries: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line) as AuditEntry);
      } catch {
        // A broken line is reported by `vexil audit verify`; queries skip it.
      }
    }
    return entries;
  }

  private async currentTail(): Promise<{ seq: number; hash: string; size: number }> {
    let size: number;
    try {
      const s = await stat(this.path);
      if (s.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = s.size;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      return { seq: 0, hash: GENESIS_HASH, size: 0 };
    }
    if (this.tail !== undefined && this.tail.size === size) return this.tail;
    const text = await readFile(this.path, 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) return (this.tail = { seq: 0, hash: GENESIS_HASH, size });
    let last: Partial<AuditEntry>;
    try {
      last = JSON.parse(lines[lines.length - 1]) as Partial<AuditEntry>;
    } catch (err) {
      throw new AdminError(
        AdminErrorCode.AUDIT_UNAVAILABLE,
        `audit log ${this.path}: the last line (${lines.length}) is not valid JSON; run vexil audit verify; nothing was written`,
        {},
        { cause: err },
      );
    }
    if (typeof last.seq !== 'number' || typeof last.hash !== 'string') {
      throw new AdminError(AdminErrorCode.AUDIT_UNAVAILABLE, `audit log ${this.path}: the last line (${lines.length}) is not an audit entry; nothing was written`);
    }
    return (this.tail = { seq: last.seq, hash: last.hash, size });
  }
}

export type VerifyResult =
  | { readonly ok: true; readonly entries: number }
  | { readonly ok: false; readonly entries: number; readonly line: number; readonly reason: string };

/** Checks the chain: every line an entry, seq increasing by one, `prev` the previous `hash`, `hash` right. */
export async function verifyAuditLog(path: string): Promise<VerifyResult> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS_HASH;
  let seq = 0;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const fail = (reason: string): VerifyResult => ({ ok: false, entries: i, line: n, reason });
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(lines[i]) as Record<string, unknown>;
    } catch {
      return fail('not valid JSON');
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail('not an audit entry');
    if (entry['seq'] !== seq + 1) return fail(`seq is ${JSON.stringify(entry['seq'])}, expected ${seq + 1}`);
    if (entry['prev'] !== prev) return fail('prev does not match the hash of the previous entry');
    if (entry['hash'] !== entryHash(entry)) return fail('hash does not match the entry (modified)');
    prev = entry['hash'] as string;
    seq++;
  }
  return { ok: true, entries: lines.length };
}
