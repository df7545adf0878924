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
  /** The audit log: --audit-log; unset: vexil-audit.jsonl next to the admin source file. */
  readonly auditLog?: string;
}

export const DEFAULT_ADMIN_RATE_LIMIT = 600;

export const DEFAULT_PORTS = Object.freeze({ port: 8013, managementPort: 8014, syncPort: 8015, ofrepPort: 8016 });
