/**
 * The daemon's configuration, parsed once at the process edge (CLI flags, FLAGD_* environment
 * variables, a --config file) and frozen. Inner modules receive it and never read process.env.
 */
import type { AdminToken } from '../admin/auth.js';
import type { SourceConfig } from '../sources/source.js';

export type LogFormat = 'console' | 'json';

export interface DaemonConfig {
  /** Flag sources in priority order: a later source wins a flag key collision (as flagd). */
  readonly sources: readonly SourceConfig[];
  /** Evaluation (gRPC, Connect, gRPC-web): flagd's -p/--port, default 8013. */
  readonly port: number;
  /** Health, readiness, metrics (and later the admin API): -m/--management-port, default 8014. */
  readonly managementPort: number;
  /** flagd.sync.v1: -g/--sync-port, default 8015. */
  readonly syncPort: number;
  /** OFREP: -r/--ofrep-port, default 8016. */
  readonly ofrepPort: number;
  /** Address to bind; flagd binds all interfaces. */
  readonly host: string;
  /** Static context merged into every evaluation: -X/--context-value key=value. */
  readonly contextValues: Readonly<Record<string, string>>;
  /** Request header → context key: -H/--context-from-header Header=key. */
  readonly contextFromHeaders: Readonly<Record<string, string>>;
  /** Allowed CORS origins for browsers: -C/--cors-origin (repeatable; "*" allows any). */
  readonly corsOrigins: readonly string[];
  /**
   * Selectors whose flag rules browsers may fetch on the OFREP port: --browser-rules (repeatable;
   * `all` for the request without a selector, `*` for every selector). Vexil only.
   */
  readonly browserRules: readonly string[];
  readonly logFormat: LogFormat;
  /** TLS for the servers: -c/--server-cert-path and -k/--server-key-path. */
  readonly tls?: { readonly certPath: string; readonly keyPath: string };
  /** Unix socket for evaluation instead of a TCP port: -d/--socket-path. */
  readonly socketPath?: string;
  /** Unix socket for the sync service instead of a TCP port: -e/--sync-socket-path. */
  readonly syncSocketPath?: string;
  /** Server-side deadline of sync and event streams, ms; 0 for none: --stream-deadline. */
  readonly streamDeadlineMs: number;
  /** GetMetadata answers UNIMPLEMENTED: --disable-sync-metadata. */
  readonly disableSyncMetadata: boolean;
  /** Debug logging: --debug. */
  readonly debug: boolean;
  /**
   * The source management API writes go to (`file:` or `s3://`, one of `sources`): --admin-source;
   * unset: the first file: source.
   */
  readonly adminSource?: string;
  /** Management API tokens: --admin-token token:role[:name]; none: loopback callers only. */
  readonly adminTokens: readonly AdminToken[];
  /** Management API requests per minute per token (per address without tokens): --admin-rate-limit. */
  readonly adminRateLimit: number;
  /** Failed authentications per minute per address before it gets 429s: --admin-auth-failure-limit. */
  readonly adminAuthFailureLimit: number;
  /** The audit log: --audit-log; unset: vexil-audit.jsonl next to the admin source file. */
  readonly auditLog?: string;
  /** HMAC keys for audit entries and checkpoints: --audit-key-file; unset: plain sha256 entries, no checkpoint. */
  readonly auditKeyFile?: string;
  /** The audit checkpoint file: --audit-checkpoint; unset: the audit log's path + `.checkpoint`. */
  readonly auditCheckpoint?: string;
  /** Long-lived streams open at once, all clients together: --max-streams; 0: no cap. */
  readonly maxStreams: number;
  /** Long-lived streams open at once from one client address: --max-streams-per-address; 0: no cap. */
  readonly maxStreamsPerAddress: number;
  /**
   * Connections each of the evaluation, sync and OFREP ports holds: --max-connections; 0: no cap;
   * unset: derived from the process's open-file limit when the daemon starts.
   */
  readonly maxConnections?: number;
  /** Time to send a request head or the HTTP/2 preface, ms; 0: none: --headers-timeout. */
  readonly headersTimeoutMs: number;
  /** Time for a whole HTTP/1 request, ms; 0: none: --request-timeout. */
  readonly requestTimeoutMs: number;
  /** An HTTP/2 connection without streams is closed after this long, ms; 0: never: --idle-timeout. */
  readonly idleTimeoutMs: number;
}

// Defaults with a reason worth a name. The option table (options.ts) is what applies them; the
// servers import the few they also need when built without a DaemonConfig (tests, embedding).
export const DEFAULT_ADMIN_RATE_LIMIT = 600;
export const DEFAULT_ADMIN_AUTH_FAILURE_LIMIT = 20;

// Connection limits (servers/connection-limits.ts, README "Connection limits").
/**
 * Above the bench's 10,000 streams (5,000 SyncFlags + 5,000 EventStream) with room to spare, and
 * below a typical 20,000 open-file limit: HTTP/1 streams (SSE, Connect) hold one socket each.
 */
export const DEFAULT_MAX_STREAMS = 15_000;
/**
 * As many as the bench opens from one address: behind an ingress or a NAT every client shares one
 * address, so a tight default would refuse legitimate fleets.
 */
export const DEFAULT_MAX_STREAMS_PER_ADDRESS = 10_000;
/** Browsers and providers send a request head in one write; 10 s is generous and ends slowloris early. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Request bodies here are small (contexts, flag documents under 1-4 MiB). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** An HTTP/2 connection without streams; gRPC clients reconnect on the GOAWAY transparently. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export const DEFAULT_PORTS = Object.freeze({ port: 8013, managementPort: 8014, syncPort: 8015, ofrepPort: 8016 });
