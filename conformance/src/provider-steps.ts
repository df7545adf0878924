/**
 * Step definitions for the flagd testbed's provider suites (`flagd-testbed/gherkin/*.feature`), run
 * through a provider under test (a ProviderFactory, ./provider-factory.ts, with
 * `@openfeature/server-sdk`) against the Vexil daemon process (./daemon-harness.ts). `rpc` connects
 * to the evaluation port, `in-process` to the sync port, `file` reads the harness's flag file.
 *
 * Like the evaluator steps, these only translate testbed text into SDK calls and compare what comes
 * back. Provider settings follow upstream's reference harness (java-sdk-contrib's e2e steps):
 * deadline 1 s, keep-alive off, retry grace period 2 s, then the scenario's own options on top, then
 * where to connect. The provider types of "a <type> flagd provider" are upstream's: `stable`,
 * `metadata`, `syncpayload`, `ssl` and `socket` are daemon configurations; `unavailable` points at a
 * port where nothing listens (file mode: a missing file) and `forbidden` at a server that denies
 * every call. Like upstream, the provider is awaited except for those two, whose initialisation is
 * meant to fail.
 *
 * Events: every handler a scenario registers appends to one ordered log. "the X event handler
 * should have been executed" and "a X event was fired" wait for the first X event after the last one
 * a step consumed and consume it, so a chain ready -> stale -> error -> ready must happen in that
 * order.
 */
import {
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
  type Client,
  type EvaluationContext,
  type EvaluationDetails,
  type EventDetails,
  type FlagValue,
  type JsonValue,
  type Logger,
  type Provider,
} from '@openfeature/server-sdk';
import { DataTable, MISSING_FLAG, NOT_EVALUATED, StepRegistry, required } from './steps.js';
import { withTimeout, type DaemonConfigName, type DaemonHarness, type DaemonPool } from './daemon-harness.js';
import type { ProviderFactory, ProviderMode, ProviderOptions } from './provider-factory.js';
import { asValueType, check, parseTyped, show, typedEqual, type ValueType } from './values.js';

/** How long "should have been executed" (without "within") and "was fired" wait. */
const EVENT_WAIT_MS = 20_000;
/** How long closing a provider may take before it is abandoned (the official provider can hang). */
const CLOSE_TIMEOUT_MS = 3_000;

/** How long an awaited provider may take to become ready. */
const READY_TIMEOUT_MS = 15_000;

/** Provider settings before the scenario's options (upstream's reference harness). */
const BASE_OPTIONS: ProviderOptions = { deadlineMs: 1_000, keepAliveTime: 0, retryGracePeriod: 2 };

type EventType = 'ready' | 'error' | 'stale' | 'change';
const EVENT_TYPES: Record<EventType, ProviderEvents> = {
  ready: ProviderEvents.Ready,
  error: ProviderEvents.Error,
  stale: ProviderEvents.Stale,
  change: ProviderEvents.ConfigurationChanged,
};

interface RecordedEvent {
  type: EventType;
  details: EventDetails | undefined;
  /** ms since the scenario started. */
  at: number;
}

export interface ProviderWorld {
  factory: ProviderFactory;
  mode: ProviderMode;
  pool: DaemonPool;
  started: number;
  domain: string;
  /** The scenario's options, then (once the provider exists) everything the factory was given. */
  options: ProviderOptions;
  /** The daemon configuration's harness; in file mode its process is never started. */
  daemon?: DaemonHarness;
  /** What the provider points at, for failure messages. */
  target?: string;
  provider?: Provider;
  client?: Client;
  flag?: { type: ValueType; key: string; defaultValue: unknown };
  context: EvaluationContext;
  details?: EvaluationDetails<FlagValue>;
  events: RecordedEvent[];
  /** Index of the first event not yet consumed by an event step. */
  eventCursor: number;
  /** What the provider logged (warn and error), instead of the console. */
  providerLog: string[];
  /** The change event the last event step consumed (for "the flag should be part of the event payload"). */
  lastChange?: RecordedEvent;
}

