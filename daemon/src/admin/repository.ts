/**
 * Where API writes go: the source of truth the daemon already reads (a flag file or an S3
 * object). A repository reads the whole document with its version and stages a replacement that
 * the caller commits only after the audit entry is durable, so a failed audit leaves the source
 * as it was (docs/management-api.md, "Audit log").
 */
import { parse as parseYaml } from 'yaml';
import { AdminError, AdminErrorCode } from './errors.js';
import { toJsonText } from '../sources/shared/content.js';
import { etagOf } from './versions.js';

/** A flag set document as stored: `flags` plus whatever else the file holds (`$evaluators`, `metadata`, `$schema`). */
export interface FlagDocument {
  flags?: Record<string, Record<string, unknown>>;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface RepositorySnapshot {
  /** The document's bytes, as text. */
  readonly text: string;
  /** The flag set version: the strong ETag of `text`. */
  readonly version: string;
  readonly document: FlagDocument;
  readonly format: 'json' | 'yaml';
  /** What the store itself versions the object with (S3's ETag), for conditional writes. */
  readonly storeVersion?: string;
  /**
   * The file or object does not exist (read as an empty flag set). Writing then is safe only when
   * the daemon serves nothing from this source; see FlagService's served-state check.
   */
  readonly missing?: boolean;
}

export interface PreparedWrite {
  /** Makes the staged document the source's content. */
  commit(): Promise<void>;
  /** Drops the staged document; the source is untouched. */
  abort(): Promise<void>;
}

export interface FlagRepository {
  /** The source URI as configured (`file:flags.json`, `s3://bucket/key`). */
  readonly uri: string;
  /** The audit log's default path, when the repository has a natural place for it. */
  readonly defaultAuditLog: string | undefined;
  /**
   * Reads the current document. Hand edits are always seen: a repository may hand back the snapshot
   * it parsed last only after a cheap check (file stat, S3 HeadObject) says the bytes are the same,
   * so a large flag set is parsed once per change, not once per API read.
   */
  read(): Promise<RepositorySnapshot>;
  /**
   * Stages `text` as the next document, provided the source still holds `expected`; throws
   * StaleDocumentError (with the current snapshot) when it does not.
   */
  prepare(text: string, expected: RepositorySnapshot): Promise<PreparedWrite>;
  /** Releases clients (S3). */
  close(): Promise<void>;
}

/** The source changed since it was read (a hand edit, another replica): the write must not land. */
export class StaleDocumentError extends Error {
  override readonly name = 'StaleDocumentError';
  constructor(readonly current: RepositorySnapshot | undefined) {
    super('the flag set changed since it was read');
  }
}

/** Parses stored text into a snapshot; a document that is not a flag set object is SOURCE_UNAVAILABLE. */
export function snapshotOf(text: string, format: 'json' | 'yaml', where: string, storeVersion?: string): RepositorySnapshot {
  let value: unknown;
  try {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    value = body.trim() === '' ? {} : format === 'yaml' ? parseYaml(body) : JSON.parse(body);
  } catch (err) {
    // Only now ask where: the parsers' own messages quote the content, which may be anything the
    // path points at (a symlink to a secret), and this message reaches API callers.
    const fault = toJsonText(text, format);
    throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `${where}: ${fault.ok ? `invalid ${format.toUpperCase()}` : fault.message}`, {}, { cause: err });
  }
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `${where} does not hold a flag set object`);
  }
  const document = value as FlagDocument;
  if (document.flags !== undefined && (typeof document.flags !== 'object' || document.flags === null || Array.isArray(document.flags))) {
    throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `${where}: "flags" is not an object`);
  }
  return { text, version: etagOf(text), document, format, ...(storeVersion !== undefined ? { storeVersion } : {}) };
}

export function formatOf(path: string): 'json' | 'yaml' {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'json';
}

/**
 * The text the daemon's source would hand the store for this snapshot (JSON text: YAML converted,
 * a byte-order mark dropped), to compare with what the store serves from the same source.
 */
export function servedFormOf(snap: RepositorySnapshot): string {
  if (snap.format === 'yaml') return JSON.stringify(snap.document);
  return snap.text.charCodeAt(0) === 0xfeff ? snap.text.slice(1) : snap.text;
}
