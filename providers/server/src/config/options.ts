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
import { FLAGD_SELECTOR_HEADER, ProviderConfigError } from '@vexil/shared';
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

// ---------------------------------------------------------------------------------------------
// The option table: one entry per option drives its parsing, default, variable and README row

/**
 * One option of the table. `In` is what a caller may pass (VexilProviderOptions), `Out` what
 * ResolvedConfig holds.
 */
interface OptionSpec<In, Out> {
  /** The FLAGD_* variable; none for options that cannot come from text (contextEnricher). */
  readonly env?: string;
  /** The default, where it is one value; DEFAULTS lists these. */
  readonly default?: Out & (string | number | boolean);
  /** The README's default column, where `default` alone does not say it. */
  readonly shownDefault?: string;
  /** The README's last column: what the option does, in a few words. */
  readonly help: string;
  /** The option, else the variable(s), else the default; throws a ProviderConfigError naming the option or variable. */
  readonly read: (r: Reader, key: string) => Out;
  /** Type only, never set: what callers may pass. */
  readonly input?: In;
}

/**
 * Declares an entry: `spec<In, Out>()({...})`. Curried so that In and Out are given while the
 * entry's own literal types (its variable's name, its default) are kept for ENV_VARS and DEFAULTS.
 */
const spec =
  <In, Out = In>() =>
  <const S extends Omit<OptionSpec<In, Out>, 'input'>>(s: S): S & { readonly input?: In } =>
    s;
/** A string option with no default. */
const text = <E extends string>(env: E, help: string) =>
  spec<string, string | undefined>()({ env, help, read: (r, key) => r.optionalString(key, env) });
/**
 * A number option. `zeroIsUnset`: the variable's 0 reads as not set, as @openfeature/flagd-provider
 * 0.16.1 reads most numbers with `Number(value) && ...`, so FLAGD_DEADLINE_MS=0 gives the default
 * (and FLAGD_MAX_CACHE_SIZE=0 becomes 1000 later); an environment written for the official
 * provider then means the same here. FLAGD_OFFLINE_POLL_MS (not in 0.16.1) follows that rule too;
 * an explicit option 0 is always a 0.
 */
const number = <E extends string, D extends number>(env: E, fallback: D, rule: NumberRule, help: string, zeroIsUnset = true) =>
  spec<number>()({ env, default: fallback, help, read: (r, key) => r.number(key, [env], fallback, rule, zeroIsUnset) });

/** In-process only; wins over FLAGD_PORT. */
const SYNC_PORT_ENV = 'FLAGD_SYNC_PORT';
const RPC_PORT = 8013;
const IN_PROCESS_PORT = 8015;

/**
 * Every option, in the order they are checked (so that of several bad values the same one is
 * reported each time), which is also the order of the README's option table. Option names,
 * variables, types and defaults are flagd's (see the top of this file).
 */
