/**
 * An http(s) source: GET the URI every `interval` seconds (default 5, fractions allowed).
 *
 * - Conditional requests: `If-None-Match` with the last ETag and `If-Modified-Since` with the last
 *   Last-Modified; 304 means unchanged. Validators are only kept from a response whose body could be
 *   converted, so a broken document keeps being fetched (and reported) until it is fixed.
 * - Headers: `Accept` (JSON, then YAML), then `config.headers`, then `Authorization: authHeader`.
 * - Content: YAML when the content type says so (`application/yaml`, `text/yaml`, `*+yaml`...), JSON
 *   for a JSON content type, otherwise by the URL path's extension, otherwise JSON-or-YAML (see
 *   ../shared/content.ts). Data is only handed over when the JSON text changed.
 * - Errors: 404 not_found, 401/403 denied, other non-2xx http_status, request timeout timeout,
 *   connection failures network, unconvertible body parse_error. Failures back off (../shared/poller.ts).
 * - Timeout: `timeoutMs` option, default min(10 s, max(1 s, interval)); it covers the whole exchange
 *   (headers and body).
 */
import type { Logger } from 'pino';
import { SourceFailureReason, type Source, type SourceConfig, type SourceListener } from '../source.js';
import { errorMessage, hintFromContentType, hintFromPath, toJsonText } from '../shared/content.js';
import { Poller, intervalMsOf, requestSignal, type PollOutcome } from '../shared/poller.js';

export interface HttpSourceOptions {
  readonly logger?: Logger;
  /** Defaults to the global fetch (undici). */
  readonly fetch?: typeof fetch;
  /** Request timeout in milliseconds; default min(10 s, max(1 s, interval)). */
  readonly timeoutMs?: number;
  /** Longest delay between attempts while failing; default max(interval, min(60 s, 10 × interval)). */
  readonly backoffCapMs?: number;
  /** Jitter source in [0, 1); tests pass a constant. */
  readonly random?: () => number;
}

const ACCEPT = 'application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.1';

export class HttpSource implements Source {
  readonly uri: string;
  private readonly url: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly poller: Poller;
  private readonly logger: Logger | undefined;
  private listener: SourceListener | undefined;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private lastJson: string | undefined;

  constructor(
    private readonly config: SourceConfig,
    options: HttpSourceOptions = {},
  ) {
    this.uri = config.uri;
    let url: URL;
    try {
      url = new URL(config.uri);
    } catch {
      throw new Error(`http source: invalid URL ${JSON.stringify(config.uri)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`http source: ${config.uri} is not an http(s) URL`);
    }
    this.url = url;
    const intervalMs = intervalMsOf(config.interval, config.uri);
    this.timeoutMs = options.timeoutMs ?? Math.min(10_000, Math.max(1_000, intervalMs));
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.logger = options.logger?.child({ source: config.uri });
    this.poller = new Poller(
      { intervalMs, backoffCapMs: options.backoffCapMs, random: options.random },
      (signal) => this.attempt(signal),
    );
  }

  async start(listener: SourceListener): Promise<void> {
    if (this.listener) throw new Error(`source ${this.uri} already started`);
    this.listener = listener;
    await this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: ACCEPT };
    for (const [name, value] of Object.entries(this.config.headers ?? {})) headers[name.toLowerCase()] = value;
    if (this.config.authHeader) headers.authorization = this.config.authHeader;
    if (this.etag !== undefined) headers['if-none-match'] = this.etag;
    if (this.lastModified !== undefined) headers['if-modified-since'] = this.lastModified;
    return headers;
  }

  private async attempt(stopSignal: AbortSignal): Promise<PollOutcome> {
    const request = requestSignal(stopSignal, this.timeoutMs);
    const started = performance.now();
    try {
      const response = await this.fetchImpl(this.url, {
        method: 'GET',
        headers: this.headers(),
        signal: request.signal,
        redirect: 'follow',
      });
      if (response.status === 304) {
        await discard(response);
        this.logger?.debug({ status: 304 }, 'source unchanged');
        return 'ok';
      }
      if (!response.ok) {
        await discard(response);
        if (stopSignal.aborted) return 'ok';
        const status = response.status;
        const reason =
          status === 404 ? SourceFailureReason.NOT_FOUND : status === 401 || status === 403 ? SourceFailureReason.DENIED : SourceFailureReason.HTTP_STATUS;
        const text = response.statusText ? ` ${response.statusText}` : '';
        this.fail(reason, `GET ${this.uri}: HTTP ${status}${text}`, undefined);
        return 'failed';
      }
      const body = await response.text();
      if (stopSignal.aborted) return 'ok';
      const hint = hintFromContentType(response.headers.get('content-type')) ?? hintFromPath(this.url.pathname);
      const converted = toJsonText(body, hint);
      if (!converted.ok) {
        this.fail(SourceFailureReason.PARSE_ERROR, `GET ${this.uri}: ${converted.message}`, converted.cause);
        return 'failed';
      }
      this.etag = response.headers.get('etag') ?? undefined;
      this.lastModified = response.headers.get('last-modified') ?? undefined;
      if (converted.json !== this.lastJson) {
        this.lastJson = converted.json;
        const version = this.etag ?? this.lastModified;
        this.logger?.debug({ version, ms: Math.round(performance.now() - started) }, 'source data changed');
        this.listener?.data({ source: this.uri, data: converted.json, ...(version !== undefined ? { version } : {}) });
      }
      return 'ok';
    } catch (error) {
      if (stopSignal.aborted) return 'ok';
      if (request.timedOut) {
        this.fail(SourceFailureReason.TIMEOUT, `GET ${this.uri}: no complete response within ${this.timeoutMs} ms`, error);
      } else {
        this.fail(SourceFailureReason.NETWORK, `GET ${this.uri}: ${describeFetchError(error)}`, error);
      }
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

/** Releases a response's connection without reading a body we do not want. */
async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // already closed
  }
}

/** undici says "fetch failed" and puts the interesting part (ECONNREFUSED...) in `cause`. */
function describeFetchError(error: unknown): string {
  const message = errorMessage(error);
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  if (cause === undefined) return message;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  const causeMessage = errorMessage(cause);
  return code && !causeMessage.includes(code) ? `${message}: ${code} ${causeMessage}` : `${message}: ${causeMessage}`;
}