let worldCounter = 0;

export function createProviderWorld(factory: ProviderFactory, mode: ProviderMode, pool: DaemonPool): ProviderWorld {
  worldCounter++;
  return {
    factory,
    mode,
    pool,
    started: Date.now(),
    domain: `vexil-${factory.name}-${mode}-${worldCounter}`,
    options: {},
    context: {},
    events: [],
    eventCursor: 0,
    providerLog: [],
  };
}

/** A provider logger that keeps warnings and errors for failure messages instead of printing them. */
function recordingLogger(world: ProviderWorld): Logger {
  const record = (level: string) => (...args: unknown[]) => {
    world.providerLog.push(`${Date.now() - world.started}ms ${level}: ${args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : show(a))).join(' ')}`);
    if (world.providerLog.length > 50) world.providerLog.shift();
  };
  return { error: record('error'), warn: record('warn'), info: () => {}, debug: () => {} };
}

/**
 * Closes the scenario's provider, after the factory's `beforeClose` (the official provider's
 * reconnect loop is cut off there); the close itself is bounded by a timeout.
 */
export async function disposeProviderWorld(world: ProviderWorld): Promise<void> {
  const provider = world.provider;
  world.provider = undefined;
  world.client = undefined;
  if (!provider) return;
  world.factory.beforeClose?.(provider);
  try {
    await withTimeout(OpenFeature.clearProviders(), CLOSE_TIMEOUT_MS, 'provider close timed out');
  } catch {
    // abandoned: whatever the factory's beforeClose did must keep it from working on
  }
}

/** What the world holds, appended to failure messages. */
export function describeProviderWorld(world: ProviderWorld): string {
  const lines = [
    `  ${world.factory.name} ${world.mode}${world.target ? ` -> ${world.target}` : ''}, options: ${show(world.options)}`,
    `  flag: ${show(world.flag)}`,
    `  context: ${show(world.context)}`,
  ];
  if (world.details) lines.push(`  details: ${show(world.details)}`);
  if (world.client) lines.push(`  provider status: ${world.client.providerStatus}`);
  if (world.events.length > 0) {
    const events = world.events.map((e, i) => `${i < world.eventCursor ? '' : '*'}${e.type}@${e.at}ms${describeEvent(e)}`);
    lines.push(`  events (* = not consumed): ${events.join(', ')}`);
  }
  if (world.providerLog.length > 0) {
    lines.push('  provider log (last 8):');
    for (const line of world.providerLog.slice(-8)) lines.push(`    ${line}`);
  }
  if (world.daemon && world.mode !== 'file') {
    const d = world.daemon;
    lines.push(`  daemon ${d.name} (${d.running ? 'running' : 'stopped'}) ports ${show(d.ports)}; last log lines:`);
    for (const line of d.recentLogs(8)) lines.push(`    ${line.length > 400 ? `${line.slice(0, 400)}...` : line}`);
  }
  return lines.join('\n');
}

function describeEvent(event: RecordedEvent): string {
  const d = event.details;
  if (!d) return '';
  const parts: string[] = [];
  if (d.flagsChanged) parts.push(`flagsChanged=${show(d.flagsChanged)}`);
  if (d.message) parts.push(`message=${show(d.message)}`);
  return parts.length ? `(${parts.join(' ')})` : '';
}