const OPTIONS = {
  /**
   * `rpc`, `in-process` or `file` (any case; `grpc` is read as `rpc`). `in-process` with an
   * `offlineFlagSourcePath` resolves to `file`; `file` without one is an error.
   */
  resolverType: spec<ResolverType>()({
    env: 'FLAGD_RESOLVER',
    default: 'rpc',
    help: '`rpc`, `in-process` or `file` (any case); `in-process` with `offlineFlagSourcePath` is `file`',
    read: (r) => r.resolver(),
  }),
  /** Host of flagd (or Vexil). */
  host: spec<string>()({ env: 'FLAGD_HOST', default: 'localhost', help: 'host of flagd or Vexil', read: (r) => r.host() }),
  /** Port of the evaluation service (rpc) or the sync service (in-process); in-process, FLAGD_SYNC_PORT wins over FLAGD_PORT. */
  port: spec<number>()({
    env: 'FLAGD_PORT',
    shownDefault: `${RPC_PORT} (rpc), ${IN_PROCESS_PORT} (in-process)`,
    help: `evaluation port (rpc) or sync port; in-process \`${SYNC_PORT_ENV}\` wins`,
    read: (r) => r.port(),
  }),
  /**
   * A gRPC target used instead of host and port (custom name resolution, e.g. `dns:///flagd:8013`).
   * `socketPath` wins over it.
   */
  targetUri: text('FLAGD_TARGET_URI', 'gRPC target instead of host and port; `envoy://host:port/service` dials host:port with the service as authority'),
  /** Connect to this unix domain socket instead of host and port. */
  socketPath: text('FLAGD_SOCKET_PATH', 'unix domain socket instead of host and port'),
  /**
   * gRPC status names (`PERMISSION_DENIED`, `UNAUTHENTICATED`, ...) that, on the first connection
   * attempt, make the provider give up (PROVIDER_FATAL) instead of retrying. The variable is
   * comma-separated. Resolved: the names as given, trimmed, in order, unknown ones included.
   */
  fatalStatusCodes: spec<readonly string[]>()({
    env: 'FLAGD_FATAL_STATUS_CODES',
    shownDefault: 'none',
    help: 'gRPC status names (e.g. `PERMISSION_DENIED`) that end the first connection attempt for good (comma-separated)',
    read: (r) => r.fatalStatusCodes(),
  }),
  /** Connect with TLS (`true` or `false`, any case). */
  tls: spec<boolean>()({ env: 'FLAGD_TLS', default: false, help: 'connect with TLS', read: (r, key) => r.boolean(key, 'FLAGD_TLS', false) }),
  /** PEM file of the root certificates that verify the server, with `tls`; the system roots otherwise. */
  certPath: text('FLAGD_SERVER_CERT_PATH', 'PEM root certificates for `tls`; the system roots when none is given'),
  /** Deadline of unary calls and of the wait for the first connection, in ms. */
  deadlineMs: number('FLAGD_DEADLINE_MS', 500, MILLISECONDS_FROM_1, 'ms: unary calls, and the time `initialize` waits for the first flag set'),
  /**
   * Deadline of the event and sync streams in ms, after which they are reopened (an
   * application-level keepalive); 0 means none.
   */
  streamDeadlineMs: number(
    'FLAGD_STREAM_DEADLINE_MS',
    600_000,
    { ...MILLISECONDS_FROM_0, expected: `a number of milliseconds from 0 (no deadline) to ${MAX_TIMER_MS}` },
    'ms before streams are reopened (at once); 0: never',
  ),
  /** First delay before a broken stream is retried, in ms. */
  retryBackoffMs: number('FLAGD_RETRY_BACKOFF_MS', 1000, MILLISECONDS_FROM_0, 'ms: first delay before a broken stream is retried'),
  // Differs from 0.16.1, whose code uses 5000 here and 10 for retryGracePeriod: config.feature's
  // table and scenarios say 12000 and 5, as do the other languages' providers, and 0.16.1's own
  // type documentation says 5. A default has no configuration to change, so following the
  // spec costs drop-in users nothing.
  /** Longest delay between stream retries, in ms. */
  retryBackoffMaxMs: number('FLAGD_RETRY_BACKOFF_MAX_MS', 12_000, MILLISECONDS_FROM_0, 'ms: longest delay between stream retries'),
  /** Seconds the provider stays STALE after losing its connection before it turns ERROR. */
  // 0.16.1 reads this variable without the `Number(value) &&` guard, so its 0 is a real 0.
  retryGracePeriod: number('FLAGD_RETRY_GRACE_PERIOD', 5, GRACE_SECONDS, 'seconds STALE after the connection is lost, then ERROR', false),
  /** HTTP/2 keepalive ping interval in ms; 0 disables it. */
  keepAliveTime: number(
    'FLAGD_KEEP_ALIVE_TIME_MS',
    0,
    { ...MILLISECONDS_FROM_0, expected: `a number of milliseconds from 0 (no keepalive) to ${MAX_TIMER_MS}` },
    'ms between HTTP/2 keepalive pings; 0: off',
  ),
  /** Cache of static flags' resolutions (rpc only). */
  cache: spec<CacheType>()({ env: 'FLAGD_CACHE', default: 'lru', help: '`lru` or `disabled`: the rpc cache of STATIC results', read: (r) => r.cache() }),
  /** Entries in the rpc cache. */
  maxCacheSize: number('FLAGD_MAX_CACHE_SIZE', 1000, CACHE_SIZE, 'entries in the rpc cache'),
  /** Selects the flag set: sent with every rpc call and sync request. */
  selector: text('FLAGD_SOURCE_SELECTOR', `the flag set to use: sent as the \`${FLAGD_SELECTOR_HEADER}\` header (and the sync request's field)`),
  /** Sent as `provider_id` in sync requests (in-process). */
  providerId: text('FLAGD_PROVIDER_ID', '`provider_id` of sync requests'),
  /**
   * A flag definition file to evaluate offline; with `in-process` (or `file`) it replaces the sync
   * connection. Kept in rpc mode too (where it is not read), as config.feature expects.
   */
  offlineFlagSourcePath: text('FLAGD_OFFLINE_FLAG_SOURCE_PATH', 'a JSON or YAML flag file to evaluate instead of syncing (`file` mode), watched'),
  /** How often the offline flag file is checked for changes, in ms. */
  offlinePollIntervalMs: number('FLAGD_OFFLINE_POLL_MS', 5000, MILLISECONDS_FROM_1, 'ms between checks of the flag file'),
  /** `:authority` of requests, when routing through a proxy such as Envoy. */
  defaultAuthority: text('FLAGD_DEFAULT_AUTHORITY', '`:authority` of requests, behind a proxy such as Envoy'),
  /**
   * Turns the sync stream's `sync_context` into the context merged into every in-process
   * evaluation. Default: `(syncContext) => syncContext ?? {}`.
   */
  contextEnricher: spec<ContextEnricher>()({
    shownDefault: '`(syncContext) => syncContext ?? {}`',
    help: "maps the sync stream's `sync_context` to a context merged over each in-process evaluation's",
    read: (r) => r.contextEnricher(),
  }),
};

