/**
 * Where API writes go: the source of truth the daemon already reads (a flag file or an S3
 * object). A repository reads the whole document with its version and stages a replacement that
 * the caller commits only after the audit entry is durable, so a failed audit leaves the source
 * as it was (docs/management-api.md, "Audit log").
 */
import { parse as parseYaml } from 'yaml';
import { AdminError, AdminErrorCode } from './errors.js';
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
  /** Reads the current document (fresh: never cached, so hand edits are seen). */
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
    value = text.trim() === '' ? {} : format === 'yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `${where} is not valid ${format.toUpperCase()}: ${(err as Error).message}`, {}, { cause: err });
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