/** Maps a testbed option onto the provider's option name and type. */
function providerOption(name: string, type: string, text: string): [string, unknown] {
  const key = name === 'resolver' ? 'resolverType' : name;
  switch (type) {
    case 'String':
      return [key, text];
    case 'Integer':
    case 'Long': {
      const value = Number(text);
      if (!Number.isInteger(value)) throw new Error(`option ${name}: not an ${type}: "${text}"`);
      return [key, value];
    }
    case 'Boolean':
      return [key, parseTyped('Boolean', text)];
    case 'StringList':
      return [key, text.split(',').map((item) => item.trim()).filter(Boolean)];
    case 'CacheType': {
      const value = text.toLowerCase();
      if (value !== 'lru' && value !== 'disabled') throw new Error(`option ${name}: unsupported cache type "${text}"`);
      return [key, value];
    }
    case 'ResolverType': {
      const value = text.toLowerCase();
      if (value !== 'rpc' && value !== 'in-process') throw new Error(`option ${name}: unsupported resolver "${text}"`);
      return [key, value];
    }
    default:
      throw new Error(`option ${name}: unknown option type "${type}"`);
  }
}

/** Provider types served by a daemon configuration (or, in file mode, by its flag file). */
const PROVIDER_TYPES: Record<string, DaemonConfigName> = {
  stable: 'default',
  metadata: 'metadata',
  syncpayload: 'sync-payload',
  ssl: 'ssl',
  socket: 'socket',
};
/** Configurations that are about the connection, which file mode does not have. */
const CONNECTION_CONFIGS: readonly DaemonConfigName[] = ['ssl', 'socket'];
const LOOPBACK = '127.0.0.1';

/**
 * Where "a <type> flagd provider" points the provider: sets the connection options (or the flag
 * file) and `world.daemon`/`world.target`. Returns whether to wait for the provider to be ready.
 */
async function connectOptions(world: ProviderWorld, providerType: string, options: ProviderOptions): Promise<boolean> {
  const { mode, pool } = world;
  if (providerType === 'unavailable') {
    if (mode === 'file') {
      options.offlineFlagSourcePath = pool.harness('default').path('not-existing.json');
      world.target = 'a missing flag file';
    } else {
      Object.assign(options, { host: LOOPBACK, port: await pool.unusedPort() });
      world.target = `port ${String(options.port)} (nothing listens)`;
    }
    return false;
  }
  if (providerType === 'forbidden') {
    if (mode === 'file') throw new Error('a forbidden provider needs a connection, which file mode does not have');
    const server = await pool.forbidden();
    Object.assign(options, { host: LOOPBACK, port: server.port });
    world.target = `port ${server.port} (every call PERMISSION_DENIED)`;
    return false;
  }
  const config = PROVIDER_TYPES[providerType];
  const known = [...Object.keys(PROVIDER_TYPES), 'unavailable', 'forbidden'];
  if (!config) throw new Error(`unsupported provider type "${providerType}" (this setup runs ${known.join(', ')})`);
  if (mode === 'file') {
    if (CONNECTION_CONFIGS.includes(config)) throw new Error(`a ${providerType} provider has no meaning in file mode`);
    const harness = pool.harness(config);
    world.daemon = harness;
    options.offlineFlagSourcePath = harness.fileSource;
    world.target = harness.fileSource;
    return true;
  }
  const daemon = await pool.get(config);
  world.daemon = daemon;
  if (config === 'socket') {
    options.socketPath = mode === 'rpc' ? daemon.socketPath : daemon.syncSocketPath;
    world.target = String(options.socketPath);
  } else {
    Object.assign(options, { host: LOOPBACK, port: mode === 'rpc' ? daemon.ports.evaluation : daemon.ports.sync });
    world.target = `${daemon.name} daemon, port ${String(options.port)}`;
  }
  if (daemon.certificates) Object.assign(options, { tls: true, certPath: daemon.certificates.caCertPath });
  return true;
}

/** The testbed's state names ("fatal", "not-ready") as the SDK's ProviderStatus. */
function providerStatus(name: string): ProviderStatus {
  const wanted = name.toUpperCase().replace(/-/g, '_');
  const status = Object.values(ProviderStatus).find((s) => s === wanted);
  if (!status) throw new Error(`unknown provider state "${name}" (expected one of ${Object.values(ProviderStatus).join(', ')})`);
  return status;
}