type Options = typeof OPTIONS;
type OptionKey = keyof Options;
type InputOf<S> = S extends { readonly input?: infer In } ? In : never;
type OutputOf<S> = S extends { readonly read: (...args: never[]) => infer Out } ? Out : never;

/** What the constructor takes: every option optional; `undefined` and `null` count as not set. */
export type VexilProviderOptions = { [K in OptionKey]?: InputOf<Options[K]> };

/** Every option with its default applied, validated and frozen. */
export type ResolvedConfig = { readonly [K in OptionKey]: OutputOf<Options[K]> } & {
  /**
   * The gRPC channel target: `unix:<socketPath>` if socketPath is set, else targetUri if set,
   * else `host:port` (an IPv6 host in brackets).
   */
  readonly grpcTarget: string;
  /** The numeric gRPC codes of the known fatalStatusCodes, without duplicates. */
  readonly fatalStatusCodeNumbers: readonly number[];
  /** fatalStatusCodes that are no gRPC status; the provider logs a warning for each, as 0.16.1 does. */
  readonly unknownFatalStatusCodes: readonly string[];
};

/** The table's entries, typed as what every entry is. */
const entries = () => Object.entries(OPTIONS) as [OptionKey, OptionSpec<unknown, unknown>][];

type EnvOptionKey = { [K in OptionKey]: Options[K] extends { env: string } ? K : never }[OptionKey];
type EnvOf<K extends EnvOptionKey> = Options[K] extends { env: infer E } ? E : never;

/** The environment variable of each option, and `syncPort`: FLAGD_SYNC_PORT, in-process only, which wins over FLAGD_PORT. */
export const ENV_VARS = Object.freeze(
  Object.fromEntries(
    entries().flatMap(([key, s]): [string, string][] =>
      s.env === undefined ? [] : key === 'port' ? [[key, s.env], ['syncPort', SYNC_PORT_ENV]] : [[key, s.env]],
    ),
  ) as { readonly [K in EnvOptionKey]: EnvOf<K> } & { readonly syncPort: typeof SYNC_PORT_ENV },
);

type DefaultKey = { [K in OptionKey]: Options[K] extends { default: unknown } ? K : never }[OptionKey];
type DefaultOf<K extends DefaultKey> = Options[K] extends { default: infer D } ? D : never;

/**
 * The defaults of config.feature's option table: every option whose default is one value, and
 * the port's two, `rpcPort` and `inProcessPort`.
 */
