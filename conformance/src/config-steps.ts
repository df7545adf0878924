/**
 * Step definitions for the flagd testbed's `gherkin/config.feature`, run against
 * @vexil/server-provider's `resolveConfig`: the provider's options and FLAGD_* environment
 * variables, resolved without any connection.
 *
 * The environment is the scenario's own record, passed to `resolveConfig`; `process.env` is never
 * touched, so scenarios cannot leak variables into each other or into other suites.
 *
 * The steps translate the testbed's typed text into option values and compare what comes back.
 * Conversions follow the upstream reference harness (java-sdk-contrib's ConfigSteps): Boolean
 * text is case-insensitive ("True"), StringList is comma-separated with items trimmed, an expected
 * String "null" means the option is unset, and expected ResolverType and CacheType values are
 * compared case-insensitively (the env scenarios set "IN-PROCESS" and expect it back).
 */
import { resolveConfig, type ResolvedConfig, type VexilProviderOptions } from '@vexil/server-provider';
import { StepRegistry } from './steps.js';
import { check, jsonEqual, parseTyped, show } from './values.js';

export interface ConfigWorld {
  options: Record<string, unknown>;
  env: Record<string, string>;
  config?: ResolvedConfig;
  /** What resolveConfig threw, if it threw. */
  error?: unknown;
}

export function createConfigWorld(): ConfigWorld {
  return { options: {}, env: {} };
}

/** What the world holds, appended to failure messages. */
export function describeConfigWorld(world: ConfigWorld): string {
  const lines = [`  options: ${show(world.options)}`, `  env: ${show(world.env)}`];
  if (world.error !== undefined) lines.push(`  error: ${world.error instanceof Error ? world.error.message : show(world.error)}`);
  return lines.join('\n');
}

/**
 * The testbed's option names that are ours too, each to our option key. The testbed says
 * "resolver" (the name in flagd's option table); the JS providers call it `resolverType`.
 */
const OPTION_KEYS: Readonly<Record<string, Exclude<keyof VexilProviderOptions, 'contextEnricher'>>> = {
  resolver: 'resolverType',
  host: 'host',
  port: 'port',
  targetUri: 'targetUri',
  tls: 'tls',
  socketPath: 'socketPath',
  certPath: 'certPath',
  deadlineMs: 'deadlineMs',
  streamDeadlineMs: 'streamDeadlineMs',
  retryBackoffMs: 'retryBackoffMs',
  retryBackoffMaxMs: 'retryBackoffMaxMs',
  retryGracePeriod: 'retryGracePeriod',
  keepAliveTime: 'keepAliveTime',
  cache: 'cache',
  maxCacheSize: 'maxCacheSize',
  selector: 'selector',
  providerId: 'providerId',
  offlineFlagSourcePath: 'offlineFlagSourcePath',
  offlinePollIntervalMs: 'offlinePollIntervalMs',
  fatalStatusCodes: 'fatalStatusCodes',
};

function optionKey(name: string): (typeof OPTION_KEYS)[string] {
  if (!Object.hasOwn(OPTION_KEYS, name)) throw new Error(`unknown option "${name}" (known: ${Object.keys(OPTION_KEYS).join(', ')})`);
  return OPTION_KEYS[name];
}

const CONFIG_TYPES = ['String', 'Integer', 'Long', 'Boolean', 'ResolverType', 'CacheType', 'StringList'] as const;
type ConfigType = (typeof CONFIG_TYPES)[number];

function asConfigType(name: string): ConfigType {
  if ((CONFIG_TYPES as readonly string[]).includes(name)) return name as ConfigType;
  throw new Error(`unknown option type "${name}" (expected one of ${CONFIG_TYPES.join(', ')})`);
}

/** Testbed text as the option value a user would pass. */
function parseOption(type: ConfigType, text: string): unknown {
  switch (type) {
    case 'Integer':
    case 'Long':
      return parseTyped('Integer', text);
    case 'Boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === 'false') return lower === 'true';
      throw new Error(`not a Boolean: "${text}"`);
    }
    case 'StringList':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    // Passed as written: normalising "IN-PROCESS" is resolveConfig's job, not the harness's.
    case 'ResolverType':
    case 'CacheType':
    case 'String':
      return text;
  }
}

function resolved(world: ConfigWorld): ResolvedConfig {
  if (world.error !== undefined) {
    const reason = world.error instanceof Error ? world.error.message : show(world.error);
    throw new Error(`the config was not initialized: ${reason}`, { cause: world.error });
  }
  if (!world.config) throw new Error('no config: missing "When a config was initialized"');
  return world.config;
}

export const configSteps = new StepRegistry<ConfigWorld>()
  // Given
  .define('an option {string} of type {string} with value {string}', (world, name: string, type: string, value: string) => {
    world.options[optionKey(name)] = parseOption(asConfigType(type), value);
  })
  .define('an environment variable {string} with value {string}', (world, name: string, value: string) => {
    world.env[name] = value;
  })
  // When
  .define('a config was initialized', (world) => {
    try {
      world.config = resolveConfig(world.options as VexilProviderOptions, world.env);
    } catch (error) {
      world.error = error;
    }
  })
  // Then
  .define(
    'the option {string} of type {string} should have the value {string}',
    (world, name: string, typeName: string, text: string) => {
      const key = optionKey(name);
      const type = asConfigType(typeName);
      const actual: unknown = resolved(world)[key];
      const what = `option "${name}" (${type})`;
      if (type === 'String' && text === 'null') {
        check(actual === undefined || actual === null, what, null, actual);
      } else if (type === 'ResolverType' || type === 'CacheType') {
        check(actual === text.toLowerCase(), what, text.toLowerCase(), actual);
      } else {
        const expected = parseOption(type, text);
        check(jsonEqual(expected, actual), what, expected, actual);
      }
    },
  )
  .define('we should have an error', (world) => {
    if (world.error === undefined) throw new Error(`expected an error, got a config: ${show(world.config)}`);
    // Any error will not do: it has to be the provider's own, with its stable code.
    const code = (world.error as { code?: unknown }).code;
    check(code === 'INVALID_OPTION', 'error code', 'INVALID_OPTION', code);
  });
