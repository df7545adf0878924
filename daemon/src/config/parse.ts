/*
 * The daemon's configuration, parsed once at the process edge, the way flagd's `flagd start` does:
 * the command line, then FLAGD_* environment variables, then a --config file, then the defaults.
 * The option table (options.ts) drives all of it; what flagd does and where vexil departs from it
 * is written up in docs/configuration.md.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { parseDocument } from 'yaml';
import type { SourceConfig } from '../sources/source.js';
import type { ConvertContext } from './converters.js';
import type { DaemonConfig } from './daemon-config.js';
import { ConfigError, filePrefix, invalidValue, oneLine, quote, settingName, type Origin } from './errors.js';
import { formatHelp, formatVersion, type HelpTopic } from './help.js';
import { JsonSyntaxError, describeJsonError, parseJson } from './json.js';
import {
  CONFIG_OPTION,
  FIELD_OPTIONS,
  OPTIONS,
  SERVER_CERT_OPTION,
  SERVER_KEY_OPTION,
  SOURCES_OPTION,
  URI_OPTION,
  type FieldOption,
  type InputOption,
  type OptionSpec,
} from './options.js';
import { describeType, isPlainObject, parseBool } from './sources.js';

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

/**
 * The defaults, as flagd's (no sources, ports 8013-8016, console logs): each table option's default,
 * plus no sources and no TLS, the fields parse.ts's explicit steps build.
 */
export const DEFAULT_CONFIG: DaemonConfig = deepFreeze(withFields({ sources: [] }, FIELD_OPTIONS.map((spec) => [spec, spec.default])));

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
  /** Raw values of the options given on the command line. */
  readonly values: ReadonlyMap<OptionSpec, CliValue>;
}

/** The boolean options by long name, for the `--name=value` form commander does not take. */
const BOOLEANS: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.filter((o) => o.kind === 'bool').map((o) => [o.name, o]));

function parse(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile,
  options: ParseOptions,
): ParseResult {
  const cli = parseCommandLine(argv);
  if (cli.command === 'help') return { kind: 'help', text: formatHelp(cli.helpTopic) };
  if (cli.command === 'version') return { kind: 'version', text: formatVersion(options.version ?? packageVersion()) };

  const configPath = cli.values.get(CONFIG_OPTION);
  const file = typeof configPath === 'string' ? loadConfigFile(configPath, readFile) : undefined;
  return { kind: 'config', ...resolve(cli.values, env, file) };
}

