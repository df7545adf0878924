/*
 * The daemon's configuration, parsed once at the process edge, the way flagd's `flagd start` does.
 *
 * What flagd does (read from open-feature/flagd: flagd/cmd/start.go @4a84cc74, flagd/cmd/root.go
 * @ed2993cd, core/pkg/sync/builder/utils.go @7cb3e077 and syncbuilder.go @fc269282,
 * core/pkg/sync/isync.go @bed077ba, core/pkg/sync/internal/bloburi/bloburi.go @0d6a5ee9,
 * docs/reference/flagd-cli/flagd_start.md @54989a2a, flagd.md @09012e51,
 * docs/reference/sync-configuration.md @f23ffc16, docs/configuration/configuration.md):
 *
 * - The CLI is cobra + viper. The root command `flagd` has no action of its own (run bare, cobra
 *   prints the help and exits 0) and two persistent flags: `--config` (a config file; when none is
 *   given viper quietly looks for $HOME/.agent.yaml) and `-x/--debug`. Neither is bound to viper,
 *   so neither has an environment variable. Subcommands: `start` and `version`.
 * - `flagd start` flags (long, short, default): --uri -f (string slice, repeatable and
 *   comma-separated), --sources -s (JSON text), --port -p 8013, --management-port -m 8014,
 *   --sync-port -g 8015, --ofrep-port -r 8016 (all int32), --socket-path -d, --sync-socket-path -e,
 *   --server-cert-path -c, --server-key-path -k, --cors-origin -C (string slice), --log-format -z
 *   "console" (console or json), --context-value -X and --context-from-header -H (string-to-string:
 *   key=value pairs, repeatable and comma-separated; for -H the key is the header name and the
 *   value the context key), --metrics-exporter -t, --otel-collector-uri -o, --otel-cert-path -D,
 *   --otel-key-path -K, --otel-ca-path -A, --otel-reload-interval -I (duration, 1h), and the
 *   shorthand-less --stream-deadline (duration, 0), --disable-sync-metadata (bool) and, in the
 *   newest docs, --selector-fallback-key.
 * - Environment: viper with prefix FLAGD, dashes replaced by underscores, upper case: FLAGD_PORT,
 *   FLAGD_MANAGEMENT_PORT, FLAGD_URI, FLAGD_SOURCES, FLAGD_CONTEXT_VALUE... Only flags bound to
 *   viper have one (not --debug, --config; not even --otel-reload-interval). Empty variables count
 *   as unset. A list from the environment is split on whitespace (viper's string-to-slice cast),
 *   a map is read as a JSON object.
 * - Precedence: command-line flag, then environment variable, then config file, then the default.
 *   The config file's keys are the flag long names; `sources` there is a YAML list of the same
 *   objects `--sources` takes as JSON.
 * - `-f` URIs pick the provider from the prefix: `file:` (prefix stripped), `http://`/`https://`
 *   (kept whole), `grpc://` and `grpcs://` (prefix stripped; grpcs sets tls), envoy://, dns://,
 *   uds://, xds:// (grpc with a custom name resolver, kept whole), `gs://bucket/...` (gcs),
 *   `azblob://container/...`, `s3://bucket/...`, `core.openfeature.dev/ns/name` (kubernetes).
 *   Anything else, a bare path included, is refused: "must start with 'file:', 'http(s)://', ...".
 * - `--sources` objects: uri and provider are required; provider is one of file, fsnotify,
 *   fileinfo (file with an explicit watcher), kubernetes, http, grpc, gcs, azblob, s3. Optional:
 *   authHeader (a whole Authorization value), bearerToken (deprecated, becomes "Bearer <token>";
 *   not together with authHeader), interval (uint32 seconds for http and blob polling; 0 or unset
 *   means 5), tls, certPath, providerID, selector, maxMsgSize (grpc), oauth and timeoutS (http, in
 *   newer docs). Unknown keys are ignored by Go's JSON decoding. In --sources the uri does not
 *   follow the -f prefixes: a file is a plain path and grpc is host:port with `tls` deciding.
 * - Sources from -f come first, then those from --sources; a later source wins a flag key
 *   collision. Blob URIs may carry driver options as a query (s3: region, endpoint,
 *   use_path_style).
 *
 * What vexil decides where flagd is silent or odd (documented in `vexil start --help` too):
 * - `vexil` without a command prints the root help as a `help` result (exit 0), as cobra does;
 *   `vexil help [command]`, `-h/--help`, `vexil version` and `--version` exist. No
 *   $HOME/.agent.yaml is read implicitly: only an explicit --config.
 * - --debug also reads FLAGD_DEBUG and the config key `debug`; `--host` (default 0.0.0.0, flag or
 *   config key only, since FLAGD_HOST is the providers' variable) chooses the bind address.
 * - A bare path in -f is an error that suggests the `file:` form, as in flagd.
 * - Provider kubernetes, gcs, azblob and gRPC name-resolver URIs are refused as "not supported by
 *   vexil yet"; fsnotify/fileinfo are accepted as file. Unknown source keys are errors (typos
 *   should not pass silently); providerID, maxMsgSize and timeoutS are accepted with a warning;
 *   oauth is refused. `headers` (http), `endpoint`, `region`, `forcePathStyle` (s3) are vexil's.
 * - SourceConfig.uri is normalised to one form per provider (`file:path`, `grpc(s)://host:port`,
 *   `s3://bucket/key` with query options moved into fields) and http/s3 get interval 5 when unset;
 *   interval must be a positive integer. The same uri twice is an error.
 * - flagd flags vexil does not implement (metrics/otel, --selector-fallback-key) are accepted so
 *   flagd command lines keep working, and reported in `warnings`. --stream-deadline wants a unit
 *   (Go reads a bare number as nanoseconds; here only `0` may go without one). Unknown config-file keys are errors.
 * - Ports must be integers 0-65535; 0 binds any free port (tests; the log says which). --server-cert-path and --server-key-path go together.
 *   -H header names are lower-cased (HTTP and gRPC metadata names are case-insensitive).
 * - --browser-rules (env FLAGD_BROWSER_RULES, config key browser-rules) is vexil's own: the flag sets
 *   whose rules browsers may fetch on the OFREP port (servers/browser).
 * - Lists and maps from the environment accept commas as well as whitespace, and -X/-H also a JSON
 *   object. In a `k=v,x` pair list, a piece without `=` continues the previous value (pflag does
 *   the same), and `a=b=c` keeps `b=c` as the value.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { parseDocument } from 'yaml';
import type { SourceConfig } from '../sources/source.js';
import { parseAdminToken, type AdminToken } from '../admin/auth.js';
import { filePathOf } from '../sources/uri.js';
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
  type LogFormat,
} from './daemon-config.js';
import { ConfigError, filePrefix, invalidValue, oneLine, quote, settingError, settingName, type Origin } from './errors.js';
import { formatHelp, formatVersion, type HelpTopic } from './help.js';
import { JsonSyntaxError, describeJsonError, parseJson } from './json.js';
import { OPTIONS, findOption, type OptionSpec } from './options.js';
import { describeType, isHeaderName, isPlainObject, parseBool, sourceFromUri, sourcesFromArray } from './sources.js';

export { formatHelp, formatVersion } from './help.js';
export { OPTIONS, envName } from './options.js';

export type ParseResult =
  | {
      readonly kind: 'config';
      readonly config: DaemonConfig;
      /** Settings accepted but not acted on (flagd options vexil ignores); the CLI should log them. */
      readonly warnings: readonly string[];
    }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

