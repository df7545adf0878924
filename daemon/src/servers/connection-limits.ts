/**
 * Connection-level limits of the daemon's ports, so clients without credentials cannot take the
 * process to its open-file limit or hold sockets forever:
 *
 * - stream caps: long-lived streams (browser SSE, EventStream over gRPC and Connect, SyncFlags)
 *   are counted per client address and in total, in one StreamLimiter the daemon shares between
 *   its servers; a stream past a cap is refused (429, RESOURCE_EXHAUSTED) and counted;
 * - connection caps: `server.maxConnections` on the evaluation, sync and OFREP ports, so a flood
 *   there leaves file descriptors for the management port (the kill switch, probes);
 * - timeouts: a connection must deliver its request head within `headersTimeoutMs` and its whole
 *   request within `requestTimeoutMs` (HTTP/1); an HTTP/2 connection without streams closes after
 *   `idleTimeoutMs`.
 *
 * Refusals are logged at most once per interval with how many there were, not once each: a flood
 * of refusals must not become a flood of log lines.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../config/daemon-config.js';
import { clientAddress } from '../net/client-address.js';
import type { Logger } from '../telemetry/logger.js';

/** Which cap refused a stream (the `reason` label of `vexil_streams_rejected_total`). */
export type StreamRejection = 'per_address' | 'total';
/** Why a connection was closed early (the `reason` label of `vexil_connections_rejected_total`). */
export type ConnectionRejection = 'max_connections' | 'no_request';

/** What the limits report (telemetry/metrics.ts implements it). */
export interface LimitRecorder {
  streamRejected(service: string, reason: StreamRejection): void;
  connectionRejected(service: string, reason: ConnectionRejection): void;
}

/** The share of the open-file limit each capped port may hold when --max-connections is not given. */
export const FD_SHARE_PER_PORT = 0.25;
/** The connection cap per port when the open-file limit is unknown (not Linux). */
export const FALLBACK_MAX_CONNECTIONS = 4_096;
/** How often a refusal warning may repeat. */
export const WARN_INTERVAL_MS = 10_000;

export interface ConnectionTimeouts {
  /** Time to deliver a request head (HTTP/1) or the HTTP/2 preface; 0: none. */
  readonly headersTimeoutMs: number;
  /** Time to deliver a whole HTTP/1 request; 0: none. Streaming responses are not limited by it. */
  readonly requestTimeoutMs: number;
  /** An HTTP/2 connection with no stream open is closed after this long; 0: never. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: ConnectionTimeouts = Object.freeze({
  headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
});

/** The limits one server applies; every part optional, so servers built in tests keep their old behaviour. */
export interface ServerLimits {
  /** Shared by every server of the daemon; absent: streams are not capped. */
  readonly streams?: StreamLimiter;
  /** Connections this port holds at once; 0 or absent: no cap. */
  readonly maxConnections?: number;
  readonly timeouts?: ConnectionTimeouts;
  readonly recorder?: LimitRecorder;
}

/** A warning logged at most once per interval, with the number of occurrences it stands for. */
export class RateLimitedWarning {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs = WARN_INTERVAL_MS,
  ) {}

  note(fields: Record<string, unknown>): void {
    const now = performance.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const since = this.suppressed;
    this.suppressed = 0;
    this.last = now;
    this.logger.warn({ ...fields, ...(since > 0 ? { alsoRefusedSinceLastWarning: since } : {}) }, this.message);
  }
}

export interface StreamLimiterOptions {
  /** Streams open at once, every client together; 0: no cap. */
  readonly maxStreams: number;
  /** Streams open at once from one client address; 0: no cap. */
  readonly maxStreamsPerAddress: number;
  readonly logger: Logger;
  readonly recorder?: LimitRecorder;
  readonly warnIntervalMs?: number;
}

/** Counts long-lived streams per client address and in total, for every server of one daemon. */
export class StreamLimiter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly warning: RateLimitedWarning;

  constructor(private readonly options: StreamLimiterOptions) {
    this.warning = new RateLimitedWarning(options.logger, 'refusing streams: a stream cap is reached (--max-streams, --max-streams-per-address)', options.warnIntervalMs);
  }

  /** Streams open now. */
  get open(): number {
    return this.total;
  }

  /**
   * Counts a new stream of `service` from `address`; returns the function that uncounts it (call it
   * once, when the stream ends; later calls do nothing), or undefined when a cap refuses it.
   */
  tryOpen(service: string, address: string | undefined): (() => void) | undefined {
    const { maxStreams, maxStreamsPerAddress } = this.options;
    const from = clientAddress(address);
    const mine = this.byAddress.get(from) ?? 0;
    const reason: StreamRejection | undefined =
      maxStreamsPerAddress > 0 && mine >= maxStreamsPerAddress ? 'per_address' : maxStreams > 0 && this.total >= maxStreams ? 'total' : undefined;
    if (reason !== undefined) {
      this.options.recorder?.streamRejected(service, reason);
      this.warning.note({ service, reason, address: from, open: this.total, openFromAddress: mine, maxStreams, maxStreamsPerAddress });
      return undefined;
    }
    this.total++;
    this.byAddress.set(from, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byAddress.get(from) ?? 1) - 1;
      if (left === 0) this.byAddress.delete(from);
      else this.byAddress.set(from, left);
    };
  }

  /** The message a refused client gets. */
  static refusal(service: string): string {
    return `too many open streams (${service}): the daemon's stream cap is reached; retry later`;
  }
}

