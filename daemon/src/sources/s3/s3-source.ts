/**
 * An s3 source: `s3://bucket/key` (the key is taken literally, no percent-decoding), fetched with
 * GetObject every `interval` seconds (default 5, fractions allowed).
 *
 * - Conditional: `IfNoneMatch` with the last ETag; S3 answers 304, which the SDK throws as
 *   `NotModified`: unchanged. Data is also only handed over when the JSON text changed.
 * - Client: `region`, `endpoint` and `forcePathStyle` from the SourceConfig; without a configured
 *   region, the SDK's default chain (AWS_REGION, profile), falling back to us-east-1 when that has
 *   none. Without an endpoint override, region redirects are followed. Credentials come from the
 *   SDK's default chain (env AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, SSO, web identity,
 *   container/instance metadata); `clientConfig` (options, not config) overrides anything, e.g.
 *   explicit credentials in tests. The SDK's own retries are off (maxAttempts 1): failures back off
 *   through ../shared/poller.ts like the http source.
 * - Content: by the key's extension, or the object's Content-Type, otherwise JSON-or-YAML.
 * - Errors: NoSuchKey/NoSuchBucket/404 not_found; AccessDenied/InvalidAccessKeyId/
 *   SignatureDoesNotMatch/403/401 and missing credentials denied; other HTTP statuses http_status;
 *   request timeout timeout; connection failures network; unconvertible body parse_error.
 */
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { SourceFailureReason, type Source, type SourceConfig, type SourceListener } from '../source.js';
import { errorMessage, hintFromContentType, hintFromPath, toJsonText } from '../shared/content.js';
import { Poller, intervalMsOf, requestSignal, type PollOutcome } from '../shared/poller.js';
import { parseS3Uri } from '../uri.js';

export interface S3SourceOptions {
  readonly logger?: Logger;
  /** Merged over the client configuration derived from the SourceConfig (credentials, handlers...). */
  readonly clientConfig?: S3ClientConfig;
  /** Request timeout in milliseconds; default min(10 s, max(1 s, interval)). */
  readonly timeoutMs?: number;
  /** Longest delay between attempts while failing; default max(interval, min(60 s, 10 × interval)). */
  readonly backoffCapMs?: number;
  /** Jitter source in [0, 1); tests pass a constant. */
  readonly random?: () => number;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);
const DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AllAccessDisabled',
  'CredentialsProviderError',
]);

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function sdkError(error: unknown): SdkError {
  return typeof error === 'object' && error !== null ? (error as SdkError) : {};
}

/** The stable reason for a failed GetObject (timeouts and stops are told apart by the caller). */
export function classifyS3Error(error: unknown): 'not_modified' | SourceFailureReason {
  const { name = '', $metadata } = sdkError(error);
  const status = $metadata?.httpStatusCode;
  if (name === 'NotModified' || status === 304) return 'not_modified';
  if (NOT_FOUND.has(name) || status === 404) return SourceFailureReason.NOT_FOUND;
  if (DENIED.has(name) || status === 401 || status === 403) return SourceFailureReason.DENIED;
  if (status !== undefined) return SourceFailureReason.HTTP_STATUS;
  return SourceFailureReason.NETWORK;
}

export class S3Source implements Source {
  readonly uri: string;
  private readonly bucket: string;
  private readonly key: string;
  private readonly timeoutMs: number;
  private readonly poller: Poller;
  private readonly logger: Logger | undefined;
  private readonly clientConfig: S3ClientConfig;
  private client: S3Client;
  private listener: SourceListener | undefined;
  private etag: string | undefined;
  private lastJson: string | undefined;

  constructor(config: SourceConfig, options: S3SourceOptions = {}) {
    this.uri = config.uri;
    ({ bucket: this.bucket, key: this.key } = parseS3Uri(config.uri));
    const intervalMs = intervalMsOf(config.interval, config.uri);
    this.timeoutMs = options.timeoutMs ?? Math.min(10_000, Math.max(1_000, intervalMs));
    this.logger = options.logger?.child({ source: config.uri });
    this.clientConfig = {
      maxAttempts: 1,
      ...(config.region !== undefined ? { region: config.region } : {}),
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : { followRegionRedirects: true }),
      ...(config.forcePathStyle !== undefined ? { forcePathStyle: config.forcePathStyle } : {}),
      ...options.clientConfig,
    };
    this.client = new S3Client(this.clientConfig);
    this.poller = new Poller(
      { intervalMs, backoffCapMs: options.backoffCapMs, random: options.random },
      (signal) => this.attempt(signal),
    );
  }

  async start(listener: SourceListener): Promise<void> {
    if (this.listener) throw new Error(`source ${this.uri} already started`);
    this.listener = listener;
    if (this.clientConfig.region === undefined) {
      try {
        await this.client.config.region();
      } catch {
        this.logger?.debug('no AWS region configured; using us-east-1');
        this.client.destroy();
        this.client = new S3Client({ ...this.clientConfig, region: 'us-east-1' });
      }
    }
    await this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    this.client.destroy();
  }

  private async attempt(stopSignal: AbortSignal): Promise<PollOutcome> {
    const request = requestSignal(stopSignal, this.timeoutMs);
    const what = `GetObject ${this.uri}`;
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key, ...(this.etag !== undefined ? { IfNoneMatch: this.etag } : {}) }),
        { abortSignal: request.signal },
      );
      const body = response.Body ? await response.Body.transformToString('utf-8') : '';
      if (stopSignal.aborted) return 'ok';
      const hint = hintFromContentType(response.ContentType) ?? hintFromPath(this.key);
      const converted = toJsonText(body, hint);
      if (!converted.ok) {
        this.fail(SourceFailureReason.PARSE_ERROR, `${what}: ${converted.message}`, converted.cause);
        return 'failed';
      }
      this.etag = response.ETag;
      if (converted.json !== this.lastJson) {
        this.lastJson = converted.json;
        const version = response.ETag ?? response.LastModified?.toISOString();
        this.logger?.debug({ version }, 'source data changed');
        this.listener?.data({ source: this.uri, data: converted.json, ...(version !== undefined ? { version } : {}) });
      }
      return 'ok';
    } catch (error) {
      if (stopSignal.aborted) return 'ok';
      if (request.timedOut) {
        this.fail(SourceFailureReason.TIMEOUT, `${what}: no complete response within ${this.timeoutMs} ms`, error);
        return 'failed';
      }
      const reason = classifyS3Error(error);
      if (reason === 'not_modified') {
        this.logger?.debug({ status: 304 }, 'source unchanged');
        return 'ok';
      }
      const { name, $metadata } = sdkError(error);
      const status = $metadata?.httpStatusCode;
      const detail = [name, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
      this.fail(reason, `${what}: ${errorMessage(error)}${detail ? ` (${detail})` : ''}`, error);
      return 'failed';
    } finally {
      request.dispose();
    }
  }

  private fail(reason: SourceFailureReason, message: string, cause: unknown): void {
    this.logger?.debug({ reason, failures: this.poller.consecutiveFailures + 1 }, message);
    this.listener?.error({ source: this.uri, reason, message, ...(cause !== undefined ? { cause } : {}) });
  }
}