export const DEFAULTS = Object.freeze({
  ...(Object.fromEntries(
    entries().flatMap(([key, s]) => (s.default === undefined ? [] : [[key, s.default]])),
  ) as { readonly [K in DefaultKey]: DefaultOf<K> }),
  rpcPort: RPC_PORT,
  inProcessPort: IN_PROCESS_PORT,
});

/** The official default: the sync context itself, or an empty context before there is one. */
export const defaultContextEnricher: ContextEnricher = (syncContext) => syncContext ?? {};

/**
 * The options as a Markdown table (option, variable, default, what), in the order they are
 * checked: the server provider README's option table is this text, and a test keeps it so.
 */
export function optionsHelp(): string {
  const rows = entries().map(([key, s]) => {
    const env = s.env === undefined ? 'none' : key === 'port' ? `\`${s.env}\`, \`${SYNC_PORT_ENV}\`` : `\`${s.env}\``;
    const shown = s.shownDefault ?? (s.default === undefined ? 'none' : typeof s.default === 'number' ? String(s.default) : `\`${s.default}\``);
    return `| \`${key}\` | ${env} | ${shown} | ${s.help} |`;
  });
  return ['| option | variable | default | what |', '|---|---|---|---|', ...rows].join('\n');
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves options and environment into a frozen ResolvedConfig; throws a ProviderConfigError
 * (code INVALID_OPTION) naming the option or variable for the first value that cannot be used.
 * `env` is a parameter so that callers and tests need not touch `process.env`.
 */
export function resolveConfig(options: VexilProviderOptions = {}, env: Env = process.env): ResolvedConfig {
  // `null` as well as `undefined` means "no options", as JavaScript callers may pass either.
  const read = new Reader(options ?? {}, env);
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(OPTIONS) as OptionKey[]) config[key] = read.get(key);
  const resolved = config as { [K in OptionKey]: OutputOf<Options[K]> };

  // Unknown names are kept, not refused: 0.16.1 warns and carries on, and config.feature
  // expects arbitrary names ("A, B") to be taken as they are. The provider logs them.
  const numbers = new Set<number>();
  const unknown: string[] = [];
  for (const name of resolved.fatalStatusCodes) {
    const code = grpcStatusCode(name);
    if (code === undefined) unknown.push(name);
    else numbers.add(code);
  }
  return Object.freeze({
    ...resolved,
    fatalStatusCodes: Object.freeze(resolved.fatalStatusCodes),
    grpcTarget: grpcTarget(resolved.host, resolved.port, resolved.targetUri, resolved.socketPath),
    fatalStatusCodeNumbers: Object.freeze([...numbers]),
    unknownFatalStatusCodes: Object.freeze(unknown),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading one option: the option, else its variable(s), else the default

class Reader {
  /** Values read so far: options that depend on others (port on resolverType) read them on demand. */
  private readonly values = new Map<OptionKey, unknown>();

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

  get<K extends OptionKey>(key: K): OutputOf<Options[K]> {
    if (!this.values.has(key)) this.values.set(key, (OPTIONS[key] as OptionSpec<unknown, unknown>).read(this, key));
    return this.values.get(key) as OutputOf<Options[K]>;
  }

  /** The option's value, if given; `null` counts as not given (JavaScript callers use it so). */
  private option(key: string): unknown {
    const value = (this.options as Record<string, unknown>)[key];
    return value === null ? undefined : value;
  }

  /** The variable's value, if set and not empty (0.16.1 tests every variable for truthiness). */
  private variable(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  resolver(): ResolverType {
    const env = OPTIONS.resolverType.env;
    let requested: { value: ResolverType; source: string } | undefined;
    const option = this.option('resolverType');
    if (option !== undefined) requested = { value: parseResolver('resolverType', option), source: 'resolverType' };
    else {
      const text = this.variable(env);
      // Differs from 0.16.1, which ignores an unknown FLAGD_RESOLVER (and treats an unknown
      // resolverType option as rpc): a misspelt mode silently turning into rpc is hard to find.
      if (text !== undefined) requested = { value: parseResolver(env, text), source: env };
    }
    // As in 0.16.1, in-process with a flag file reads the file instead of connecting; config.feature
    // calls that mode `file`. rpc ignores the path (and keeps it), as config.feature expects.
    const offlineFlagSourcePath = this.get('offlineFlagSourcePath');
    let resolverType: ResolverType = requested?.value ?? OPTIONS.resolverType.default;
    if (resolverType === 'in-process' && offlineFlagSourcePath !== undefined) resolverType = 'file';
    if (resolverType === 'file' && offlineFlagSourcePath === undefined) {
      throw new ProviderConfigError(
        requested?.source ?? 'resolverType',
        `resolver "file" needs offlineFlagSourcePath (or ${OPTIONS.offlineFlagSourcePath.env})`,
      );
    }
    return resolverType;
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
    return this.variable(OPTIONS.host.env) ?? OPTIONS.host.default;
  }

  port(): number {
    const resolverType = this.get('resolverType');
    const option = this.option('port');
    if (option !== undefined) return parseNumber('port', option, PORT);
    // FLAGD_SYNC_PORT names the sync service's port, so only modes that sync read it.
    // Differs from 0.16.1, which lets it override FLAGD_PORT in rpc mode too and then calls the
    // evaluation service on the sync port.
    const names = resolverType === 'rpc' ? [OPTIONS.port.env] : [SYNC_PORT_ENV, OPTIONS.port.env];
    const fromEnv = this.numberFromEnv(names, PORT, true);
    if (fromEnv !== undefined) return fromEnv;
    // Differs from 0.16.1, which picks the default port from whether the option OR the variable
    // says in-process, so resolverType 'rpc' with FLAGD_RESOLVER=in-process calls port 8015.
    return resolverType === 'rpc' ? RPC_PORT : IN_PROCESS_PORT;
  }

  number(key: string, names: readonly string[], fallback: number, rule: NumberRule, zeroIsUnset: boolean): number {
    const option = this.option(key);
    if (option !== undefined) return parseNumber(key, option, rule);
    return this.numberFromEnv(names, rule, zeroIsUnset) ?? fallback;
  }

  private numberFromEnv(names: readonly string[], rule: NumberRule, zeroIsUnset: boolean): number | undefined {
    for (const name of names) {
      const text = this.variable(name);
      if (text === undefined) continue;
      // 0.16.1 reads every number with Number(), so "1e3" and " 12 " work there and here alike.
      const value = parseNumber(name, text, { ...rule, min: zeroIsUnset ? Math.min(rule.min, 0) : rule.min });
      if (value === 0 && zeroIsUnset) continue;
      return value;
    }
    return undefined;
  }

  boolean(key: string, env: string, fallback: boolean): boolean {
    const option = this.option(key);
    if (option !== undefined) return parseBoolean(key, option);
    const text = this.variable(env);
    // Differs from 0.16.1, which reads anything but "true" as false, so FLAGD_TLS=1 or =yes
    // would quietly connect in plain text.
    return text === undefined ? fallback : parseBoolean(env, text);
  }

  /**
   * An optional string. An explicit empty option means "none" and, as in 0.16.1 (where the
   * option object is spread over the environment), hides the variable.
   */
  optionalString(key: string, env: string): string | undefined {
    const option = this.option(key);
    if (option !== undefined) {
      if (typeof option !== 'string') throw new ProviderConfigError(key, `${show(option)} is not a string`);
      return option === '' ? undefined : option;
    }
    return this.variable(env);
  }

  cache(): CacheType {
    const option = this.option('cache');
    if (option !== undefined) return parseCache('cache', option);
    const text = this.variable(OPTIONS.cache.env);
    // Differs from 0.16.1, which ignores any FLAGD_CACHE other than exactly "lru" or "disabled":
    // FLAGD_CACHE=DISABLED is read as meant here, and FLAGD_CACHE=none is refused.
    return text === undefined ? OPTIONS.cache.default : parseCache(OPTIONS.cache.env, text);
  }

  fatalStatusCodes(): readonly string[] {
    const option = this.option('fatalStatusCodes');
    if (option !== undefined) return parseStatusList('fatalStatusCodes', option);
    const text = this.variable(OPTIONS.fatalStatusCodes.env);
    return text === undefined ? [] : splitList(text);
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
