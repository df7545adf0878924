/**
 * What a source URI names, for everything that reads one: the sources themselves, the admin
 * repositories that write back to them, and the configuration (matching `--admin-source`). Kept
 * apart from any one source so that the readers do not reach into a source's implementation.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The file path a file source URI names: `file:relative`, `file:/abs`, `file:///abs` or a bare path
 * (flagd's `--sources` form), relative paths resolved against the working directory.
 */
export function filePathOf(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  const path = uri.startsWith('file:') ? uri.slice('file:'.length) : uri;
  if (path === '') throw new Error(`file source: no path in ${JSON.stringify(uri)}`);
  return resolve(path);
}

/** Where an `s3://` URI points. */
export interface S3Location {
  readonly bucket: string;
  /** Taken literally: no percent-decoding, as S3 keys may hold `%`. */
  readonly key: string;
}

/**
 * Splits a normalised `s3://bucket/key` (the configuration has already moved any `?region=...`
 * options into SourceConfig fields, so none are expected here).
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`s3 source: ${JSON.stringify(uri)} is not s3://bucket/key`);
  return { bucket: match[1], key: match[2] };
}
