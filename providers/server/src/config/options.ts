/**
 * The provider's options and FLAGD_* environment variables, resolved once, at construction, into a
 * frozen ResolvedConfig. Inner modules get the ResolvedConfig and never read `process.env`.
 *
 * Option names, environment variable names, types, defaults and precedence are those of
 * @openfeature/flagd-provider 0.16.1 and of the flagd testbed's `gherkin/config.feature` (its
 * option table is flagd's official one), so that swapping the official provider for ours needs no
 * configuration change. Per option the first of these that is set wins:
 *
 *   1. the option passed to the constructor (`undefined` and `null` count as not set),
 *   2. its environment variable (the empty string counts as not set),
 *   3. the default.
 *
 * Where we depart from 0.16.1, a comment marked "Differs from 0.16.1" says how and why. The
 * general rule: a value the official provider silently misreads (FLAGD_PORT=abc, FLAGD_TLS=yes)
 * is refused with a ProviderConfigError naming the option or variable; a value it accepts and
 * uses as meant is accepted too, even where we would not have designed it so.
 */
import type { EvaluationContext } from '@openfeature/server-sdk';
import { ProviderConfigError } from '@vexil/shared';
import { grpcStatusCode } from './grpc-status.js';

/**
 * How flags are resolved. `rpc`: every evaluation is a call to flagd's evaluation service.
 * `in-process`: flag definitions stream from flagd's sync service and are evaluated locally.
 * `file`: in-process evaluation of a local flag file (`offlineFlagSourcePath`), no connection.
 */
export type ResolverType = 'rpc' | 'in-process' | 'file';

/** The rpc resolver's cache of resolutions of static flags. */
export type CacheType = 'lru' | 'disabled';

/**
 * Maps the sync stream's `sync_context` (null before the first message, or when flagd sends none)
 * to the evaluation context merged into every in-process evaluation.
 */
export type ContextEnricher = (syncContext: EvaluationContext | null) => EvaluationContext;

export interface VexilProviderOptions {
  /**
   * `rpc`, `in-process` or `file` (any case; `grpc` is read as `rpc`). `in-process` with an
   * `offlineFlagSourcePath` resolves to `file`; `file` without one is an error.
   * @default 'rpc' — env FLAGD_RESOLVER
   */
  resolverType?: ResolverType;
  /** Host of flagd (or Vexil). @default 'localhost' — env FLAGD_HOST */
  host?: string;
  /**
   * Port of the evaluation service (rpc) or the sync service (in-process).
   * @default 8013 for rpc, 8015 for in-process — env FLAGD_PORT; in-process also FLAGD_SYNC_PORT, which wins over FLAGD_PORT
   */
  port?: number;
  /**
   * A gRPC target used instead of host and port (custom name resolution, e.g. `dns:///flagd:8013`).
   * `socketPath` wins over it. @default undefined — env FLAGD_TARGET_URI
   */
  targetUri?: string;
  /** Connect with TLS. @default false — env FLAGD_TLS (`true` or `false`, any case) */
  tls?: boolean;
  /** Connect to this unix domain socket instead of host and port. @default undefined — env FLAGD_SOCKET_PATH */
  socketPath?: string;
  /**
   * PEM file of the root certificates that verify the server, with `tls`; the system roots otherwise.
   * @default undefined — env FLAGD_SERVER_CERT_PATH
   */
  certPath?: string;
  /** Deadline of unary calls and of the wait for the first connection, in ms. @default 500 — env FLAGD_DEADLINE_MS */
  deadlineMs?: number;
  /**
   * Deadline of the event and sync streams in ms, after which they are reopened (an
   * application-level keepalive); 0 means none. @default 600000 — env FLAGD_STREAM_DEADLINE_MS
   */
  streamDeadlineMs?: number;
  /** First delay before a broken stream is retried, in ms. @default 1000 — env FLAGD_RETRY_BACKOFF_MS */
  retryBackoffMs?: number;
  /** Longest delay between stream retries, in ms. @default 12000 — env FLAGD_RETRY_BACKOFF_MAX_MS */
  retryBackoffMaxMs?: number;
  /**
   * Seconds the provider stays STALE after losing its connection before it turns ERROR.
   * @default 5 — env FLAGD_RETRY_GRACE_PERIOD
   */
  retryGracePeriod?: number;
  /** HTTP/2 keepalive ping interval in ms; 0 disables it. @default 0 — env FLAGD_KEEP_ALIVE_TIME_MS */
  keepAliveTime?: number;
  /** Cache of static flags' resolutions (rpc only). @default 'lru' — env FLAGD_CACHE */
  cache?: CacheType;
  /** Entries in the rpc cache. @default 1000 — env FLAGD_MAX_CACHE_SIZE */
  maxCacheSize?: number;
  /** Selects one flag source of the sync service (in-process). @default undefined — env FLAGD_SOURCE_SELECTOR */
  selector?: string;
  /** Sent as `provider_id` in sync requests (in-process). @default undefined — env FLAGD_PROVIDER_ID */
  providerId?: string;
  /**
   * A flag definition file to evaluate offline; with `in-process` (or `file`) it replaces the sync
   * connection. @default undefined — env FLAGD_OFFLINE_FLAG_SOURCE_PATH
   */
  offlineFlagSourcePath?: string;
  /** How often the offline flag file is checked for changes, in ms. @default 5000 — env FLAGD_OFFLINE_POLL_MS */
  offlinePollIntervalMs?: number;
  /** `:authority` of requests, when routing through a proxy such as Envoy. @default undefined — env FLAGD_DEFAULT_AUTHORITY */
  defaultAuthority?: string;
  /**
   * gRPC status names (`PERMISSION_DENIED`, `UNAUTHENTICATED`, ...) that, on the first connection
   * attempt, make the provider give up (PROVIDER_FATAL) instead of retrying.
   * @default [] — env FLAGD_FATAL_STATUS_CODES (comma-separated)
   */
  fatalStatusCodes?: readonly string[];
  /**
   * Turns the sync stream's `sync_context` into the context merged into every in-process
   * evaluation. @default `(syncContext) => syncContext ?? {}` — no env
   */
  contextEnricher?: ContextEnricher;
}