export interface ParseOptions {
  /** The version `vexil version` prints; the daemon package's version by default. */
  readonly version?: string;
}

export type ReadFile = (path: string) => string;

/** The defaults, as flagd's: no sources, ports 8013-8016, console logs. */
export const DEFAULT_CONFIG: DaemonConfig = deepFreeze({
  sources: [],
  ...DEFAULT_PORTS,
  host: '0.0.0.0',
  contextValues: {},
  contextFromHeaders: {},
  corsOrigins: [],
  browserRules: [],
  logFormat: 'console',
  streamDeadlineMs: 0,
  disableSyncMetadata: false,
  debug: false,
  adminTokens: [],
  adminRateLimit: DEFAULT_ADMIN_RATE_LIMIT,
  adminAuthFailureLimit: DEFAULT_ADMIN_AUTH_FAILURE_LIMIT,
  maxStreams: DEFAULT_MAX_STREAMS,
  maxStreamsPerAddress: DEFAULT_MAX_STREAMS_PER_ADDRESS,
  headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
} satisfies DaemonConfig);

/**
 * Parses `vexil` arguments (without node and the script: `process.argv.slice(2)`), the environment
 * and the --config file into a deep-frozen DaemonConfig, or the help/version text to print, or a
 * one-line error. Never exits, never prints; `readFile` is only called for --config.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile = (path) => readFileSync(path, 'utf8'),
  options: ParseOptions = {},
): ParseResult {
  try {
    return parse(argv, env, readFile, options);
  } catch (err) {
    if (err instanceof ConfigError) return { kind: 'error', message: err.message };
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------------

type CliValue = string | readonly string[] | boolean;

interface CommandLine {
  readonly command: 'start' | 'help' | 'version';
  readonly helpTopic?: HelpTopic;
  /** Raw values of the options given on the command line, by long name. */
  readonly values: ReadonlyMap<string, CliValue>;
}