async function evaluate(world: ProviderWorld): Promise<EvaluationDetails<FlagValue>> {
  const client = clientOf(world);
  const flag = flagOf(world);
  switch (flag.type) {
    case 'Boolean':
      return client.getBooleanDetails(flag.key, flag.defaultValue as boolean, world.context);
    case 'String':
      return client.getStringDetails(flag.key, flag.defaultValue as string, world.context);
    case 'Integer':
    case 'Float':
      return client.getNumberDetails(flag.key, flag.defaultValue as number, world.context);
    case 'Object':
      return client.getObjectDetails(flag.key, flag.defaultValue as JsonValue, world.context);
  }
}

/** `\"` inside a greedily matched value means `"` (as {string} would have unescaped it). */
function unescapeQuotes(text: string): string {
  return text.replace(/\\"/g, '"');
}

function clientOf(world: ProviderWorld): Client {
  if (!world.client) throw new Error('no provider: missing "a <type> flagd provider"');
  return world.client;
}

const flagOf = (world: ProviderWorld) => required(world.flag, MISSING_FLAG);
const resolved = (world: ProviderWorld): EvaluationDetails<FlagValue> => required(world.details, NOT_EVALUATED);

function daemonOf(world: ProviderWorld): DaemonHarness {
  if (!world.daemon) throw new Error('no daemon: missing "a <type> flagd provider"');
  return world.daemon;
}

function eventType(name: string): EventType {
  if (name in EVENT_TYPES) return name as EventType;
  throw new Error(`unknown event type "${name}" (expected ${Object.keys(EVENT_TYPES).join(', ')})`);
}

/** Waits for the first `type` event after the cursor and consumes it (and everything before it). */
async function consumeEvent(world: ProviderWorld, type: EventType, timeoutMs: number): Promise<RecordedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = world.events.findIndex((e, i) => i >= world.eventCursor && e.type === type);
    if (index >= 0) {
      world.eventCursor = index + 1;
      const event = world.events[index];
      if (type === 'change') world.lastChange = event;
      return event;
    }
    if (Date.now() >= deadline) {
      const since = world.events.slice(world.eventCursor).map((e) => e.type);
      throw new Error(`expected a ${type} event within ${timeoutMs} ms, got ${since.length ? since.join(', ') : 'no events'} since the last consumed one`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const providerSteps = new StepRegistry<ProviderWorld>()
  // Provider and its options
  .define('an option {string} of type {string} with value {string}', (world, name: string, type: string, value: string) => {
    const [key, converted] = providerOption(name, type, value);
    (world.options as Record<string, unknown>)[key] = converted;
  })
  .define('a {word} flagd provider', async (world, providerType: string) => {
    const options: ProviderOptions = { ...BASE_OPTIONS, ...world.options };
    const wait = await connectOptions(world, providerType, options);
    world.options = options;
    const logger = recordingLogger(world);
    const provider = world.factory.create(world.mode, options, logger);
    world.provider = provider;
    const ready = OpenFeature.setProviderAndWait(world.domain, provider);
    world.client = OpenFeature.getClient(world.domain);
    if (wait) {
      await withTimeout(ready, READY_TIMEOUT_MS, `${world.mode} provider not ready within ${READY_TIMEOUT_MS / 1000} s`);
    } else {
      // Meant to fail: the SDK turns the failure into an error event (and status), which the
      // scenario checks; the rejection itself only goes to the failure message.
      ready.catch((error: unknown) => logger.warn('initialisation failed (expected):', error));
    }
  })
  .define(/the connection is lost for (\d+)s/, async (world, seconds: string) => {
    if (world.mode === 'file') throw new Error('file mode has no connection to lose');
    await daemonOf(world).loseConnectionFor(Number(seconds));
  })
  .define('the client should be in {word} state', (world, name: string) => {
    const expected = providerStatus(name);
    check(clientOf(world).providerStatus === expected, 'the provider status', expected, clientOf(world).providerStatus);
  })
  .define('the flag was modified', (world) => {
    daemonOf(world).change();
  })

  // Flag and context
  // Values may hold unescaped quotes (the object value of rpc-caching.feature), so the last quoted
  // part of these steps is matched greedily up to the step's final quote.
  .define(/a (\w+)-flag with key "([^"]*)" and a default value "(.*)"/, (world, typeName: string, key: string, text: string) => {
    const type = asValueType(typeName);
    world.flag = { type, key, defaultValue: parseTyped(type, unescapeQuotes(text)) };
  })
  .define(
    /a context containing a key "([^"]*)", with type "(\w+)" and with value "(.*)"/,
    (world, key: string, typeName: string, text: string) => {
      world.context[key] = parseTyped(asValueType(typeName), unescapeQuotes(text)) as EvaluationContext[string];
    },
  )
  .define('a context containing a targeting key with value {string}', (world, value: string) => {
    world.context.targetingKey = value;
  })
  .define(
    'a context containing a nested property with outer key {string} and inner key {string}, with value {string}',
    (world, outer: string, inner: string, value: string) => {
      const existing = world.context[outer];
      const nested = typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? existing : {};
      world.context[outer] = { ...(nested as Record<string, string>), [inner]: value };
    },
  )

  // Evaluation
  .define('the flag was evaluated with details', async (world) => {
    world.details = await evaluate(world);
  })
  .define(/the resolved details value should be "(.*)"/, (world, text: string) => {
    const { type } = flagOf(world);
    const expected = parseTyped(type, unescapeQuotes(text));
    const actual = resolved(world).value;
    check(typedEqual(type, expected, actual), 'the value', expected, actual);
  })
  .define('the reason should be {string}', (world, expected: string) => {
    check(resolved(world).reason === expected, 'the reason', expected, resolved(world).reason);
  })
  .define('the error-code should be {string}', (world, expected: string) => {
    const actual = resolved(world).errorCode;
    if (expected === '') check(actual === undefined, 'the error code', undefined, actual);
    else check(actual === expected, 'the error code', expected, actual);
  })
  .define('the variant should be {string}', (world, expected: string) => {
    check(resolved(world).variant === expected, 'the variant', expected, resolved(world).variant);
  })
  .define('the resolved metadata should contain', (world, table: DataTable) => {
    const metadata = resolved(world).flagMetadata;
    for (const row of table.hashes()) {
      const type = asValueType(row.metadata_type);
      const expected = parseTyped(type, row.value);
      const actual = metadata[row.key];
      check(typedEqual(type, expected, actual), `metadata "${row.key}"`, expected, actual);
    }
  })
  .define('the resolved metadata is empty', (world) => {
    const metadata = resolved(world).flagMetadata;
    check(Object.keys(metadata).length === 0, 'the metadata', {}, metadata);
  })

  // Events
  .define('a {word} event handler', (world, name: string) => {
    const type = eventType(name);
    clientOf(world).addHandler(EVENT_TYPES[type], (details) => {
      world.events.push({ type, details, at: Date.now() - world.started });
    });
  })
  .define('the {word} event handler should have been executed', async (world, name: string) => {
    await consumeEvent(world, eventType(name), EVENT_WAIT_MS);
  })
  .define('the {word} event handler should have been executed within {int}ms', async (world, name: string, ms: number) => {
    await consumeEvent(world, eventType(name), ms);
  })
  .define('a {word} event was fired', async (world, name: string) => {
    await consumeEvent(world, eventType(name), EVENT_WAIT_MS);
  })
  .define('the flag should be part of the event payload', async (world) => {
    const event = world.lastChange ?? (await consumeEvent(world, 'change', EVENT_WAIT_MS));
    const key = flagOf(world).key;
    const changed = event.details?.flagsChanged;
    check(Array.isArray(changed) && changed.includes(key), `flagsChanged (to include "${key}")`, [key], changed);
  });
