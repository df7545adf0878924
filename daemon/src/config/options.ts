/**
 * The option table: every flag `vexil` and `vexil start` understand, with its flagd name,
 * shorthand, environment variable, help, and (for most) the DaemonConfig field it sets, the
 * converter that reads it and its default. The parser (parse.ts), DEFAULT_CONFIG and the help text
 * (help.ts) all come from this one table, so a new option is one entry here.
 */
import type { SourceConfig } from '../sources/source.js';
import {
  formatDuration,
  toAdminSource,
  toAdminTokens,
  toBool,
  toCap,
  toContextValues,
  toDurationMs,
  toHeaderMappings,
  toHost,
  toList,
  toLogFormat,
  toOptionalString,
  toPort,
  toRateLimit,
  toSources,
  toUriSources,
  type Converter,
} from './converters.js';
import {
  DEFAULT_ADMIN_AUTH_FAILURE_LIMIT,
  DEFAULT_ADMIN_RATE_LIMIT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_STREAMS,
  DEFAULT_MAX_STREAMS_PER_ADDRESS,
  DEFAULT_PORTS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type DaemonConfig,
} from './daemon-config.js';

export type OptionKind =
  /** A single value; given twice, the last wins (pflag and commander agree). */
  | 'value'
  /** Repeatable; each occurrence may also hold a comma-separated list (pflag's StringSlice). */
  | 'list'
  /** Repeatable key=value pairs, comma-separated allowed (pflag's StringToString). */
  | 'map'
  /** A boolean switch; `--name=false` is accepted too, as pflag does. */
  | 'bool';

/** What the command line, the error messages and the help need to know of an option. */
export interface OptionSpec {
  /** The long flag name, also the config-file key (flagd: "keys have the exact naming as the flags"). */
  readonly name: string;
  readonly short?: string;
  readonly kind: OptionKind;
  /** Placeholder shown in help for the value. */
  readonly arg?: string;
  /** The environment variable, if any (flagd: FLAGD_ + upper case, dashes to underscores). */
  readonly env?: string;
  /** Why there is no environment variable, shown in help instead of one. */
  readonly noEnvReason?: string;
  /** The default as shown in help. */
  readonly defaultText?: string;
  readonly help: string;
  /** `root`: options of `vexil` itself (cobra's persistent flags: also accepted after `start`). */
  readonly scope: 'root' | 'start';
  /** A flagd option vexil accepts (so flagd command lines keep working) but does not act on. */
  readonly ignored?: boolean;
}

/** An option that sets one DaemonConfig field on its own. */
export interface FieldOption<K extends keyof DaemonConfig = keyof DaemonConfig> extends OptionSpec {
  readonly field: K;
  readonly parse: Converter<DaemonConfig[K]>;
  /** The value when no layer sets the option (or its converter reads it as unset, e.g. ""). */
  readonly default: DaemonConfig[K];
}

/** An option read by one of parse.ts's explicit steps, which combine it with others (-f and -s, -c and -k). */
export interface InputOption<T> extends OptionSpec {
  readonly parse: Converter<T>;
}

export function isFieldOption(spec: OptionSpec): spec is FieldOption {
  return 'field' in spec;
}

/** flagd's environment variable for a flag name. */
export function envName(name: string): string {
  return `FLAGD_${name.replace(/-/g, '_').toUpperCase()}`;
}

type Entry = Omit<OptionSpec, 'env' | 'defaultText'> & {
  /** The environment variable; envName(name) unless given, false for none. */
  readonly env?: string | false;
};

function option(entry: Entry & { readonly defaultText?: string }): OptionSpec {
  const { env, ...rest } = entry;
  return Object.freeze(env === false ? rest : { ...rest, env: env ?? envName(entry.name) });
}

/** An option the post-steps of parse.ts read through `parse`. */
function input<T>(entry: Entry & { readonly parse: Converter<T>; readonly defaultText?: string }): InputOption<T> {
  return option(entry) as InputOption<T>;
}

/**
 * An option that sets `field`. The converter's and the default's types are the field's, so a
 * mismatch fails to compile. The help shows the default as `show` (or String) renders it, unless
 * `defaultText` says it otherwise (or false: not at all); lists, maps and unset fields show none.
 */
function opt<K extends keyof DaemonConfig>(
  entry: Entry & {
    readonly field: K;
    readonly parse: Converter<DaemonConfig[K]>;
    readonly default: DaemonConfig[K];
    readonly show?: (value: DaemonConfig[K]) => string;
    readonly defaultText?: string | false;
  },
): FieldOption<K> {
  const { show, defaultText, ...rest } = entry;
  const value: unknown = entry.default;
  const shown =
    defaultText === false
      ? undefined
      : (defaultText ??
        (show !== undefined ? show(entry.default) : typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? String(value) : undefined));
  return option(shown === undefined ? rest : { ...rest, defaultText: shown }) as FieldOption<K>;
}

