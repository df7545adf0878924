/**
 * The option table: every flag `vexil` and `vexil start` understand, with its flagd name,
 * shorthand, environment variable and default. The parser (parse.ts) and the help text (help.ts)
 * are both generated from it, so the two cannot drift apart.
 */

export type OptionKind =
  /** A single value; given twice, the last wins (pflag and commander agree). */
  | 'value'
  /** Repeatable; each occurrence may also hold a comma-separated list (pflag's StringSlice). */
  | 'list'
  /** Repeatable key=value pairs, comma-separated allowed (pflag's StringToString). */
  | 'map'
  /** A boolean switch; `--name=false` is accepted too, as pflag does. */
  | 'bool';

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

/** flagd's environment variable for a flag name. */
export function envName(name: string): string {
  return `FLAGD_${name.replace(/-/g, '_').toUpperCase()}`;
}

const opt = (spec: Omit<OptionSpec, 'env'> & { env?: string | false }): OptionSpec => {
  const { env, ...rest } = spec;
  return env === false ? rest : { ...rest, env: env ?? envName(spec.name) };
};

export const OPTIONS: readonly OptionSpec[] = Object.freeze([
  // --- root (persistent) ---------------------------------------------------------------------
  opt({
    name: 'config',
    kind: 'value',
    arg: 'path',
    scope: 'root',
    env: false,
    noEnvReason: 'flag only',
    help: 'Config file, YAML or JSON; its keys are the long flag names (port, uri, sources, ...). No file is read unless given.',
  }),
  opt({
    name: 'debug',
    short: 'x',
    kind: 'bool',
    scope: 'root',
    defaultText: 'false',
    help: 'Verbose (debug) logging.',
  }),
  // --- start: sources --------------------------------------------------------------------------
  opt({
    name: 'uri',
    short: 'f',
    kind: 'list',
    arg: 'uri',
    scope: 'start',
    help:
      'Flag source, repeatable (or comma-separated): file:path, http(s)://url, grpc://host:port, grpcs://host:port, ' +
      's3://bucket/key. When flag keys collide, the later source wins. In the environment, separate URIs with spaces.',
  }),
  opt({
    name: 'sources',
    short: 's',
    kind: 'value',
    arg: 'json',
    scope: 'start',
    help:
      'JSON array of source objects, added after the -f sources: {"uri", "provider": file|http|grpc|s3, "interval", ' +
      '"authHeader", "headers", "selector", "tls", "certPath", "endpoint", "region", "forcePathStyle"}. ' +
      'In a config file, a YAML list of the same objects.',
  }),
  // --- start: servers --------------------------------------------------------------------------
  opt({
    name: 'port',
    short: 'p',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    defaultText: '8013',
    help: 'Port for flag evaluation (gRPC, Connect, gRPC-web).',
  }),
  opt({
    name: 'management-port',
    short: 'm',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    defaultText: '8014',
    help: 'Port for health, readiness and metrics.',
  }),
  opt({
    name: 'sync-port',
    short: 'g',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    defaultText: '8015',
    help: 'Port for the gRPC sync service (flagd.sync.v1).',
  }),
  opt({
    name: 'ofrep-port',
    short: 'r',
    kind: 'value',
    arg: 'port',
    scope: 'start',
    defaultText: '8016',
    help: 'Port for OFREP (OpenFeature Remote Evaluation Protocol).',
  }),
  opt({
    name: 'host',
    kind: 'value',
    arg: 'address',
    scope: 'start',
    env: false,
    noEnvReason: 'flag or config file only: FLAGD_HOST is what flagd providers use to find the daemon',
    defaultText: '0.0.0.0',
    help: 'Address the servers bind (vexil only; flagd always binds all interfaces).',
  }),
  opt({
    name: 'socket-path',
    short: 'd',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    help: 'Unix socket for the evaluation service, instead of the TCP --port.',
  }),
  opt({ name: 'sync-socket-path', short: 'e', kind: 'value', arg: 'path', scope: 'start', help: 'Unix socket for the sync service, instead of the TCP --sync-port.' }),
  opt({
    name: 'stream-deadline',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    defaultText: '0',
    help: 'Server-side deadline for sync and event streams (e.g. 10m; 0: none). A stream past it ends with DEADLINE_EXCEEDED and the client reconnects.',
  }),
  opt({ name: 'disable-sync-metadata', kind: 'bool', scope: 'start', help: "Disable the sync service's deprecated GetMetadata (UNIMPLEMENTED); sync_context still carries -X values." }),
  opt({
    name: 'server-cert-path',
    short: 'c',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    help: 'Server TLS certificate (PEM); needs --server-key-path.',
  }),
  opt({
    name: 'server-key-path',
    short: 'k',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    help: 'Server TLS private key (PEM); needs --server-cert-path.',
  }),
  opt({
    name: 'cors-origin',
    short: 'C',
    kind: 'list',
    arg: 'origin',
    scope: 'start',
    help: 'Allowed CORS origin, repeatable (or comma-separated); * allows any origin. In the environment, separate with spaces.',
  }),
  opt({
    name: 'browser-rules',
    kind: 'list',
    arg: 'selector',
    scope: 'start',
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
    defaultText: '15000',
    help:
      'Long-lived streams open at once, every client together: SyncFlags, EventStream (gRPC, Connect, gRPC-web) and ' +
      'browser rules streams; past it: RESOURCE_EXHAUSTED or 429 (0: no cap).',
  }),
  opt({
    name: 'max-streams-per-address',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    defaultText: '10000',
    help: 'Long-lived streams open at once from one client address (behind a proxy, all clients share one; 0: no cap).',
  }),
  opt({
    name: 'max-connections',
    kind: 'value',
    arg: 'n',
    scope: 'start',
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
    defaultText: '10s',
    help: 'Time a connection has to send its request head (HTTP/1) or HTTP/2 preface; then it is closed (0: none).',
  }),
  opt({
    name: 'request-timeout',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    defaultText: '30s',
    help: 'Time an HTTP/1 request has to arrive whole, head and body (408 after it; responses and streams are not limited; 0: none).',
  }),
  opt({
    name: 'idle-timeout',
    kind: 'value',
    arg: 'duration',
    scope: 'start',
    defaultText: '2m',
    help: 'An HTTP/2 connection (gRPC, h2c) with no open stream for this long gets a GOAWAY and is closed (0: never).',
  }),
  // --- start: evaluation context ---------------------------------------------------------------
  opt({
    name: 'context-value',
    short: 'X',
    kind: 'map',
    arg: 'key=value',
    scope: 'start',
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
    defaultText: 'the first file: source',
    help: 'The source management API writes go to: one of the configured file: or s3:// sources (docs/management-api.md).',
  }),
  opt({
    name: 'admin-token',
    kind: 'list',
    arg: 'token:role[:name]',
    scope: 'start',
    help:
      'Management API bearer token, repeatable (or comma-separated): role viewer, editor or admin; name is the actor in the ' +
      'audit log. Without any, the API answers loopback callers only. In the environment, separate with spaces.',
  }),
  opt({
    name: 'admin-rate-limit',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    defaultText: '600',
    help: 'Management API requests per minute per token (per address without tokens); over it: 429 with Retry-After.',
  }),
  opt({
    name: 'admin-auth-failure-limit',
    kind: 'value',
    arg: 'n',
    scope: 'start',
    defaultText: '20',
    help:
      'Failed management API authentications (unknown bearer tokens) per minute per address (per /64 for IPv6); past it ' +
      'every request from that address gets 429 until the minute ends, so tokens cannot be guessed at speed.',
  }),
  opt({
    name: 'audit-log',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    defaultText: 'vexil-audit.jsonl next to the admin source file',
    help: 'The hash-chained audit log of management API writes (JSON lines, fsynced); required with an s3:// admin source.',
  }),
  opt({
    name: 'audit-key-file',
    kind: 'value',
    arg: 'path',
    scope: 'start',
    help:
      'HMAC keys for the audit log, one "<key id> <secret>" a line (secret: 32+ characters; the last line is the newest, which new ' +
      'entries use; keep old ones listed for vexil audit verify). Without it entries are plain sha256, which does not show tampering.',
  }),
  opt({
    name: 'audit-checkpoint',
    kind: 'value',
    arg: 'path',
    scope: 'start',
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
    defaultText: 'console',
    help: 'Log format: console or json.',
  }),
  // --- flagd options accepted and ignored --------------------------------------------------------
  opt({ name: 'metrics-exporter', short: 't', kind: 'value', arg: 'name', scope: 'start', ignored: true, help: 'Metrics exporter (vexil serves Prometheus metrics on the management port).' }),
  opt({ name: 'otel-collector-uri', short: 'o', kind: 'value', arg: 'uri', scope: 'start', ignored: true, help: 'OpenTelemetry collector URI.' }),
  opt({ name: 'otel-cert-path', short: 'D', kind: 'value', arg: 'path', scope: 'start', ignored: true, help: 'TLS certificate for the OpenTelemetry collector.' }),
  opt({ name: 'otel-key-path', short: 'K', kind: 'value', arg: 'path', scope: 'start', ignored: true, help: 'TLS key for the OpenTelemetry collector.' }),
  opt({ name: 'otel-ca-path', short: 'A', kind: 'value', arg: 'path', scope: 'start', ignored: true, help: 'TLS CA for the OpenTelemetry collector.' }),
  opt({ name: 'otel-reload-interval', short: 'I', kind: 'value', arg: 'duration', scope: 'start', ignored: true, help: 'Reload interval of the OpenTelemetry TLS certificate.' }),
  opt({ name: 'selector-fallback-key', kind: 'value', arg: 'key', scope: 'start', ignored: true, help: "Selector key for a selector without '='." }),
]);

export function findOption(name: string): OptionSpec {
  const spec = OPTIONS.find((o) => o.name === name);
  if (!spec) throw new Error(`no option ${name}`);
  return spec;
}