/** Every option with its default applied, validated and frozen. */
export interface ResolvedConfig {
  /** `file` when `in-process` was asked for with an offlineFlagSourcePath, or `file` itself. */
  readonly resolverType: ResolverType;
  readonly host: string;
  readonly port: number;
  readonly targetUri: string | undefined;
  /**
   * The gRPC channel target: `unix:<socketPath>` if socketPath is set, else targetUri if set,
   * else `host:port` (an IPv6 host in brackets).
   */
  readonly grpcTarget: string;
  readonly tls: boolean;
  readonly socketPath: string | undefined;
  readonly certPath: string | undefined;
  readonly deadlineMs: number;
  readonly streamDeadlineMs: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** In seconds, as configured. */
  readonly retryGracePeriod: number;
  readonly keepAliveTime: number;
  readonly cache: CacheType;
  readonly maxCacheSize: number;
  readonly selector: string | undefined;
  readonly providerId: string | undefined;
  /** Kept in rpc mode too (it is only read in file mode), as config.feature expects. */
  readonly offlineFlagSourcePath: string | undefined;
  readonly offlinePollIntervalMs: number;
  readonly defaultAuthority: string | undefined;
  /** The names as given, trimmed, in order; unknown ones included. */
  readonly fatalStatusCodes: readonly string[];
  /** The numeric gRPC codes of the known names, without duplicates. */
  readonly fatalStatusCodeNumbers: readonly number[];
  /** Names that are no gRPC status; the provider should log a warning for each, as 0.16.1 does. */
  readonly unknownFatalStatusCodes: readonly string[];
  readonly contextEnricher: ContextEnricher;
}

/** The environment variable of each option. */
export const ENV_VARS = Object.freeze({
  resolverType: 'FLAGD_RESOLVER',
  host: 'FLAGD_HOST',
  port: 'FLAGD_PORT',
  /** In-process only; wins over FLAGD_PORT. */
  syncPort: 'FLAGD_SYNC_PORT',
  targetUri: 'FLAGD_TARGET_URI',
  tls: 'FLAGD_TLS',
  socketPath: 'FLAGD_SOCKET_PATH',
  certPath: 'FLAGD_SERVER_CERT_PATH',
  deadlineMs: 'FLAGD_DEADLINE_MS',
  streamDeadlineMs: 'FLAGD_STREAM_DEADLINE_MS',
  retryBackoffMs: 'FLAGD_RETRY_BACKOFF_MS',
  retryBackoffMaxMs: 'FLAGD_RETRY_BACKOFF_MAX_MS',
  retryGracePeriod: 'FLAGD_RETRY_GRACE_PERIOD',
  keepAliveTime: 'FLAGD_KEEP_ALIVE_TIME_MS',
  cache: 'FLAGD_CACHE',
  maxCacheSize: 'FLAGD_MAX_CACHE_SIZE',
  selector: 'FLAGD_SOURCE_SELECTOR',
  providerId: 'FLAGD_PROVIDER_ID',
  offlineFlagSourcePath: 'FLAGD_OFFLINE_FLAG_SOURCE_PATH',
  offlinePollIntervalMs: 'FLAGD_OFFLINE_POLL_MS',
  defaultAuthority: 'FLAGD_DEFAULT_AUTHORITY',
  fatalStatusCodes: 'FLAGD_FATAL_STATUS_CODES',
} as const);

