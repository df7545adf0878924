/**
 * The audit log: one JSON line per successful write, hash-chained. Each entry carries `prev`, the
 * previous entry's `hash` (64 zeros for the first), and `hash` over the entry's JSON without
 * `hash` (fields in the order written). An append is fsynced before it resolves; the API answers
 * 2xx only after that.
 *
 * A plain sha256 chain only shows accidental damage: whoever can write the file can edit an entry
 * and recompute every hash after it, or cut lines off the end. So with a key file
 * (--audit-key-file) the hash is an HMAC-SHA256 under the newest key, named by `kid` in the entry,
 * and after every append a checkpoint (the last seq and hash, HMAC'd too) replaces the checkpoint
 * file (--audit-checkpoint, default the log's path + `.checkpoint`): a log that ends before the
 * checkpoint's seq has lost its tail. Entries written without a key (older logs) still verify as
 * plain sha256, reported as unkeyed. docs/management-api.md ("Audit log") says what this does and
 * does not detect.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
  rollout: 'rollout',
  schedule: 'schedule',
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
  /** The key the hash is an HMAC under; absent: a plain sha256 (unkeyed) entry. */
  readonly kid?: string;
  readonly hash: string;
}

/** One HMAC key of the key file. */
export interface AuditKey {
  readonly kid: string;
  readonly secret: Buffer;
}

/** The keys of a key file: new entries and checkpoints use the newest (last); verify accepts all. */
export interface AuditKeys {
  readonly newest: AuditKey;
  readonly byKid: ReadonlyMap<string, AuditKey>;
}

/** The checkpoint file: where the chain was after the last append, MAC'd so it cannot be moved back. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  readonly kid: string;
  readonly mac: string;
}

export const MIN_SECRET_LENGTH = 32;
const KID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses a key file: one key a line, `<kid> <secret>` (secret: at least 32 characters, used as
 * UTF-8 bytes, e.g. `openssl rand -hex 32`), `#` comments and blank lines ignored; the last key is
 * the newest. Errors name the file and line, never the secret.
 */
export function parseAuditKeys(text: string, where: string): AuditKeys {
  const byKid = new Map<string, AuditKey>();
  let newest: AuditKey | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = `${where} line ${i + 1}`;
    const m = /^(\S+)\s+(\S+)$/.exec(line);
    if (m === null) throw new Error(`${at}: expected "<key id> <secret>"`);
    const [, kid, secret] = m;
    if (!KID.test(kid)) throw new Error(`${at}: the key id must be 1 to 64 of A-Z a-z 0-9 . _ -`);
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`${at}: the secret of key ${JSON.stringify(kid)} is shorter than ${MIN_SECRET_LENGTH} characters`);
    if (byKid.has(kid)) throw new Error(`${at}: key id ${JSON.stringify(kid)} is listed twice`);
    newest = { kid, secret: Buffer.from(secret, 'utf8') };
    byKid.set(kid, newest);
  }
  if (newest === undefined) throw new Error(`${where}: no key (expected lines "<key id> <secret>")`);
  return { newest, byKid };
}