const BOOLEAN_WITH_VALUE = /^--(debug|disable-sync-metadata)=(.*)$/s;

function parse(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile,
  options: ParseOptions,
): ParseResult {
  const cli = parseCommandLine(argv);
  if (cli.command === 'help') return { kind: 'help', text: formatHelp(cli.helpTopic) };
  if (cli.command === 'version') return { kind: 'version', text: formatVersion(options.version ?? packageVersion()) };

  const configPath = cli.values.get('config');
  const file = typeof configPath === 'string' ? loadConfigFile(configPath, readFile) : undefined;
  return { kind: 'config', ...resolve(cli.values, env, file) };
}

function parseCommandLine(argv: readonly string[]): CommandLine {
  // pflag accepts --debug=false; commander's boolean options take no value, so rewrite it as the
  // (hidden) negation. Only before a `--`, which ends the options.
  const args: string[] = [];
  let literal = false;
  for (const arg of argv) {
    const m = literal ? null : BOOLEAN_WITH_VALUE.exec(arg);
    if (arg === '--') literal = true;
    if (!m) {
      args.push(arg);
      continue;
    }
    const value = parseBool(m[2]);
    if (value === undefined) throw invalidValue(findOption(m[1]), { kind: 'cli' }, m[2], 'expected true or false');
    args.push(value ? `--${m[1]}` : `--no-${m[1]}`);
  }

  let invoked: CommandLine['command'] | undefined;
  let helpArg: string | undefined;

  const program = configure(new Command('vexil'));
  const rootOptions = addOptions(program, OPTIONS.filter((o) => o.scope === 'root'));
  program.addOption(new Option('--version'));

  const start = configure(program.command('start').description('Start the daemon'));
  // Root options are cobra "persistent" flags: accepted after `start` as well.
  const startOptions = addOptions(start, OPTIONS);
  start.action(() => {
    invoked = 'start';
  });

  const version = configure(program.command('version').description('Print the version'));
  version.action(() => {
    invoked = 'version';
  });

  const help = configure(program.command('help').description('Help about a command').argument('[command]'));
  help.action((topic: string | undefined) => {
    invoked = 'help';
    helpArg = topic;
  });

  try {
    program.parse([...args], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.help') {
      // No command (possibly just root flags): cobra prints the root help.
      if (program.getOptionValue('version') === true) return { command: 'version', values: new Map() };
      return { command: 'help', helpTopic: 'root', values: new Map() };
    }
    throw new ConfigError(commanderMessage(err));
  }

  const rootHelp = program.getOptionValue('help') === true;
  switch (invoked) {
    case 'help': {
      if (helpArg === undefined || helpArg === 'help') return { command: 'help', helpTopic: 'root', values: new Map() };
      if (helpArg === 'start' || helpArg === 'version') return { command: 'help', helpTopic: helpArg, values: new Map() };
      throw new ConfigError(`unknown help topic ${quote(helpArg)}: expected start or version`);
    }
    case 'version':
      if (rootHelp || version.getOptionValue('help') === true) return { command: 'help', helpTopic: 'version', values: new Map() };
      return { command: 'version', values: new Map() };
    case 'start': {
      if (rootHelp || start.getOptionValue('help') === true) return { command: 'help', helpTopic: 'start', values: new Map() };
      const values = new Map<string, CliValue>();
      for (const [name, option] of startOptions) {
        let value = start.getOptionValue(option.attributeName()) as CliValue | undefined;
        const rootOption = rootOptions.get(name);
        if (value === undefined && rootOption) value = program.getOptionValue(rootOption.attributeName()) as CliValue | undefined;
        if (value !== undefined) values.set(name, value);
      }
      return { command: 'start', values };
    }
    default:
      return { command: 'help', helpTopic: 'root', values: new Map() };
  }
}