/** The defaults of config.feature's option table. */
export const DEFAULTS = Object.freeze({
  resolverType: 'rpc',
  host: 'localhost',
  rpcPort: 8013,
  inProcessPort: 8015,
  tls: false,
  deadlineMs: 500,
  streamDeadlineMs: 600_000,
  retryBackoffMs: 1000,
  // Differs from 0.16.1, whose code uses 5000 here and 10 for retryGracePeriod: config.feature's
  // table and scenarios say 12000 and 5, as do the other languages' providers, and 0.16.1's own
  // type documentation says 5. A default has no configuration to change, so following the
  // spec costs drop-in users nothing.
  retryBackoffMaxMs: 12_000,
  retryGracePeriod: 5,
  keepAliveTime: 0,
  cache: 'lru',
  maxCacheSize: 1000,
  offlinePollIntervalMs: 5000,
} as const);

/** The official default: the sync context itself, or an empty context before there is one. */
export const defaultContextEnricher: ContextEnricher = (syncContext) => syncContext ?? {};

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves options and environment into a frozen ResolvedConfig; throws a ProviderConfigError
 * (code INVALID_OPTION) naming the option or variable for the first value that cannot be used.
 * `env` is a parameter so that callers and tests need not touch `process.env`.
 */
export function resolveConfig(options: VexilProviderOptions = {}, env: Env = process.env): ResolvedConfig {
  // `null` as well as `undefined` means "no options", as JavaScript callers may pass either.
  const read = new Reader(options ?? {}, env);

  const requested = read.resolver();
  const offlineFlagSourcePath = read.optionalString('offlineFlagSourcePath');
  // As in 0.16.1, in-process with a flag file reads the file instead of connecting; config.feature
  // calls that mode `file`. rpc ignores the path (and keeps it), as config.feature expects.
  let resolverType: ResolverType = requested?.value ?? DEFAULTS.resolverType;
  if (resolverType === 'in-process' && offlineFlagSourcePath !== undefined) resolverType = 'file';
  if (resolverType === 'file' && offlineFlagSourcePath === undefined) {
    throw new ProviderConfigError(
      requested?.source ?? 'resolverType',
      `resolver "file" needs offlineFlagSourcePath (or ${ENV_VARS.offlineFlagSourcePath})`,
    );
  }

  const host = read.host();
  const port = read.port(resolverType);
  const targetUri = read.optionalString('targetUri');
  const socketPath = read.optionalString('socketPath');
  const fatal = read.fatalStatusCodes();

  const config: ResolvedConfig = {
    resolverType,
    host,
    port,
    targetUri,
    grpcTarget: grpcTarget(host, port, targetUri, socketPath),
    tls: read.boolean('tls', DEFAULTS.tls),
    socketPath,
    certPath: read.optionalString('certPath'),
    deadlineMs: read.number('deadlineMs', DEFAULTS.deadlineMs, MILLISECONDS_FROM_1),
    streamDeadlineMs: read.number('streamDeadlineMs', DEFAULTS.streamDeadlineMs, {
      ...MILLISECONDS_FROM_0,
      expected: `a number of milliseconds from 0 (no deadline) to ${MAX_TIMER_MS}`,
    }),
    retryBackoffMs: read.number('retryBackoffMs', DEFAULTS.retryBackoffMs, MILLISECONDS_FROM_0),
    retryBackoffMaxMs: read.number('retryBackoffMaxMs', DEFAULTS.retryBackoffMaxMs, MILLISECONDS_FROM_0),
    retryGracePeriod: read.number('retryGracePeriod', DEFAULTS.retryGracePeriod, GRACE_SECONDS),
    keepAliveTime: read.number('keepAliveTime', DEFAULTS.keepAliveTime, {
      ...MILLISECONDS_FROM_0,
      expected: `a number of milliseconds from 0 (no keepalive) to ${MAX_TIMER_MS}`,
    }),
    cache: read.cache(),
    maxCacheSize: read.number('maxCacheSize', DEFAULTS.maxCacheSize, CACHE_SIZE),
    selector: read.optionalString('selector'),
    providerId: read.optionalString('providerId'),
    offlineFlagSourcePath,
    offlinePollIntervalMs: read.number('offlinePollIntervalMs', DEFAULTS.offlinePollIntervalMs, MILLISECONDS_FROM_1),
    defaultAuthority: read.optionalString('defaultAuthority'),
    fatalStatusCodes: Object.freeze(fatal.names),
    fatalStatusCodeNumbers: Object.freeze(fatal.numbers),
    unknownFatalStatusCodes: Object.freeze(fatal.unknown),
    contextEnricher: read.contextEnricher(),
  };
  return Object.freeze(config);
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** setTimeout fires at once for longer delays, so no timer-driven value may exceed this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
  /** Completes "<value> is not ...". */
  expected: string;
}