/** Reads and parses a key file: once at the daemon's start (like its TLS files), and in `vexil audit verify`. */
export function loadAuditKeysSync(path: string): AuditKeys {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`audit key file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseAuditKeys(text, `audit key file ${path}`);
}

/** The default checkpoint path for a log. */
export function defaultCheckpointPath(logPath: string): string {
  return `${logPath}.checkpoint`;
}

function hmacHex(key: AuditKey, data: string): string {
  return createHmac('sha256', key.secret).update(data).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a checkpoint's MAC covers: a fixed label (so no entry hash can pass for one), seq and hash. */
function checkpointData(c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'time' | 'kid'>): string {
  return JSON.stringify(['vexil-audit-checkpoint', c.seq, c.hash, c.time, c.kid]);
}

export interface AuditLogOptions {
  /** HMAC keys; without them entries are plain sha256 and no checkpoint is written. */
  readonly keys?: AuditKeys;
  /** The checkpoint file; default defaultCheckpointPath(path). Used only with keys. */
  readonly checkpointPath?: string;
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

/** The keyed hash of an entry: HMAC-SHA256 under `key` of its JSON without `hash`. */
export function entryHmac(entry: Omit<AuditEntry, 'hash'> | Record<string, unknown>, key: AuditKey): string {
  const { hash: _omit, ...rest } = entry as Record<string, unknown>;
  return hmacHex(key, JSON.stringify(rest));
}

/** A checkpoint for the chain's tail, MAC'd under `key`. */
export function makeCheckpoint(seq: number, hash: string, time: Date, key: AuditKey): AuditCheckpoint {
  const unsigned = { seq, hash, time: time.toISOString(), kid: key.kid };
  return { ...unsigned, mac: hmacHex(key, checkpointData(unsigned)) };
}

export class AuditLog {
  /** The chain's tail as last read or written, with the file size it was true for. */
  private tail: { seq: number; hash: string; size: number } | undefined;
  private readonly keys: AuditKeys | undefined;
  readonly checkpointPath: string | undefined;

  constructor(
    readonly path: string,
    options: AuditLogOptions = {},
  ) {
    this.keys = options.keys;
    this.checkpointPath = options.keys ? (options.checkpointPath ?? defaultCheckpointPath(path)) : undefined;
  }

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
      ...(this.keys ? { kid: this.keys.newest.kid } : {}),
    };
    const entry: AuditEntry = { ...unsigned, hash: this.keys ? entryHmac(unsigned, this.keys.newest) : entryHash(unsigned) };
    const line = `${JSON.stringify(entry)}\n`;
    try {
      await writeSynced(this.path, line, 'a', 0o640);
    } catch (err) {
      this.tail = undefined; // a partial line may have landed: read again next time
      throw unavailable(err, 'cannot append');
    }
    this.tail = { seq: entry.seq, hash: entry.hash, size: tail.size + Buffer.byteLength(line) };
    if (this.keys && this.checkpointPath) {
      try {
        await writeAtomically(this.checkpointPath, `${JSON.stringify(makeCheckpoint(entry.seq, entry.hash, time, this.keys.newest))}\n`);
      } catch (err) {
        // The entry stays (the record of an attempt); the caller does not commit the write.
        throw new AdminError(
          AdminErrorCode.AUDIT_UNAVAILABLE,
          `audit checkpoint ${this.checkpointPath}: cannot write: ${(err as Error).message}; the flag change was not applied (audit entry ${entry.seq} records the attempt)`,
          {},
          { cause: err },
        );
      }
    }
    return entry;
  }

  /** The checkpoint, if any; throws AUDIT_UNAVAILABLE when it exists but cannot be read as one. */
  private async readCheckpoint(): Promise<AuditCheckpoint | undefined> {
    if (this.checkpointPath === undefined) return undefined;
    try {
      return parseCheckpoint(await readFile(this.checkpointPath, 'utf8'));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw new AdminError(AdminErrorCode.AUDIT_UNAVAILABLE, `audit checkpoint ${this.checkpointPath}: ${(err as Error).message}; run vexil audit verify; nothing was written`, {}, { cause: err });
    }
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
      // A deleted log with a checkpoint left is the whole tail cut off: starting a new chain at
      // seq 1 would overwrite the checkpoint, the only evidence.
      await this.refuseIfCut(0);
      return { seq: 0, hash: GENESIS_HASH, size: 0 };
    }
    if (this.tail !== undefined && this.tail.size === size) return this.tail;
    // The log changed behind our back (or this is the first append since the start): appending to
    // a log that lost its tail would re-use its seqs and bury the evidence.
    const text = await readFile(this.path, 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) {
      await this.refuseIfCut(0);
      return (this.tail = { seq: 0, hash: GENESIS_HASH, size });
    }
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
    await this.refuseIfCut(last.seq);
    return (this.tail = { seq: last.seq, hash: last.hash, size });
  }

  /** Throws AUDIT_UNAVAILABLE when the checkpoint records a later seq than the log's last (`seq`). */
  private async refuseIfCut(seq: number): Promise<void> {
    const checkpoint = await this.readCheckpoint();
    if (checkpoint !== undefined && checkpoint.seq > seq) {
      throw new AdminError(
        AdminErrorCode.AUDIT_UNAVAILABLE,
        `audit log ${this.path} ends at seq ${seq} but its checkpoint ${this.checkpointPath} records seq ${checkpoint.seq}: ` +
          'entries were removed from the end; run vexil audit verify (to start a new log on purpose, move the checkpoint away with the old log); nothing was written',
      );
    }
  }
}

/** Parses a checkpoint file's text; throws when it is not one. */
export function parseCheckpoint(text: string): AuditCheckpoint {
  let c: Partial<AuditCheckpoint>;
  try {
    c = JSON.parse(text) as Partial<AuditCheckpoint>;
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof c !== 'object' || c === null || !Number.isSafeInteger(c.seq) || typeof c.hash !== 'string' || typeof c.time !== 'string' || typeof c.kid !== 'string' || typeof c.mac !== 'string') {
    throw new Error('not a checkpoint ({ seq, hash, time, kid, mac })');
  }
  return c as AuditCheckpoint;
}

/** Replaces `path` with `text` so that a reader sees the old or the new content, never a mix. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeSynced(temp, text, 'wx', 0o640);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export interface VerifyOptions {
  /** Keys for keyed entries and the checkpoint; without them a keyed entry cannot be verified (a failure). */
  readonly keys?: AuditKeys;
  /** Default defaultCheckpointPath(path). */
  readonly checkpointPath?: string;
}

export interface VerifySummary {
  readonly entries: number;
  /** Entries with a `kid`, their HMAC checked. */
  readonly keyed: number;
  /** Entries with a plain sha256 (older logs, or a daemon without --audit-key-file). */
  readonly unkeyed: number;
  /** The checkpoint's seq when one was checked. */
  readonly checkpointSeq?: number;
}

export type VerifyResult =
  | ({ readonly ok: true } & VerifySummary)
  | ({ readonly ok: false; readonly line: number; readonly seq?: number; readonly reason: string } & VerifySummary);

/**
 * Checks the chain: every line an entry, seq increasing by one, `prev` the previous `hash`, each
 * hash right (HMAC under its `kid`, or plain sha256 for unkeyed entries, which may only come before
 * the first keyed one); then, with keys, the checkpoint: its MAC, and the log must reach its seq
 * with the same hash there.
 */
export async function verifyAuditLog(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const keys = options.keys;
  let prev = GENESIS_HASH;
  let seq = 0;
  let keyed = 0;
  let unkeyed = 0;
  /** The hash of each seq, to compare with the checkpoint. */
  const hashes: string[] = [];
  const summary = (entries: number): VerifySummary => ({ entries, keyed, unkeyed });
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const fail = (reason: string, at?: number): VerifyResult => ({ ok: false, ...summary(i), line: n, ...(at !== undefined ? { seq: at } : {}), reason });
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(lines[i]) as Record<string, unknown>;
    } catch {
      return fail('not valid JSON');
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail('not an audit entry');
    if (entry['seq'] !== seq + 1) return fail(`seq is ${JSON.stringify(entry['seq'])}, expected ${seq + 1}`);
    const at = seq + 1;
    if (entry['prev'] !== prev) return fail(`seq ${at}: prev does not match the hash of the previous entry`, at);
    const hash = entry['hash'];
    if (typeof hash !== 'string') return fail(`seq ${at}: no hash`, at);
    const kid = entry['kid'];
    if (kid !== undefined) {
      if (typeof kid !== 'string') return fail(`seq ${at}: kid is not a string`, at);
      if (keys === undefined) return fail(`seq ${at} is keyed (kid ${JSON.stringify(kid)}): give the key file (--audit-key-file) to verify it`, at);
      const key = keys.byKid.get(kid);
      if (key === undefined) return fail(`seq ${at}: key ${JSON.stringify(kid)} is not in the key file`, at);
      if (!sameHex(hash, entryHmac(entry, key))) return fail(`seq ${at}: hash is not the HMAC of the entry under key ${JSON.stringify(kid)} (modified)`, at);
      keyed++;
    } else {
      // An unkeyed entry after a keyed one is what rewriting the chain without the key looks like.
      if (keyed > 0) return fail(`seq ${at} is unkeyed after keyed entries (rewritten without the key?)`, at);
      if (hash !== entryHash(entry)) return fail(`seq ${at}: hash does not match the entry (modified)`, at);
      unkeyed++;
    }
    hashes.push(hash);
    prev = hash;
    seq++;
  }
  const done = summary(lines.length);
  if (keys === undefined) return { ok: true, ...done };
  const checkpointPath = options.checkpointPath ?? defaultCheckpointPath(path);
  const end = (reason: string, at?: number): VerifyResult => ({ ok: false, ...done, line: lines.length, ...(at !== undefined ? { seq: at } : {}), reason });
  let checkpoint: AuditCheckpoint;
  try {
    checkpoint = parseCheckpoint(await readFile(checkpointPath, 'utf8'));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      // A log without keyed entries predates the key: there was never a checkpoint to lose.
      if (keyed === 0) return { ok: true, ...done };
      return end(`checkpoint ${checkpointPath} is missing: whether entries were removed from the end cannot be checked`);
    }
    return end(`checkpoint ${checkpointPath}: ${(err as Error).message}`);
  }
  const key = keys.byKid.get(checkpoint.kid);
  if (key === undefined) return end(`checkpoint ${checkpointPath}: key ${JSON.stringify(checkpoint.kid)} is not in the key file`);
  if (!sameHex(checkpoint.mac, hmacHex(key, checkpointData(checkpoint)))) return end(`checkpoint ${checkpointPath}: its MAC does not match (modified)`);
  if (checkpoint.seq > seq) {
    return end(`the log ends at seq ${seq} but the checkpoint records seq ${checkpoint.seq}: entries were removed from the end`, checkpoint.seq);
  }
  if (checkpoint.seq > 0 && hashes[checkpoint.seq - 1] !== checkpoint.hash) {
    return { ok: false, ...done, line: checkpoint.seq, seq: checkpoint.seq, reason: `seq ${checkpoint.seq} differs from the checkpoint (the chain up to it was rewritten)` };
  }
  return { ok: true, ...done, checkpointSeq: checkpoint.seq };
}