// Options that parse.ts's explicit steps read, besides the table loop.

export const CONFIG_OPTION = option({
  name: 'config',
  kind: 'value',
  arg: 'path',
  scope: 'root',
  env: false,
  noEnvReason: 'flag only',
  help: 'Config file, YAML or JSON; its keys are the long flag names (port, uri, sources, ...). No file is read unless given.',
});

export const URI_OPTION = input<SourceConfig[]>({
  name: 'uri',
  short: 'f',
  kind: 'list',
  arg: 'uri',
  scope: 'start',
  parse: toUriSources,
  help:
    'Flag source, repeatable (or comma-separated): file:path, http(s)://url, grpc://host:port, grpcs://host:port, ' +
    's3://bucket/key. When flag keys collide, the later source wins. In the environment, separate URIs with spaces.',
});

export const SOURCES_OPTION = input<SourceConfig[]>({
  name: 'sources',
  short: 's',
  kind: 'value',
  arg: 'json',
  scope: 'start',
  parse: toSources,
  help:
    'JSON array of source objects, added after the -f sources: {"uri", "provider": file|http|grpc|s3, "interval", ' +
    '"authHeader", "headers", "selector", "tls", "certPath", "endpoint", "region", "forcePathStyle"}. ' +
    'In a config file, a YAML list of the same objects.',
});

export const SERVER_CERT_OPTION = input<string | undefined>({
  name: 'server-cert-path',
  short: 'c',
  kind: 'value',
  arg: 'path',
  scope: 'start',
  parse: toOptionalString,
  help: 'Server TLS certificate (PEM); needs --server-key-path.',
});

export const SERVER_KEY_OPTION = input<string | undefined>({
  name: 'server-key-path',
  short: 'k',
  kind: 'value',
  arg: 'path',
  scope: 'start',
  parse: toOptionalString,
  help: 'Server TLS private key (PEM); needs --server-cert-path.',
});