function parseCommandLine(argv: readonly string[]): CommandLine {
  // pflag accepts --debug=false; commander's boolean options take no value, so rewrite it as the
  // (hidden) negation. Only before a `--`, which ends the options.
  const args: string[] = [];
  let literal = false;
  for (const arg of argv) {
    const m = literal ? null : /^--([^=]+)=(.*)$/s.exec(arg);
    const spec = m ? BOOLEANS.get(m[1]) : undefined;
    if (arg === '--') literal = true;
    if (!m || !spec) {
      args.push(arg);
      continue;
    }
    const value = parseBool(m[2]);
    if (value === undefined) throw invalidValue(spec, { kind: 'cli' }, m[2], 'expected true or false');
    args.push(value ? `--${spec.name}` : `--no-${spec.name}`);
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
      const values = new Map<OptionSpec, CliValue>();
      for (const [spec, option] of startOptions) {
        let value = start.getOptionValue(option.attributeName()) as CliValue | undefined;
        const rootOption = rootOptions.get(spec);
        if (value === undefined && rootOption) value = program.getOptionValue(rootOption.attributeName()) as CliValue | undefined;
        if (value !== undefined) values.set(spec, value);
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

/** Adds the table's options to a commander command; returns them by spec. */
function addOptions(command: Command, specs: readonly OptionSpec[]): Map<OptionSpec, Option> {
  const added = new Map<OptionSpec, Option>();
  for (const spec of specs) {
    const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}`;
    const option = spec.kind === 'bool' ? new Option(flags) : new Option(`${flags} <${spec.arg ?? 'value'}>`);
    if (spec.kind === 'list' || spec.kind === 'map') {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    command.addOption(option);
    if (spec.kind === 'bool') command.addOption(new Option(`--no-${spec.name}`).hideHelp());
    added.set(spec, option);
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
    if (!spec || spec === CONFIG_OPTION) {
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
  cli: ReadonlyMap<OptionSpec, CliValue>,
  env: Readonly<Record<string, string | undefined>>,
  file: Record<string, unknown> | undefined,
): { config: DaemonConfig; warnings: readonly string[] } {
  const filePath = (() => {
    const p = cli.get(CONFIG_OPTION);
    return typeof p === 'string' ? p : '';
  })();
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);

  const layer = (spec: OptionSpec): Layered | undefined => {
    const fromCli = cli.get(spec);
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

  const read = <T>(spec: InputOption<T>, context: ConvertContext): { value: T; origin: Origin } | undefined => {
    const found = layer(spec);
    return found === undefined ? undefined : { value: spec.parse(spec, found.raw, found.origin, context), origin: found.origin };
  };

  // Step 1, sources: -f URIs first, then --sources objects (flagd appends them in this order).
  // Before the table loop, because --admin-source names one of them.
  const sources: SourceConfig[] = [];
  sources.push(...(read(URI_OPTION, { sources, warn })?.value ?? []));
  sources.push(...(read(SOURCES_OPTION, { sources, warn })?.value ?? []));
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.uri)) throw new ConfigError(`duplicate source ${quote(source.uri)}: configure each source once`);
    seen.add(source.uri);
  }
  if (sources.length === 0) warn('no flag sources configured (-f/--uri, -s/--sources): no flags will be served');

  // Step 2, the table: every option that sets one field on its own, in table order.
  const context: ConvertContext = { sources, warn };
  /** Where each field set by a layer came from, for the rules of step 3. */
  const setBy = new Map<keyof DaemonConfig, Layered & { readonly spec: FieldOption }>();
  const values: Array<readonly [FieldOption, unknown]> = [];
  for (const spec of FIELD_OPTIONS) {
    const found = layer(spec);
    if (found === undefined) {
      values.push([spec, spec.default]);
      continue;
    }
    values.push([spec, spec.parse(spec, found.raw, found.origin, context) ?? spec.default]);
    setBy.set(spec.field, { ...found, spec });
  }
  const config = withFields({ sources }, values);

  // Step 3, rules across options.
  const cert = read(SERVER_CERT_OPTION, context);
  const key = read(SERVER_KEY_OPTION, context);
  if (cert?.value !== undefined && key?.value !== undefined) {
    config.tls = { certPath: cert.value, keyPath: key.value };
  } else if (cert?.value !== undefined || key?.value !== undefined) {
    const [given, missing] = cert?.value !== undefined ? [SERVER_CERT_OPTION, SERVER_KEY_OPTION] : [SERVER_KEY_OPTION, SERVER_CERT_OPTION];
    const origin = (cert?.value !== undefined ? cert.origin : key?.origin) as Origin;
    throw new ConfigError(`${filePrefix(origin)}${settingName(given, origin)} needs --${missing.name} as well (env ${missing.env})`);
  }

  if (config.auditCheckpoint !== undefined && config.auditKeyFile === undefined) {
    warn('--audit-checkpoint has no effect without --audit-key-file (checkpoints are signed with its key)');
  }
  const adminSource = setBy.get('adminSource');
  if (adminSource !== undefined && config.adminSource?.startsWith('s3://') && config.auditLog === undefined) {
    const { spec, origin } = adminSource;
    throw new ConfigError(`${filePrefix(origin)}${settingName(spec, origin)} is an s3:// source: give --audit-log too (env FLAGD_AUDIT_LOG)`);
  }

  for (const spec of OPTIONS) {
    if (!spec.ignored) continue;
    const found = layer(spec);
    if (found) warn(`${filePrefix(found.origin)}${settingName(spec, found.origin)} is a flagd option vexil does not implement; ignored`);
  }

  return { config: deepFreeze(config), warnings: Object.freeze(warnings) };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A DaemonConfig from the field options' values; unset (undefined) optional fields stay absent,
 * so `'socketPath' in config` is false without --socket-path.
 */
function withFields(base: { sources: readonly SourceConfig[] }, values: Iterable<readonly [FieldOption, unknown]>): Mutable<DaemonConfig> {
  const out: Record<string, unknown> = { ...base };
  for (const [spec, value] of values) if (value !== undefined) out[spec.field] = value;
  // Every required field has an option with a typed, defined default (options.ts checks that at
  // compile time), so the record is a whole DaemonConfig.
  return out as unknown as Mutable<DaemonConfig>;
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