function configure(command: Command): Command {
  return command
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .helpOption(false)
    .helpCommand(false)
    .enablePositionalOptions()
    .allowExcessArguments(false)
    .addOption(new Option('-h, --help'));
}

/** Adds the table's options to a commander command; returns them by long name. */
function addOptions(command: Command, specs: readonly OptionSpec[]): Map<string, Option> {
  const added = new Map<string, Option>();
  for (const spec of specs) {
    const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}`;
    const option = spec.kind === 'bool' ? new Option(flags) : new Option(`${flags} <${spec.arg ?? 'value'}>`);
    if (spec.kind === 'list' || spec.kind === 'map') {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    command.addOption(option);
    if (spec.kind === 'bool') command.addOption(new Option(`--no-${spec.name}`).hideHelp());
    added.set(spec.name, option);
  }
  return added;
}

/** commander's message on one line, without its "error: " prefix, with a hint where useful. */
function commanderMessage(err: CommanderError): string {
  let message = oneLine(err.message.replace(/^error:\s*/, ''));
  if (err.code === 'commander.unknownOption') {
    const flag = /'([^']+)'/.exec(message)?.[1];
    const known = OPTIONS.some(
      (o) => o.scope === 'start' && flag !== undefined && (flag === `--${o.name}` || flag.startsWith(`--${o.name}=`) || flag.startsWith(`-${o.short ?? '\0'}`)),
    );
    if (known) message += ` (flags of start go after the command: vexil start ${flag} ...)`;
  }
  if (err.code === 'commander.unknownCommand') message += ' (commands: start, version, help)';
  const missing = /^option '(?:(-\w), )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing) message = `${missing[1] ? `${missing[1]}/` : ''}${missing[2]}: missing value`;
  return message;
}

// ------------------------------------------------------------------------------------------------
// Config file
// ------------------------------------------------------------------------------------------------

function loadConfigFile(path: string, readFile: ReadFile): Record<string, unknown> {
  if (path === '') throw new ConfigError('--config: expected a file path');
  const fail = (detail: string) => new ConfigError(`--config ${path}: ${detail}`);
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ENOENT') throw fail('file not found');
    if (code === 'EACCES' || code === 'EPERM') throw fail('permission denied');
    if (code === 'EISDIR') throw fail('is a directory, not a file');
    throw fail(`cannot read the file: ${err instanceof Error ? err.message : String(err)}`);
  }

  const ext = extname(path).toLowerCase();
  let value: unknown;
  if (ext === '.json') {
    try {
      value = parseJson(text);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw fail(describeJsonError(err, text));
      throw err;
    }
  } else if (ext === '.yaml' || ext === '.yml' || ext === '') {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      const at = first.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      throw fail(`invalid YAML${where}: ${first.message.split('\n')[0].replace(/\s*at line \d+, column \d+:?$/, '')}`);
    }
    value = doc.toJS() as unknown;
  } else {
    throw fail(`unsupported file type ${quote(ext)}: expected .yaml, .yml or .json`);
  }

  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw fail(`expected a mapping of option names to values, got ${describeType(value)}`);
  for (const key of Object.keys(value)) {
    const spec = OPTIONS.find((o) => o.name === key);
    if (!spec || spec.name === 'config') {
      throw fail(`unknown key ${quote(key)} (keys are the long flag names: port, uri, sources, log-format, ...)`);
    }
  }
  return value;
}

// ------------------------------------------------------------------------------------------------
// Layering: flag > environment > config file > default
// ------------------------------------------------------------------------------------------------

interface Layered {
  readonly raw: unknown;
  readonly origin: Origin;
}

function resolve(
  cli: ReadonlyMap<string, CliValue>,
  env: Readonly<Record<string, string | undefined>>,
  file: Record<string, unknown> | undefined,
): { config: DaemonConfig; warnings: readonly string[] } {
  const filePath = (() => {
    const p = cli.get('config');
    return typeof p === 'string' ? p : '';
  })();
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);

  const layer = (spec: OptionSpec): Layered | undefined => {
    const fromCli = cli.get(spec.name);
    if (fromCli !== undefined) return { raw: fromCli, origin: { kind: 'cli' } };
    if (spec.env !== undefined) {
      const fromEnv = env[spec.env];
      if (fromEnv !== undefined && fromEnv !== '') return { raw: fromEnv, origin: { kind: 'env', variable: spec.env } };
    }
    if (file && Object.hasOwn(file, spec.name) && file[spec.name] !== null && file[spec.name] !== undefined) {
      return { raw: file[spec.name], origin: { kind: 'file', path: filePath } };
    }
    return undefined;
  };

  const get = <T>(name: string, convert: (spec: OptionSpec, raw: unknown, origin: Origin) => T): { value: T; origin: Origin } | undefined => {
    const spec = findOption(name);
    const found = layer(spec);
    return found === undefined ? undefined : { value: convert(spec, found.raw, found.origin), origin: found.origin };
  };

  const port = (name: string, fallback: number) => get(name, toPort)?.value ?? fallback;

  // Sources: -f URIs first, then --sources objects (flagd appends them in this order).
  const sources: SourceConfig[] = [];
  const uris = get('uri', toList);
  if (uris) {
    const label = labelFor(findOption('uri'), uris.origin);
    for (const uri of uris.value) sources.push(sourceFromUri(uri, label));
  }
  const objects = get('sources', (spec, raw, origin) => toSources(spec, raw, origin, warn));
  if (objects) sources.push(...objects.value);
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.uri)) throw new ConfigError(`duplicate source ${quote(source.uri)}: configure each source once`);
    seen.add(source.uri);
  }
  if (sources.length === 0) warn('no flag sources configured (-f/--uri, -s/--sources): no flags will be served');

  const logFormat = get('log-format', toLogFormat)?.value ?? 'console';

  const cert = get('server-cert-path', toOptionalString);
  const key = get('server-key-path', toOptionalString);
  let tls: DaemonConfig['tls'];
  if (cert?.value !== undefined && key?.value !== undefined) {
    tls = { certPath: cert.value, keyPath: key.value };
  } else if (cert?.value !== undefined || key?.value !== undefined) {
    const [given, missing] = cert?.value !== undefined ? (['server-cert-path', 'server-key-path'] as const) : (['server-key-path', 'server-cert-path'] as const);
    const origin = (cert?.value !== undefined ? cert.origin : key?.origin) as Origin;
    throw new ConfigError(
      `${filePrefix(origin)}${settingName(findOption(given), origin)} needs --${missing} as well (env ${findOption(missing).env})`,
    );
  }

  const adminSource = get('admin-source', (spec, raw, origin) => toAdminSource(spec, raw, origin, sources));
  const auditLog = get('audit-log', toOptionalString)?.value;
  const auditKeyFile = get('audit-key-file', toOptionalString)?.value;
  const auditCheckpoint = get('audit-checkpoint', toOptionalString)?.value;
  if (auditCheckpoint !== undefined && auditKeyFile === undefined) warn('--audit-checkpoint has no effect without --audit-key-file (checkpoints are signed with its key)');
  if (adminSource?.value !== undefined && adminSource.value.startsWith('s3://') && auditLog === undefined) {
    throw new ConfigError(`${filePrefix(adminSource.origin)}${settingName(findOption('admin-source'), adminSource.origin)} is an s3:// source: give --audit-log too (env FLAGD_AUDIT_LOG)`);
  }

  const socketPath = get('socket-path', toOptionalString)?.value;
  const syncSocketPath = get('sync-socket-path', toOptionalString)?.value;
  const streamDeadlineMs = get('stream-deadline', toDurationMs)?.value ?? 0;
  const maxConnections = get('max-connections', toCap)?.value;

  const config: DaemonConfig = {
    sources,
    port: port('port', DEFAULT_PORTS.port),
    managementPort: port('management-port', DEFAULT_PORTS.managementPort),
    syncPort: port('sync-port', DEFAULT_PORTS.syncPort),
    ofrepPort: port('ofrep-port', DEFAULT_PORTS.ofrepPort),
    host: get('host', toHost)?.value ?? DEFAULT_CONFIG.host,
    contextValues: get('context-value', toContextValues)?.value ?? {},
    contextFromHeaders: get('context-from-header', toHeaderMappings)?.value ?? {},
    corsOrigins: get('cors-origin', toList)?.value ?? [],
    browserRules: get('browser-rules', toList)?.value ?? [],
    logFormat,
    ...(tls ? { tls } : {}),
    ...(socketPath !== undefined ? { socketPath } : {}),
    ...(syncSocketPath !== undefined ? { syncSocketPath } : {}),
    streamDeadlineMs,
    disableSyncMetadata: get('disable-sync-metadata', toBool)?.value ?? false,
    debug: get('debug', toBool)?.value ?? false,
    ...(adminSource?.value !== undefined ? { adminSource: adminSource.value } : {}),
    adminTokens: get('admin-token', toAdminTokens)?.value ?? [],
    adminRateLimit: get('admin-rate-limit', toRateLimit)?.value ?? DEFAULT_ADMIN_RATE_LIMIT,
    adminAuthFailureLimit: get('admin-auth-failure-limit', toRateLimit)?.value ?? DEFAULT_ADMIN_AUTH_FAILURE_LIMIT,
    ...(auditLog !== undefined ? { auditLog } : {}),
    ...(auditKeyFile !== undefined ? { auditKeyFile } : {}),
    ...(auditCheckpoint !== undefined ? { auditCheckpoint } : {}),
    maxStreams: get('max-streams', toCap)?.value ?? DEFAULT_MAX_STREAMS,
    maxStreamsPerAddress: get('max-streams-per-address', toCap)?.value ?? DEFAULT_MAX_STREAMS_PER_ADDRESS,
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    headersTimeoutMs: get('headers-timeout', toDurationMs)?.value ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: get('request-timeout', toDurationMs)?.value ?? DEFAULT_REQUEST_TIMEOUT_MS,
    idleTimeoutMs: get('idle-timeout', toDurationMs)?.value ?? DEFAULT_IDLE_TIMEOUT_MS,
  };

  for (const spec of OPTIONS) {
    if (!spec.ignored) continue;
    const found = layer(spec);
    if (found) warn(`${filePrefix(found.origin)}${settingName(spec, found.origin)} is a flagd option vexil does not implement; ignored`);
  }

  return { config: deepFreeze(config), warnings: Object.freeze(warnings) };
}