const PORT: NumberRule = { min: 1, max: 65_535, integer: true, expected: 'a port number (1-65535)' };
const MILLISECONDS_FROM_1: NumberRule = {
  min: 1,
  max: MAX_TIMER_MS,
  integer: true,
  expected: `a number of milliseconds from 1 to ${MAX_TIMER_MS}`,
};
const MILLISECONDS_FROM_0: NumberRule = {
  min: 0,
  max: MAX_TIMER_MS,
  integer: true,
  expected: `a number of milliseconds from 0 to ${MAX_TIMER_MS}`,
};
// Seconds, multiplied by 1000 for a timer; fractions are fine (0.16.1 accepts them too).
const GRACE_SECONDS: NumberRule = {
  min: 0,
  max: Math.floor(MAX_TIMER_MS / 1000),
  integer: false,
  expected: `a number of seconds from 0 to ${Math.floor(MAX_TIMER_MS / 1000)}`,
};
// Differs from 0.16.1, which reads 0 as 1000: someone writing 0 most likely wants no cache, and
// would silently get one, so 0 is refused with a pointer to the option that does that.
const CACHE_SIZE: NumberRule = {
  min: 1,
  max: Number.MAX_SAFE_INTEGER,
  integer: true,
  expected: 'a whole number of entries, at least 1 (cache "disabled" turns the cache off)',
};

/**
 * Environment variables whose value 0 counts as not set. 0.16.1 reads these with
 * `Number(value) && ...`, so FLAGD_PORT=0 or FLAGD_STREAM_DEADLINE_MS=0 gives the default (and
 * FLAGD_MAX_CACHE_SIZE=0 becomes 1000 later); we keep that so that an environment written for
 * the official provider means the same here. FLAGD_RETRY_GRACE_PERIOD is read without that
 * guard upstream, so its 0 is a real 0. FLAGD_OFFLINE_POLL_MS (not in 0.16.1) follows the rule
 * of the other numbers.
 */
const ZERO_IS_UNSET = new Set<string>([
  ENV_VARS.port,
  ENV_VARS.syncPort,
  ENV_VARS.deadlineMs,
  ENV_VARS.streamDeadlineMs,
  ENV_VARS.retryBackoffMs,
  ENV_VARS.retryBackoffMaxMs,
  ENV_VARS.keepAliveTime,
  ENV_VARS.maxCacheSize,
  ENV_VARS.offlinePollIntervalMs,
]);

type NumberOption = {
  [K in keyof VexilProviderOptions]-?: NonNullable<VexilProviderOptions[K]> extends number ? K : never;
}[keyof VexilProviderOptions];
type StringOption = {
  [K in keyof VexilProviderOptions]-?: NonNullable<VexilProviderOptions[K]> extends string ? K : never;
}[keyof VexilProviderOptions];

// ---------------------------------------------------------------------------------------------
// Reading one option: the option, else its variable(s), else the default

