/**
 * The contract every flag source implements. Sources only fetch bytes and report versions; they
 * never interpret flags (the store validates with @vexil/core). One folder per source kind.
 */

/** One source as configured: flagd's `--sources` object (and what `-f/--uri` expands to). */
export interface SourceConfig {
  /** `file:path`, `http(s)://...`, `s3://bucket/key`, `grpc://host:port` (also `grpcs://`). */
  readonly uri: string;
  /** flagd's provider name: file, http, kubernetes (unsupported), grpc, s3 (ours: also gcs/azblob unsupported). */
  readonly provider: 'file' | 'http' | 'grpc' | 's3';
  /** grpc sources: the selector sent upstream. */
  readonly selector?: string;
  /** Poll interval in seconds for http and s3 (flagd's default 5). */
  readonly interval?: number;
  /** http: a full Authorization header value (flagd's authHeader), e.g. "Bearer x". */
  readonly authHeader?: string;
  /** http: extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** grpc: use TLS. */
  readonly tls?: boolean;
  /** grpc: CA certificate path for TLS. */
  readonly certPath?: string;
  /** s3: endpoint override and path-style addressing, for S3-compatible stores. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly region?: string;
}

/** A source's current content: a flag set document as JSON text (YAML is converted by the source). */
export interface SourceData {
  /** The source URI, as configured: it identifies the source in the store, logs and metrics. */
  readonly source: string;
  /** The flag set document, JSON text. */
  readonly data: string;
  /** What the source knows of the version (ETag, mtime, revision); informational. */
  readonly version?: string;
}

/**
 * Why a source's content is not being served: the `reason` of a SourceFailure, of the error log
 * line and of `vexil_source_errors_total`. A closed set, so that alerts can match on it; README.md
 * in this folder says which failure maps to which (a test keeps the two in step).
 */
export const SourceFailureReason = {
  /** ENOENT/ENOTDIR, HTTP 404, NoSuchKey/NoSuchBucket. */
  NOT_FOUND: 'not_found',
  /** EACCES/EPERM, HTTP 401/403, AccessDenied and the like, missing AWS credentials. */
  DENIED: 'denied',
  /** Any other non-2xx HTTP status (http and s3). */
  HTTP_STATUS: 'http_status',
  /** No complete response within the request timeout. */
  TIMEOUT: 'timeout',
  /** The connection failed (refused, reset, DNS), or a gRPC upstream is UNAVAILABLE. */
  NETWORK: 'network',
  /** Any other file read failure (a directory, EIO...). */
  READ_ERROR: 'read_error',
  /** The content is neither JSON nor a YAML mapping. */
  PARSE_ERROR: 'parse_error',
  /** A gRPC sync stream ended or failed other than by UNAVAILABLE. */
  STREAM_ERROR: 'stream_error',
  /**
   * The content converted, but the store refused it as a flag set (@vexil/core's validation).
   * Reported by the daemon, never by a source: sources do not interpret flags.
   */
  INVALID_FLAGS: 'invalid_flags',
} as const;
export type SourceFailureReason = (typeof SourceFailureReason)[keyof typeof SourceFailureReason];

/** Why a fetch failed, for logs and metrics; the store keeps serving the last good data. */
export interface SourceFailure {
  readonly source: string;
  readonly reason: SourceFailureReason;
  readonly message: string;
  readonly cause?: unknown;
}

export interface SourceListener {
  /** New content (possibly identical to the last; the store ignores unchanged data). */
  data(update: SourceData): void;
  /** A failed fetch or a broken stream. Never removes flags. */
  error(failure: SourceFailure): void;
}

export interface Source {
  readonly uri: string;
  /**
   * Starts fetching/watching. Resolves once the first attempt has finished (successfully or not),
   * so the daemon can start serving; later changes arrive through the listener.
   */
  start(listener: SourceListener): Promise<void>;
  /** Stops every timer, watcher, request and stream; resolves when nothing is left running. */
  stop(): Promise<void>;
}