/** How a source list is named in messages: `-f/--uri`, `FLAGD_URI`, `--config x.yaml: uri`. */
function labelFor(spec: OptionSpec, origin: Origin): string {
  return `${filePrefix(origin)}${settingName(spec, origin)}`;
}

// ------------------------------------------------------------------------------------------------
// Converters: raw value (string from the command line or environment, anything from a file)
// ------------------------------------------------------------------------------------------------

function scalarText(spec: OptionSpec, raw: unknown, origin: Origin, expected: string): string {
  if (typeof raw === 'string') return raw;
  if (origin.kind === 'file' && (typeof raw === 'number' || typeof raw === 'boolean')) return String(raw);
  throw invalidValue(spec, origin, raw, expected);
}

function toPort(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected an integer 0-65535 (0: any free port)';
  const text = scalarText(spec, raw, origin, expected).trim();
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw invalidValue(spec, origin, raw, expected);
  return n;
}

/** Go's time.Duration text (`30s`, `1m30s`, `250ms`, `1h`), as flagd's duration flags take it; ms. */
function toDurationMs(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected a duration such as 30s, 10m or 1h30m (0 for none)';
  const text = scalarText(spec, raw, origin, expected).trim();
  if (text === '0') return 0;
  // Go also reads a bare number as nanoseconds; a unit is required here so 600 cannot mean 600 ns by surprise.
  const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let end = 0;
  for (let m = part.exec(text); m !== null; m = part.exec(text)) {
    ms += Number(m[1]) * UNITS[m[2]];
    end = part.lastIndex;
  }
  if (end === 0 || end !== text.length || !Number.isFinite(ms)) throw invalidValue(spec, origin, raw, expected);
  return ms;
}