class Reader {
  constructor(
    private readonly options: VexilProviderOptions,
    private readonly env: Env,
  ) {
    // Differs from 0.16.1, which would fail later with a TypeError (or not at all): a non-object
    // is not an options bag.
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ProviderConfigError('options', `${show(options)} is not an object of provider options`);
    }
  }

  /** The option's value, if given; `null` counts as not given (JavaScript callers use it so). */
  private option(key: keyof VexilProviderOptions): unknown {
    const value = (this.options as Record<string, unknown>)[key];
    return value === null ? undefined : value;
  }

  /** The variable's value, if set and not empty (0.16.1 tests every variable for truthiness). */
  private variable(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  resolver(): { value: ResolverType; source: string } | undefined {
    const option = this.option('resolverType');
    if (option !== undefined) return { value: parseResolver('resolverType', option), source: 'resolverType' };
    const text = this.variable(ENV_VARS.resolverType);
    // Differs from 0.16.1, which ignores an unknown FLAGD_RESOLVER (and treats an unknown
    // resolverType option as rpc): a misspelt mode silently turning into rpc is hard to find.
    if (text !== undefined) return { value: parseResolver(ENV_VARS.resolverType, text), source: ENV_VARS.resolverType };
    return undefined;
  }

  host(): string {
    const option = this.option('host');
    if (option !== undefined) {
      // An empty host makes the target ":8013"; 0.16.1 passes it on and fails to connect.
      if (typeof option !== 'string' || option.trim() === '') {
        throw new ProviderConfigError('host', `${show(option)} is not a host name or address`);
      }
      return option;
    }
    return this.variable(ENV_VARS.host) ?? DEFAULTS.host;
  }

  port(resolverType: ResolverType): number {
    const option = this.option('port');
    if (option !== undefined) return parseNumber('port', option, PORT);
    // FLAGD_SYNC_PORT names the sync service's port, so only modes that sync read it.
    // Differs from 0.16.1, which lets it override FLAGD_PORT in rpc mode too and then calls the
    // evaluation service on the sync port.
    const names: string[] = resolverType === 'rpc' ? [ENV_VARS.port] : [ENV_VARS.syncPort, ENV_VARS.port];
    const fromEnv = this.numberFromEnv(names, PORT);
    if (fromEnv !== undefined) return fromEnv;
    // Differs from 0.16.1, which picks the default port from whether the option OR the variable
    // says in-process, so resolverType 'rpc' with FLAGD_RESOLVER=in-process calls port 8015.
    return resolverType === 'rpc' ? DEFAULTS.rpcPort : DEFAULTS.inProcessPort;
  }

  number(key: NumberOption, fallback: number, rule: NumberRule): number {
    const option = this.option(key);
    if (option !== undefined) return parseNumber(key, option, rule);
    return this.numberFromEnv([ENV_VARS[key]], rule) ?? fallback;
  }

  private numberFromEnv(names: readonly string[], rule: NumberRule): number | undefined {
    for (const name of names) {
      const text = this.variable(name);
      if (text === undefined) continue;
      // 0.16.1 reads every number with Number(), so "1e3" and " 12 " work there and here alike.
      const value = parseNumber(name, text, { ...rule, min: ZERO_IS_UNSET.has(name) ? Math.min(rule.min, 0) : rule.min });
      if (value === 0 && ZERO_IS_UNSET.has(name)) continue;
      return value;
    }
    return undefined;
  }

  boolean(key: 'tls', fallback: boolean): boolean {
    const option = this.option(key);
    if (option !== undefined) return parseBoolean(key, option);
    const text = this.variable(ENV_VARS[key]);
    // Differs from 0.16.1, which reads anything but "true" as false, so FLAGD_TLS=1 or =yes
    // would quietly connect in plain text.
    return text === undefined ? fallback : parseBoolean(ENV_VARS[key], text);
  }

  /**
   * An optional string. An explicit empty option means "none" and, as in 0.16.1 (where the
   * option object is spread over the environment), hides the variable.
   */
  optionalString(key: StringOption): string | undefined {
    const option = this.option(key);
    if (option !== undefined) {
      if (typeof option !== 'string') throw new ProviderConfigError(key, `${show(option)} is not a string`);
      return option === '' ? undefined : option;
    }
    return this.variable(ENV_VARS[key]);
  }

  cache(): CacheType {
    const option = this.option('cache');
    if (option !== undefined) return parseCache('cache', option);
    const text = this.variable(ENV_VARS.cache);
    // Differs from 0.16.1, which ignores any FLAGD_CACHE other than exactly "lru" or "disabled":
    // FLAGD_CACHE=DISABLED is read as meant here, and FLAGD_CACHE=none is refused.
    return text === undefined ? DEFAULTS.cache : parseCache(ENV_VARS.cache, text);
  }

  fatalStatusCodes(): { names: string[]; numbers: number[]; unknown: string[] } {
    const option = this.option('fatalStatusCodes');
    let names: string[] = [];
    if (option !== undefined) names = parseStatusList('fatalStatusCodes', option);
    else {
      const text = this.variable(ENV_VARS.fatalStatusCodes);
      if (text !== undefined) names = splitList(text);
    }
    // Unknown names are kept, not refused: 0.16.1 warns and carries on, and config.feature
    // expects arbitrary names ("A, B") to be taken as they are. The provider logs them.
    const numbers = new Set<number>();
    const unknown: string[] = [];
    for (const name of names) {
      const code = grpcStatusCode(name);
      if (code === undefined) unknown.push(name);
      else numbers.add(code);
    }
    return { names, numbers: [...numbers], unknown };
  }

  contextEnricher(): ContextEnricher {
    const option = this.option('contextEnricher');
    if (option === undefined) return defaultContextEnricher;
    if (typeof option !== 'function') {
      throw new ProviderConfigError('contextEnricher', `${show(option)} is not a function (syncContext) => EvaluationContext`);
    }
    return option as ContextEnricher;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsers: `name` is the option or variable the value came from, for the message

const RESOLVERS: Readonly<Record<string, ResolverType>> = {
  rpc: 'rpc',
  // Not a value 0.16.1 knows, but one it silently treats as rpc, and the name other flagd
  // providers (Python) use for this mode; environments shared across languages may carry it.
  grpc: 'rpc',
  'in-process': 'in-process',
  file: 'file',
};

function parseResolver(name: string, value: unknown): ResolverType {
  // Case-insensitive, as config.feature requires of FLAGD_RESOLVER ("IN-PROCESS", "RPC", "FILE").
  const key = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (key !== undefined && Object.hasOwn(RESOLVERS, key)) return RESOLVERS[key];
  throw new ProviderConfigError(name, `${show(value)} is not a resolver type (rpc, in-process or file)`);
}

function parseCache(name: string, value: unknown): CacheType {
  const key = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (key === 'lru' || key === 'disabled') return key;
  throw new ProviderConfigError(name, `${show(value)} is not a cache type (lru or disabled)`);
}

function parseBoolean(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  // Strings are accepted for options too: configuration read from text (YAML, JSON files of
  // strings) often carries "true"; 0.16.1 would read the string "false" as true.
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new ProviderConfigError(name, `${show(value)} is not a boolean (true or false)`);
}

function parseNumber(name: string, value: unknown, rule: NumberRule): number {
  // Numeric strings are accepted for options as well as variables, for the same reason as in
  // parseBoolean; 0.16.1 passes such strings on, and `Date.now() + "500"` is not a deadline.
  let number = Number.NaN;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string' && value.trim() !== '') number = Number(value);
  const ok =
    Number.isFinite(number) && number >= rule.min && number <= rule.max && (!rule.integer || Number.isInteger(number));
  if (!ok) throw new ProviderConfigError(name, `${show(value)} is not ${rule.expected}`);
  return number;
}

/** A comma-separated list, as FLAGD_FATAL_STATUS_CODES is read: items trimmed, empty ones dropped. */
function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function parseStatusList(name: string, value: unknown): string[] {
  // A comma-separated string is taken like the variable; 0.16.1 throws a TypeError on one.
  if (typeof value === 'string') return splitList(value);
  // Numbers are taken as codes (7 for PERMISSION_DENIED); grpcStatusCode reads them back.
  const isItem = (item: unknown): boolean => typeof item === 'string' || (typeof item === 'number' && Number.isInteger(item));
  if (Array.isArray(value) && value.every(isItem)) {
    return value.map((item: string | number) => String(item).trim()).filter((item) => item !== '');
  }
  throw new ProviderConfigError(name, `${show(value)} is not a list of gRPC status names (e.g. ["PERMISSION_DENIED"])`);
}

// ---------------------------------------------------------------------------------------------

function grpcTarget(host: string, port: number, targetUri: string | undefined, socketPath: string | undefined): string {
  // 0.16.1 builds `unix://${socketPath}`, which is right for absolute paths only; gRPC's naming
  // rules read `unix:<path>` for relative and absolute paths alike.
  if (socketPath !== undefined) return `unix:${socketPath}`;
  if (targetUri !== undefined) return targetUri;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

/** A value as it appears in a message: strings quoted, so "abc" and the number 12 read apart. */
function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number') return String(value); // NaN and Infinity too, which JSON shows as null
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // cyclic or otherwise not JSON: fall through
  }
  return String(value);
}
