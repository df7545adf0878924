/**
 * An S3 object as the write target. Reads are GetObject (fresh every time); writes are
 * conditional: the object must still have the ETag it was read with (HeadObject before the audit
 * entry, then PutObject with `IfMatch`, which S3 has enforced since 2024: 412
 * PreconditionFailed when another writer got there first).
 *
 * Stores that ignore `If-Match` on PutObject (some S3-compatible servers; s3rver among them)
 * leave a race between the HeadObject check and the put: run a single writer there (one daemon
 * with the management API in use, the others reading). See docs/management-api.md.
 *
 * The last parsed snapshot is kept with the object's ETag: a read first asks HeadObject, and only a
 * different ETag costs a GetObject and a parse.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../sources/uri.js';
import type { SourceConfig } from '../sources/source.js';
import { AdminError, AdminErrorCode } from './errors.js';
import { StaleDocumentError, formatOf, snapshotOf, type FlagRepository, type PreparedWrite, type RepositorySnapshot } from './repository.js';

export interface S3RepositoryOptions {
  /** Merged over the client configuration derived from the SourceConfig (credentials in tests). */
  readonly clientConfig?: S3ClientConfig;
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

export class S3Repository implements FlagRepository {
  readonly uri: string;
  readonly defaultAuditLog = undefined;
  private readonly bucket: string;
  private readonly key: string;
  private readonly client: S3Client;
  private cached: RepositorySnapshot | undefined;

  constructor(config: SourceConfig, options: S3RepositoryOptions = {}) {
    this.uri = config.uri;
    ({ bucket: this.bucket, key: this.key } = parseS3Uri(config.uri));
    this.client = new S3Client({
      ...(config.region !== undefined ? { region: config.region } : {}),
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : { followRegionRedirects: true }),
      ...(config.forcePathStyle !== undefined ? { forcePathStyle: config.forcePathStyle } : {}),
      ...options.clientConfig,
    });
  }

  async read(): Promise<RepositorySnapshot> {
    const missing = () => ({ ...snapshotOf('', formatOf(this.key), this.uri), missing: true });
    if (this.cached !== undefined) {
      let etag: string | undefined;
      try {
        etag = (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key }))).ETag;
      } catch (err) {
        if (status(err) === 404 || (err as Error).name === 'NotFound') return missing();
        throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `HeadObject ${this.uri}: ${(err as Error).message}`, {}, { cause: err });
      }
      if (etag !== undefined && etag === this.cached.storeVersion) return this.cached;
    }
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      const text = r.Body ? await r.Body.transformToString('utf-8') : '';
      const snapshot = snapshotOf(text, formatOf(this.key), this.uri, r.ETag);
      if (r.ETag !== undefined) this.cached = snapshot;
      return snapshot;
    } catch (err) {
      if (err instanceof AdminError) throw err;
      if (status(err) === 404 || (err as Error).name === 'NoSuchKey') return missing();
      throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `GetObject ${this.uri}: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  async prepare(text: string, expected: RepositorySnapshot): Promise<PreparedWrite> {
    if (formatOf(this.key) === 'yaml') {
      throw new AdminError(AdminErrorCode.UNSUPPORTED_SOURCE, `${this.uri} is a YAML object: the API writes JSON flag sets only`);
    }
    let current: string | undefined;
    try {
      current = (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key }))).ETag;
    } catch (err) {
      if (status(err) !== 404) throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `HeadObject ${this.uri}: ${(err as Error).message}`, {}, { cause: err });
    }
    if (current !== expected.storeVersion) throw new StaleDocumentError(await this.read().catch(() => undefined));
    const put = async () => {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key,
            Body: text,
            ContentType: 'application/json',
            // Create only if still absent; otherwise only over the version that was read.
            ...(expected.storeVersion !== undefined ? { IfMatch: expected.storeVersion } : { IfNoneMatch: '*' }),
          }),
        );
      } catch (err) {
        if (status(err) === 412 || status(err) === 409) throw new StaleDocumentError(await this.read().catch(() => undefined));
        throw err;
      }
    };
    return { commit: put, abort: async () => {} };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