function toOptionalString(spec: OptionSpec, raw: unknown, origin: Origin): string | undefined {
  if (typeof raw !== 'string') throw invalidValue(spec, origin, raw, 'expected a string');
  return raw === '' ? undefined : raw;
}

function toHost(spec: OptionSpec, raw: unknown, origin: Origin): string {
  if (typeof raw !== 'string' || raw.trim() === '' || /\s/.test(raw)) {
    throw invalidValue(spec, origin, raw, 'expected an address such as 0.0.0.0, ::, 127.0.0.1 or localhost');
  }
  return raw;
}

/** --admin-source: one of the configured file: or s3:// sources, by URI or (files) by path; its configured URI. */
function toAdminSource(spec: OptionSpec, raw: unknown, origin: Origin, sources: readonly SourceConfig[]): string | undefined {
  const text = toOptionalString(spec, raw, origin);
  if (text === undefined) return undefined;
  const samePath = (uri: string) => {
    try {
      return filePathOf(uri) === filePathOf(text.startsWith('file:') ? text : `file:${text}`);
    } catch {
      return false;
    }
  };
  const match = sources.find((s) => s.uri === text) ?? sources.find((s) => s.provider === 'file' && samePath(s.uri));
  if (match === undefined) throw invalidValue(spec, origin, raw, 'expected one of the configured sources (-f/--uri, -s/--sources)');
  if (match.provider !== 'file' && match.provider !== 's3') throw invalidValue(spec, origin, raw, 'expected a file: or s3:// source (the API writes there)');
  return match.uri;
}