const TABLE = [
  // --- root (persistent) ---------------------------------------------------------------------
  CONFIG_OPTION,
  opt({
    name: 'debug',
    short: 'x',
    kind: 'bool',
    scope: 'root',
    field: 'debug',
    parse: toBool,
    default: false,
    help: 'Verbose (debug) logging.',
  }),
  // --- start: sources --------------------------------------------------------------------------
  URI_OPTION,
  SOURCES_OPTION,
  // --- start: servers --------------------------------------------------------------------------
  opt({
    name: 'port',
    short: 'p',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    field: 'port',
    parse: toPort,
    default: DEFAULT_PORTS.port,
    help: 'Port for flag evaluation (gRPC, Connect, gRPC-web).',
  }),
  opt({
    name: 'management-port',
    short: 'm',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    field: 'managementPort',
    parse: toPort,
    default: DEFAULT_PORTS.managementPort,
    help: 'Port for health, readiness and metrics.',
  }),
  opt({
    name: 'sync-port',
    short: 'g',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    field: 'syncPort',
    parse: toPort,
    default: DEFAULT_PORTS.syncPort,
    help: 'Port for the gRPC sync service (flagd.sync.v1).',
  }),
  opt({
    name: 'ofrep-port',
    short: 'r',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    field: 'ofrepPort',
    parse: toPort,
    default: DEFAULT_PORTS.ofrepPort,
    help: 'Port for OFREP (OpenFeature Remote Evaluation Protocol).',
  }),
  opt({
    name: 'host',
    kind: 'value',
    arg: 'address',
    scope: 'start',
    env: false,
    noEnvReason: 'flag or config file only: FLAGD_HOST is what flagd providers use to find the daemon',
    field: 'host',
    parse: toHost,
    default: '0.0.0.0',
    help: 'Address the servers bind (vexil only; flagd always binds all interfaces).',
  }),
  opt({
    name: 'socket-path',
    short: 'd',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    field: 'socketPath',
    parse: toOptionalString,
    default: undefined,
    help: 'Unix socket for the evaluation service, instead of the TCP --port.',
  }),
  opt({
    name: 'sync-socket-path',
    short: 'e',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    field: 'syncSocketPath',
    parse: toOptionalString,
    default: undefined,
    help: 'Unix socket for the sync service, instead of the TCP --sync-port.',
  }),
  opt({
    name: 'stream-deadline',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    field: 'streamDeadlineMs',
    parse: toDurationMs,
    default: 0,
    show: formatDuration,
    help: 'Server-side deadline for sync and event streams (e.g. 10m; 0: none). A stream past it ends with DEADLINE_EXCEEDED and the client reconnects.',
  }),
  opt({
    name: 'disable-sync-metadata',
    kind: 'bool',
    scope: 'start',
    field: 'disableSyncMetadata',
    parse: toBool,
    default: false,
    // flagd's help shows no default for it either; kept as it was.
    defaultText: false,
    help: "Disable the sync service's deprecated GetMetadata (UNIMPLEMENTED); sync_context still carries -X values.",
  }),
  SERVER_CERT_OPTION,
  SERVER_KEY_OPTION,
  opt({
    name: 'cors-origin',
    short: 'C',
    kind: 'list',
    arg: 'origin',
    scope: 'start',
    field: 'corsOrigins',
    parse: toList,
    default: [],
    help: 'Allowed CORS origin, repeatable (or comma-separated); * allows any origin. In the environment, separate with spaces.',
  }),
  opt({
    name: 'browser-rules',
    kind: 'list',
    arg: 'selector',
    scope: 'start',
    field: 'browserRules',
    parse: toList,
    default: [],
    help:
      'Flag set whose rules browsers may fetch (GET /vexil/v1/rules and /vexil/v1/stream on the OFREP port), repeatable ' +
      '(or comma-separated): a selector as clients send it (flagSetId=web, source=...); all: the request without a selector; ' +
      '*: every selector. Flag sets with "browserRules": true in their metadata are exposed too; others get 403 (targeting ' +
      'rules can hold personal data). Vexil only. In the environment, separate with spaces.',
  }),
  // --- start: connection limits (vexil only; README "Connection limits") ---------------------------
  opt({
    name: 'max-streams',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    field: 'maxStreams',
    parse: toCap,
    default: DEFAULT_MAX_STREAMS,
    help:
      'Long-lived streams open at once, every client together: SyncFlags, EventStream (gRPC, Connect, gRPC-web) and ' +
      'browser rules streams; past it: RESOURCE_EXHAUSTED or 429 (0: no cap).',
  }),
  opt({
    name: 'max-streams-per-address',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    field: 'maxStreamsPerAddress',
    parse: toCap,
    default: DEFAULT_MAX_STREAMS_PER_ADDRESS,
    help: 'Long-lived streams open at once from one client address (behind a proxy, all clients share one; 0: no cap).',
  }),
  opt({
    name: 'max-connections',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    field: 'maxConnections',
    parse: toCap,
    // Unset here: the daemon derives it from the open-file limit when it starts.
    default: undefined,
    defaultText: 'a quarter of the open-file limit (4096 if unknown)',
    help:
      'Connections each of the evaluation, sync and OFREP ports holds at once; past it, new ones are closed. The ' +
      'management port is not capped: the open files left over keep the kill switch and probes working (0: no cap).',
  }),
  opt({
    name: 'headers-timeout',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    field: 'headersTimeoutMs',
    parse: toDurationMs,
    default: DEFAULT_HEADERS_TIMEOUT_MS,
    show: formatDuration,
    help: 'Time a connection has to send its request head (HTTP/1) or HTTP/2 preface; then it is closed (0: none).',
  }),
  opt({
    name: 'request-timeout',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    field: 'requestTimeoutMs',
    parse: toDurationMs,
    default: DEFAULT_REQUEST_TIMEOUT_MS,
    show: formatDuration,
    help: 'Time an HTTP/1 request has to arrive whole, head and body (408 after it; responses and streams are not limited; 0: none).',
  }),
  opt({
    name: 'idle-timeout',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    field: 'idleTimeoutMs',
    parse: toDurationMs,
    default: DEFAULT_IDLE_TIMEOUT_MS,
    show: formatDuration,
    help: 'An HTTP/2 connection (gRPC, h2c) with no open stream for this long gets a GOAWAY and is closed (0: never).',
  }),
  // --- start: evaluation context ---------------------------------------------------------------
  opt({
    name: 'context-value',
    short: 'X',
    kind: 'map',
    arg: 'key=value',
    scope: 'start',
    field: 'contextValues',
    parse: toContextValues,
    default: {},
    help:
      'Static evaluation context entry, repeatable (or comma-separated); merged into every evaluation. ' +
      'In the environment: k=v,k2=v2 or a JSON object.',
  }),
  opt({
    name: 'context-from-header',
    short: 'H',
    kind: 'map',
    arg: 'header=key',
    scope: 'start',
    field: 'contextFromHeaders',
    parse: toHeaderMappings,
    default: {},
    help:
      'Copy a request header into an evaluation context key, repeatable (or comma-separated). ' +
      'In the environment: h=k,h2=k2 or a JSON object.',
  }),
  // --- start: management API (vexil only) --------------------------------------------------------
  opt({
    name: 'admin-source',
    kind: 'value',
    arg: 'uri',
    scope: 'start',
    field: 'adminSource',
    // Reads the sources resolved before the table loop (ConvertContext).
    parse: toAdminSource,
    default: undefined,
    defaultText: 'the first file: source',
    help: 'The source management API writes go to: one of the configured file: or s3:// sources (docs/management-api.md).',
  }),
  opt({
    name: 'admin-token',
    kind: 'list',
    arg: 'token:role[:name]',
    scope: 'start',
    field: 'adminTokens',
    parse: toAdminTokens,
    default: [],
    help:
      'Management API bearer token, repeatable (or comma-separated): role viewer, editor or admin; name is the actor in the ' +
      'audit log. Without any, the API answers loopback callers only. In the environment, separate with spaces.',
  }),
  opt({
    name: 'admin-rate-limit',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    field: 'adminRateLimit',
    parse: toRateLimit,
    default: DEFAULT_ADMIN_RATE_LIMIT,
    help: 'Management API requests per minute per token (per address without tokens); over it: 429 with Retry-After.',
  }),
  opt({
    name: 'admin-auth-failure-limit',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    field: 'adminAuthFailureLimit',
    parse: toRateLimit,
    default: DEFAULT_ADMIN_AUTH_FAILURE_LIMIT,
    help:
      'Failed management API authentications (unknown bearer tokens) per minute per address (per /64 for IPv6); past it ' +
      'every request from that address gets 429 until the minute ends, so tokens cannot be guessed at speed.',
  }),
  opt({
    name: 'audit-log',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    field: 'auditLog',
    parse: toOptionalString,
    // Unset here: the admin repository places it beside the file it writes.
    default: undefined,
    defaultText: 'vexil-audit.jsonl next to the admin source file',
    help: 'The hash-chained audit log of management API writes (JSON lines, fsynced); required with an s3:// admin source.',
  }),
  opt({
    name: 'audit-key-file',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    field: 'auditKeyFile',
    parse: toOptionalString,
    default: undefined,
    help:
      'HMAC keys for the audit log, one "<key id> <secret>" a line (secret: 32+ characters; the last line is the newest, which new ' +
      'entries use; keep old ones listed for vexil audit verify). Without it entries are plain sha256, which does not show tampering.',
  }),
  opt({
    name: 'audit-checkpoint',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    field: 'auditCheckpoint',
    parse: toOptionalString,
    default: undefined,
    defaultText: '<audit log>.checkpoint',
    help: 'With --audit-key-file: the signed checkpoint (last seq and hash) rewritten after every append, so a log cut short is detected. Keep it on other storage than the log to detect losing both.',
  }),
  // --- start: logging --------------------------------------------------------------------------
  opt({
    name: 'log-format',
    short: 'z',
    kind: 'value',
    arg: 'format',
    scope: 'start',
    field: 'logFormat',
    parse: toLogFormat,
    default: 'console',
    help: 'Log format: console or json.',
  }),
  // --- flagd options accepted and ignored --------------------------------------------------------
  option({ name: 'metrics-exporter', short: 't', kind: 'value', arg: 'name', scope: 'start', ignored: true, help: 'Metrics exporter (vexil serves Prometheus metrics on the management port).' }),
  option({ name: 'otel-collector-uri', short: 'o', kind: 'value', arg: 'uri', scope: 'start', ignored: true, help: 'OpenTelemetry collector URI.' }),
  option({ name: 'otel-cert-path', short: 'D', kind: 'value', arg: 'path', scope: 'start', ignored: true, help: 'TLS certificate for the OpenTelemetry collector.' }),
  option({ name: 'otel-key-path', short: 'K', kind: 'value', arg: 'path', scope: 'start', ignored: true, help: 'TLS key for the OpenTelemetry collector.' }),
  option({ name: 'otel-ca-path', short: 'A', kind: 'value', arg: 'path', scope: 'start', ignored: true, help: 'TLS CA for the OpenTelemetry collector.' }),
  option({ name: 'otel-reload-interval', short: 'I', kind: 'value', arg: 'duration', scope: 'start', ignored: true, help: 'Reload interval of the OpenTelemetry TLS certificate.' }),
  option({ name: 'selector-fallback-key', kind: 'value', arg: 'key', scope: 'start', ignored: true, help: "Selector key for a selector without '='." }),
] as const;

export const OPTIONS: readonly OptionSpec[] = Object.freeze(TABLE);

/** The options that set one field each, in table order (the order parse.ts reads them). */
export const FIELD_OPTIONS: readonly FieldOption[] = Object.freeze(OPTIONS.filter(isFieldOption));

/** Fields parse.ts's explicit steps build from several options: sources from -f and -s, tls from -c and -k. */
type CombinedField = 'sources' | 'tls';
type TableField = Extract<(typeof TABLE)[number], FieldOption>['field'];
/** Fails to compile, naming the field, when a DaemonConfig field has neither an option nor a step. */
type AssertNone<T extends never> = T;
export type UnsetFields = AssertNone<Exclude<keyof DaemonConfig, TableField | CombinedField>>;