/**
 * A grpc-js server interceptor that counts the streaming calls at `paths` in `limiter` and
 * refuses one past a cap with RESOURCE_EXHAUSTED before its handler runs (grpc-js's own
 * interceptor API; the handler never sees a refused call).
 */
export function limitGrpcStreams(limiter: StreamLimiter, service: string, paths: ReadonlySet<string>): grpc.ServerInterceptor {
  return (method, call) => {
    if (!paths.has(method.path)) return new grpc.ServerInterceptingCall(call);
    let release: (() => void) | undefined;
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        release = limiter.tryOpen(service, call.getConnectionInfo().remoteAddress);
        if (release === undefined) call.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: StreamLimiter.refusal(service) });
        else next(metadata);
      })
      .withOnCancel(() => release?.())
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        release?.();
        next(status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}

/**
 * grpc-js options for a port's HTTP/2 sessions: `grpc.max_connection_idle_ms` closes (GOAWAY) a
 * connection that has had no stream for `idleTimeoutMs`.
 */
export function grpcIdleOptions(timeouts: ConnectionTimeouts | undefined): { 'grpc.max_connection_idle_ms'?: number } {
  return timeouts !== undefined && timeouts.idleTimeoutMs > 0 ? { 'grpc.max_connection_idle_ms': timeouts.idleTimeoutMs } : {};
}

/**
 * Caps the connections `server` holds at once (Node closes the ones past it on accept, which keeps
 * their file descriptors free) and counts and logs the closed ones.
 */
export function capConnections(server: NetServer, service: string, limits: ServerLimits | undefined, logger: Logger): void {
  const max = limits?.maxConnections ?? 0;
  if (max <= 0) return;
  server.maxConnections = max;
  const warning = new RateLimitedWarning(logger, `refusing connections on the ${service} port: --max-connections reached`);
  server.on('drop', (data?: { remoteAddress?: string }) => {
    limits?.recorder?.connectionRejected(service, 'max_connections');
    warning.note({ service, maxConnections: max, address: clientAddress(data?.remoteAddress) });
  });
}

/** Node's HTTP/1 server options for the timeouts: its own 408 for a late head or body. */
export function httpTimeoutOptions(timeouts: ConnectionTimeouts): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const shortest = Math.min(...[timeouts.headersTimeoutMs, timeouts.requestTimeoutMs].filter((t) => t > 0), 30_000);
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    // Node refuses a headers timeout above the request timeout; 0 disables both checks.
    requestTimeout: timeouts.requestTimeoutMs > 0 ? Math.max(timeouts.requestTimeoutMs, timeouts.headersTimeoutMs) : 0,
    // Node checks its timeouts on this interval (default 30 s): a quarter of the shortest one keeps a
    // timeout's overshoot small; more often buys nothing.
    connectionsCheckingInterval: Math.max(100, Math.floor(shortest / 4)),
  };
}

/**
 * Node enforces headersTimeout and requestTimeout only for connections of a server that has emitted
 * 'listening' (its constructor starts the connection tracking then). The evaluation and management
 * ports' HTTP/1 servers never listen: their connections are handed over by the net server that
 * tells HTTP/2 from HTTP/1. Emitting 'listening' on them starts the same tracking; a test holds a
 * slowloris connection on each port so a Node release that changes this is noticed.
 */
export function trackHandedOverConnections(server: HttpServer): void {
  server.emit('listening');
}

/**
 * The process's open-file limit (the soft RLIMIT_NOFILE, which Node raises to the hard limit at
 * startup), from /proc/self/limits; undefined where that file does not exist (not Linux) or says
 * "unlimited". Node has no API for it.
 */
export function readOpenFileLimit(read: (path: string) => string = (path) => readFileSync(path, 'utf8')): number | undefined {
  let text: string;
  try {
    text = read('/proc/self/limits');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The connection cap of each capped port (evaluation, sync, OFREP) without --max-connections: a
 * quarter of the open-file limit each, so the three together leave a quarter of it to the
 * management port, flag files, sources and logs, however hard the others are flooded.
 */
export function defaultMaxConnections(openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(1, Math.floor(openFileLimit * FD_SHARE_PER_PORT));
}