function toAdminTokens(spec: OptionSpec, raw: unknown, origin: Origin): AdminToken[] {
  const tokens: AdminToken[] = [];
  for (const item of toList(spec, raw, origin)) {
    const parsed = parseAdminToken(item);
    // The token itself stays out of the message.
    if ('error' in parsed) throw settingError(spec, origin, `invalid token:role[:name] (item ${tokens.length + 1}): ${parsed.error}`);
    if (tokens.some((t) => t.token === parsed.token)) throw settingError(spec, origin, `item ${tokens.length + 1}: the same token is given twice`);
    tokens.push(parsed);
  }
  return tokens;
}

function toRateLimit(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected a positive integer (requests per minute)';
  const text = scalarText(spec, raw, origin, expected).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw invalidValue(spec, origin, raw, expected);
  return n;
}

/** A count cap (--max-streams, --max-connections, ...): an integer, 0 for no cap. */
function toCap(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected a whole number (0: no cap)';
  const text = scalarText(spec, raw, origin, expected).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n)) throw invalidValue(spec, origin, raw, expected);
  return n;
}

function toLogFormat(spec: OptionSpec, raw: unknown, origin: Origin): LogFormat {
  if (raw === 'console' || raw === 'json') return raw;
  throw invalidValue(spec, origin, raw, 'expected console or json');
}

function toBool(spec: OptionSpec, raw: unknown, origin: Origin): boolean {
  if (typeof raw === 'boolean') return raw;
  const value = typeof raw === 'string' ? parseBool(raw.trim()) : undefined;
  if (value === undefined) throw invalidValue(spec, origin, raw, 'expected true or false');
  return value;
}

/**
 * A list: on the command line each occurrence may hold comma-separated items (pflag's CSV);
 * from the environment, or a string in a file, items are separated by whitespace or commas; a
 * YAML list is taken item by item.
 */
function toList(spec: OptionSpec, raw: unknown, origin: Origin): string[] {
  const split = (text: string, separators: RegExp) => text.split(separators).map((s) => s.trim()).filter((s) => s !== '');
  if (origin.kind === 'cli' && Array.isArray(raw)) return raw.flatMap((item: string) => split(item, /,/));
  if (typeof raw === 'string') return split(raw, /[\s,]+/);
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return raw.map((s: string) => s.trim()).filter((s) => s !== '');
  throw invalidValue(spec, origin, raw, 'expected a list of strings');
}

/**
 * key=value pairs, pflag style: `a=1,b=2` is two pairs, `a=b=c` gives a the value `b=c`, and a
 * piece without `=` after a comma continues the previous value (`a=x,y` gives a `x,y`).
 */
function parsePairs(spec: OptionSpec, origin: Origin, text: string, expected: string, into: Map<string, string>): void {
  let last: string | undefined;
  for (const piece of text.split(',')) {
    const eq = piece.indexOf('=');
    if (eq < 0) {
      if (last === undefined) throw invalidValue(spec, origin, text, expected);
      into.set(last, `${into.get(last) ?? ''},${piece}`);
      continue;
    }
    const key = piece.slice(0, eq).trim();
    if (key === '') throw invalidValue(spec, origin, text, expected);
    into.set(key, piece.slice(eq + 1));
    last = key;
  }
}

function toPairs(spec: OptionSpec, raw: unknown, origin: Origin, expected: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const fromObject = (object: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(object)) {
      if (key.trim() === '') throw invalidValue(spec, origin, raw, `${expected} with a non-empty key`);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') pairs.set(key.trim(), String(value));
      else throw invalidValue(spec, origin, raw, `${expected}: the value of ${quote(key)} is ${describeType(value)}, expected a string`);
    }
  };
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) {
    for (const item of raw as string[]) parsePairs(spec, origin, item, expected, pairs);
  } else if (typeof raw === 'string') {
    if (origin.kind !== 'cli' && raw.trim().startsWith('{')) {
      let object: unknown;
      try {
        object = parseJson(raw);
      } catch (err) {
        if (err instanceof JsonSyntaxError) throw settingError(spec, origin, describeJsonError(err, raw));
        throw err;
      }
      if (!isPlainObject(object)) throw invalidValue(spec, origin, raw, `${expected} pairs or a JSON object of strings`);
      fromObject(object);
    } else {
      parsePairs(spec, origin, raw, expected, pairs);
    }
  } else if (isPlainObject(raw)) {
    fromObject(raw);
  } else {
    throw invalidValue(spec, origin, raw, `${expected} pairs (a mapping or a list of strings)`);
  }
  return pairs;
}

function toContextValues(spec: OptionSpec, raw: unknown, origin: Origin): Record<string, string> {
  return Object.fromEntries(toPairs(spec, raw, origin, 'expected key=value'));
}

function toHeaderMappings(spec: OptionSpec, raw: unknown, origin: Origin): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, key] of toPairs(spec, raw, origin, 'expected header=key')) {
    if (!isHeaderName(header)) throw invalidValue(spec, origin, raw, `${quote(header)} is not a valid header name`);
    if (key.trim() === '') throw invalidValue(spec, origin, raw, `expected header=key with a non-empty context key for ${quote(header)}`);
    out[header.toLowerCase()] = key.trim();
  }
  return out;
}

function toSources(spec: OptionSpec, raw: unknown, origin: Origin, warn: (message: string) => void): SourceConfig[] {
  const label = labelFor(spec, origin);
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return [];
    try {
      value = parseJson(raw);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw settingError(spec, origin, describeJsonError(err, raw));
      throw err;
    }
  }
  return sourcesFromArray(value, label, warn);
}

// ------------------------------------------------------------------------------------------------

let cachedVersion: string | undefined;

/** The daemon package's version (package.json sits two levels above both src/config and dist/config). */
function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = createRequire(import.meta.url)('../../package.json') as { version?: unknown };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
