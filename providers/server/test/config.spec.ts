import type { FlagdProvider } from '@openfeature/flagd-provider';
import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  ENV_VARS,
  GRPC_STATUS_CODES,
  ProviderConfigError,
  grpcStatusCode,
  isProviderConfigError,
  resolveConfig,
  type ResolvedConfig,
  type VexilProviderOptions,
} from '../src/config/index.js';

/** Resolves with an explicit (possibly empty) environment, never the test process's own. */
function resolve(options: VexilProviderOptions = {}, env: Record<string, string> = {}): ResolvedConfig {
  return resolveConfig(options, env);
}

/** The ProviderConfigError thrown by resolving, or a failed expectation if none is thrown. */
function refused(options: unknown, env: Record<string, string> = {}): ProviderConfigError {
  try {
    resolveConfig(options as VexilProviderOptions, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderConfigError);
    return error as ProviderConfigError;
  }
  throw new Error(`expected ${JSON.stringify(options)} with ${JSON.stringify(env)} to be refused`);
}

describe('drop-in types', () => {
  it('accepts every option object of the official provider', () => {
    // Compile-time: swapping the official provider for ours must not need a code change.
    type OfficialOptions = NonNullable<ConstructorParameters<typeof FlagdProvider>[0]>;
    const official: OfficialOptions = { resolverType: 'in-process', cache: 'disabled', fatalStatusCodes: ['UNAUTHENTICATED'] };
    const ours: VexilProviderOptions = official;
    expect(resolve(ours).resolverType).toBe('in-process');
  });
});

describe('defaults', () => {
  it('resolves the option table of config.feature with nothing set', () => {
    const config = resolve();
    expect(config).toMatchObject({
      resolverType: 'rpc',
      host: 'localhost',
      port: 8013,
      targetUri: undefined,
      grpcTarget: 'localhost:8013',
      tls: false,
      socketPath: undefined,
      certPath: undefined,
      deadlineMs: 500,
      streamDeadlineMs: 600_000,
      retryBackoffMs: 1000,
      retryBackoffMaxMs: 12_000,
      retryGracePeriod: 5,
      keepAliveTime: 0,
      cache: 'lru',
      maxCacheSize: 1000,
      selector: undefined,
      providerId: undefined,
      offlineFlagSourcePath: undefined,
      offlinePollIntervalMs: 5000,
      defaultAuthority: undefined,
      fatalStatusCodes: [],
      fatalStatusCodeNumbers: [],
      unknownFatalStatusCodes: [],
    });
  });

  it('defaults the port to 8015 in-process and in file mode', () => {
    expect(resolve({ resolverType: 'in-process' }).port).toBe(8015);
    expect(resolve({ resolverType: 'file', offlineFlagSourcePath: 'flags.json' }).port).toBe(8015);
  });

  it('picks the default port from the resolver that wins, not from either source', () => {
    // 0.16.1 would use 8015 here, because FLAGD_RESOLVER says in-process.
    expect(resolve({ resolverType: 'rpc' }, { FLAGD_RESOLVER: 'in-process' }).port).toBe(8013);
    expect(resolve({}, { FLAGD_RESOLVER: 'in-process' }).port).toBe(8015);
  });

  it('defaults the context enricher to the sync context, or an empty context without one', () => {
    const { contextEnricher } = resolve();
    expect(contextEnricher(null)).toEqual({});
    expect(contextEnricher({ flagdScope: 'x' })).toEqual({ flagdScope: 'x' });
  });

  it('returns a frozen config with frozen lists', () => {
    const config = resolve({ fatalStatusCodes: ['UNAVAILABLE'] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.fatalStatusCodes)).toBe(true);
    expect(Object.isFrozen(config.fatalStatusCodeNumbers)).toBe(true);
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });

  it('treats undefined and null options as not set', () => {
    expect(resolveConfig(undefined, {}).port).toBe(8013);
    expect(resolveConfig(null as unknown as VexilProviderOptions, {}).port).toBe(8013);
    expect(resolve({ host: undefined, port: null as unknown as number }, { FLAGD_HOST: 'envhost' })).toMatchObject({
      host: 'envhost',
      port: 8013,
    });
  });
});

describe('environment variables', () => {
  const cases: [keyof ResolvedConfig, string, string, unknown][] = [
    ['host', 'FLAGD_HOST', 'flagd.internal', 'flagd.internal'],
    ['port', 'FLAGD_PORT', '1234', 1234],
    ['targetUri', 'FLAGD_TARGET_URI', 'dns:///flagd:8013', 'dns:///flagd:8013'],
    ['tls', 'FLAGD_TLS', 'True', true],
    ['tls', 'FLAGD_TLS', 'false', false],
    ['socketPath', 'FLAGD_SOCKET_PATH', '/tmp/flagd.sock', '/tmp/flagd.sock'],
    ['certPath', 'FLAGD_SERVER_CERT_PATH', '/etc/ca.pem', '/etc/ca.pem'],
    ['deadlineMs', 'FLAGD_DEADLINE_MS', '123', 123],
    ['streamDeadlineMs', 'FLAGD_STREAM_DEADLINE_MS', '500000', 500_000],
    ['retryBackoffMs', 'FLAGD_RETRY_BACKOFF_MS', '5000', 5000],
    ['retryBackoffMaxMs', 'FLAGD_RETRY_BACKOFF_MAX_MS', '20000', 20_000],
    ['retryGracePeriod', 'FLAGD_RETRY_GRACE_PERIOD', '10', 10],
    ['retryGracePeriod', 'FLAGD_RETRY_GRACE_PERIOD', '0', 0],
    ['keepAliveTime', 'FLAGD_KEEP_ALIVE_TIME_MS', '5', 5],
    ['cache', 'FLAGD_CACHE', 'disabled', 'disabled'],
    ['cache', 'FLAGD_CACHE', 'LRU', 'lru'],
    ['maxCacheSize', 'FLAGD_MAX_CACHE_SIZE', '1236', 1236],
    ['selector', 'FLAGD_SOURCE_SELECTOR', 'flags/a.json', 'flags/a.json'],
    ['providerId', 'FLAGD_PROVIDER_ID', 'checkout', 'checkout'],
    ['offlineFlagSourcePath', 'FLAGD_OFFLINE_FLAG_SOURCE_PATH', 'flags.json', 'flags.json'],
    ['offlinePollIntervalMs', 'FLAGD_OFFLINE_POLL_MS', '1000', 1000],
    ['defaultAuthority', 'FLAGD_DEFAULT_AUTHORITY', 'flagd.svc', 'flagd.svc'],
    ['resolverType', 'FLAGD_RESOLVER', 'IN-PROCESS', 'in-process'],
    ['resolverType', 'FLAGD_RESOLVER', 'RPC', 'rpc'],
    ['resolverType', 'FLAGD_RESOLVER', 'grpc', 'rpc'],
  ];
  it.each(cases)('reads %s from %s=%s', (key, name, text, expected) => {
    expect(resolve({}, { [name]: text })[key]).toEqual(expected);
  });

  it('names every option but contextEnricher, plus FLAGD_SYNC_PORT', () => {
    const named = Object.keys(ENV_VARS).filter((key) => key !== 'syncPort');
    const configKeys = Object.keys(resolve()).filter(
      (key) => !['contextEnricher', 'grpcTarget', 'fatalStatusCodeNumbers', 'unknownFatalStatusCodes'].includes(key),
    );
    expect(named.sort()).toEqual(configKeys.sort());
    expect(ENV_VARS.syncPort).toBe('FLAGD_SYNC_PORT');
  });

  it('splits FLAGD_FATAL_STATUS_CODES on commas, trims, and resolves the numeric codes', () => {
    const config = resolve({}, { FLAGD_FATAL_STATUS_CODES: ' PERMISSION_DENIED, unauthenticated ,,7' });
    expect(config.fatalStatusCodes).toEqual(['PERMISSION_DENIED', 'unauthenticated', '7']);
    expect(config.fatalStatusCodeNumbers).toEqual([7, 16]);
    expect(config.unknownFatalStatusCodes).toEqual([]);
  });

  it('treats an empty variable as not set', () => {
    expect(resolve({}, { FLAGD_HOST: '', FLAGD_PORT: '', FLAGD_RESOLVER: '', FLAGD_TLS: '' })).toMatchObject({
      host: 'localhost',
      port: 8013,
      resolverType: 'rpc',
      tls: false,
    });
  });

  it('treats 0 as not set where the official provider does (Number(value) && ...)', () => {
    expect(
      resolve(
        {},
        {
          FLAGD_PORT: '0',
          FLAGD_DEADLINE_MS: '0',
          FLAGD_STREAM_DEADLINE_MS: '0',
          FLAGD_RETRY_BACKOFF_MS: '0',
          FLAGD_RETRY_BACKOFF_MAX_MS: '0',
          FLAGD_MAX_CACHE_SIZE: '0',
        },
      ),
    ).toMatchObject({ port: 8013, deadlineMs: 500, streamDeadlineMs: 600_000, retryBackoffMs: 1000, retryBackoffMaxMs: 12_000, maxCacheSize: 1000 });
    // ...but an explicit option 0 means 0 where 0 is meaningful.
    expect(resolve({ streamDeadlineMs: 0, keepAliveTime: 0, retryBackoffMs: 0 })).toMatchObject({
      streamDeadlineMs: 0,
      keepAliveTime: 0,
      retryBackoffMs: 0,
    });
  });

  it('reads numbers as Number() does, so 1e3 and padded values work as with the official provider', () => {
    expect(resolve({}, { FLAGD_DEADLINE_MS: '1e3', FLAGD_PORT: ' 9000 ' })).toMatchObject({ deadlineMs: 1000, port: 9000 });
  });
});

describe('ports and targets', () => {
  it('lets FLAGD_SYNC_PORT win over FLAGD_PORT in-process', () => {
    expect(resolve({ resolverType: 'in-process' }, { FLAGD_SYNC_PORT: '9999', FLAGD_PORT: '8888' }).port).toBe(9999);
    expect(resolve({}, { FLAGD_RESOLVER: 'in-process', FLAGD_SYNC_PORT: '9999' }).port).toBe(9999);
  });

  it('falls back to FLAGD_PORT in-process when FLAGD_SYNC_PORT is unset or 0', () => {
    expect(resolve({ resolverType: 'in-process' }, { FLAGD_PORT: '8888' }).port).toBe(8888);
    expect(resolve({ resolverType: 'in-process' }, { FLAGD_SYNC_PORT: '0', FLAGD_PORT: '8888' }).port).toBe(8888);
  });

  it('ignores FLAGD_SYNC_PORT in rpc mode, which does not sync', () => {
    expect(resolve({}, { FLAGD_SYNC_PORT: '9999', FLAGD_PORT: '8888' }).port).toBe(8888);
    expect(resolve({}, { FLAGD_SYNC_PORT: 'not-read' }).port).toBe(8013);
  });

  it('lets the port option win over both variables', () => {
    expect(resolve({ resolverType: 'in-process', port: 1234 }, { FLAGD_SYNC_PORT: '9999', FLAGD_PORT: '8888' }).port).toBe(1234);
  });

  it('builds the gRPC target from socketPath, then targetUri, then host and port', () => {
    expect(resolve({ host: 'flagd', port: 9 }).grpcTarget).toBe('flagd:9');
    expect(resolve({ host: '::1' }).grpcTarget).toBe('[::1]:8013');
    expect(resolve({ host: '[::1]' }).grpcTarget).toBe('[::1]:8013');
    expect(resolve({ targetUri: 'dns:///flagd:8013' }).grpcTarget).toBe('dns:///flagd:8013');
    expect(resolve({ targetUri: 'dns:///flagd:8013', socketPath: '/run/flagd.sock' }).grpcTarget).toBe('unix:/run/flagd.sock');
    expect(resolve({ socketPath: 'flagd.sock' }).grpcTarget).toBe('unix:flagd.sock');
  });
});

describe('precedence', () => {
  it('lets an explicit option win over its environment variable, for every option', () => {
    const env = {
      FLAGD_RESOLVER: 'rpc',
      FLAGD_HOST: 'env-host',
      FLAGD_PORT: '3456',
      FLAGD_TARGET_URI: 'env-target',
      FLAGD_TLS: 'false',
      FLAGD_SOCKET_PATH: 'env.sock',
      FLAGD_SERVER_CERT_PATH: 'env.pem',
      FLAGD_DEADLINE_MS: '345',
      FLAGD_STREAM_DEADLINE_MS: '400',
      FLAGD_RETRY_BACKOFF_MS: '4',
      FLAGD_RETRY_BACKOFF_MAX_MS: '4',
      FLAGD_RETRY_GRACE_PERIOD: '4',
      FLAGD_KEEP_ALIVE_TIME_MS: '4',
      FLAGD_CACHE: 'lru',
      FLAGD_MAX_CACHE_SIZE: '2345',
      FLAGD_SOURCE_SELECTOR: 'env-selector',
      FLAGD_PROVIDER_ID: 'env-id',
      FLAGD_OFFLINE_FLAG_SOURCE_PATH: 'env.json',
      FLAGD_OFFLINE_POLL_MS: '4',
      FLAGD_DEFAULT_AUTHORITY: 'env-authority',
      FLAGD_FATAL_STATUS_CODES: 'UNAVAILABLE',
    };
    const options = {
      resolverType: 'in-process',
      host: 'local',
      port: 1234,
      targetUri: 'option-target',
      tls: true,
      socketPath: 'option.sock',
      certPath: 'option.pem',
      deadlineMs: 123,
      streamDeadlineMs: 500_000,
      retryBackoffMs: 5000,
      retryBackoffMaxMs: 12_000,
      retryGracePeriod: 10,
      keepAliveTime: 5,
      cache: 'disabled',
      maxCacheSize: 1236,
      selector: 'option-selector',
      providerId: 'option-id',
      offlineFlagSourcePath: 'option.json',
      offlinePollIntervalMs: 1000,
      defaultAuthority: 'option-authority',
      fatalStatusCodes: ['PERMISSION_DENIED'],
    } as const satisfies VexilProviderOptions;
    const config = resolve(options, env);
    const { resolverType, ...rest } = options;
    expect(config).toMatchObject(rest);
    // in-process plus a flag file is file mode.
    expect(resolverType).toBe('in-process');
    expect(config.resolverType).toBe('file');
    expect(config.fatalStatusCodeNumbers).toEqual([GRPC_STATUS_CODES.PERMISSION_DENIED]);
  });

  it('lets an explicit empty string option hide the variable, as spreading options over it does upstream', () => {
    expect(resolve({ selector: '' }, { FLAGD_SOURCE_SELECTOR: 'env' }).selector).toBeUndefined();
  });

  it('uses a custom context enricher', () => {
    const { contextEnricher } = resolve({ contextEnricher: (sync) => ({ ...sync, extra: 1 }) });
    expect(contextEnricher({ a: 'b' })).toEqual({ a: 'b', extra: 1 });
  });
});

describe('file mode', () => {
  it('turns in-process with a flag file into file mode, from options or variables', () => {
    expect(resolve({ resolverType: 'in-process', offlineFlagSourcePath: 'f.json' }).resolverType).toBe('file');
    expect(resolve({}, { FLAGD_RESOLVER: 'in-process', FLAGD_OFFLINE_FLAG_SOURCE_PATH: 'f.json' }).resolverType).toBe('file');
    expect(resolve({ resolverType: 'in-process' }, { FLAGD_OFFLINE_FLAG_SOURCE_PATH: 'f.json' }).resolverType).toBe('file');
  });

  it('keeps rpc with a flag file set (the path is kept, unused)', () => {
    const config = resolve({ resolverType: 'rpc', offlineFlagSourcePath: 'f.json' });
    expect(config).toMatchObject({ resolverType: 'rpc', offlineFlagSourcePath: 'f.json' });
  });

  it('accepts file explicitly, in any case', () => {
    expect(resolve({}, { FLAGD_RESOLVER: 'FILE', FLAGD_OFFLINE_FLAG_SOURCE_PATH: 'f.json' }).resolverType).toBe('file');
  });

  it('refuses file mode without a flag file, naming where "file" came from', () => {
    const fromOption = refused({ resolverType: 'file' });
    expect(fromOption.option).toBe('resolverType');
    expect(fromOption.message).toMatch(/^resolverType: resolver "file" needs offlineFlagSourcePath/);
    expect(refused({}, { FLAGD_RESOLVER: 'file' }).message).toMatch(/^FLAGD_RESOLVER: .*FLAGD_OFFLINE_FLAG_SOURCE_PATH/);
  });
});

describe('fatal status codes', () => {
  it('keeps unknown names, listing them apart for a warning, as the official provider warns and carries on', () => {
    const config = resolve({ fatalStatusCodes: ['A', 'PERMISSION_DENIED', 'B'] });
    expect(config.fatalStatusCodes).toEqual(['A', 'PERMISSION_DENIED', 'B']);
    expect(config.fatalStatusCodeNumbers).toEqual([7]);
    expect(config.unknownFatalStatusCodes).toEqual(['A', 'B']);
  });

  it('accepts a comma-separated string and numeric codes as the option', () => {
    expect(resolve({ fatalStatusCodes: 'UNAVAILABLE, 16' as unknown as string[] }).fatalStatusCodeNumbers).toEqual([14, 16]);
    expect(resolve({ fatalStatusCodes: [7, 7] as unknown as string[] }).fatalStatusCodeNumbers).toEqual([7]);
  });

  it('knows all seventeen gRPC codes by name and number', () => {
    for (const [name, code] of Object.entries(GRPC_STATUS_CODES)) {
      expect(grpcStatusCode(name)).toBe(code);
      expect(grpcStatusCode(String(code))).toBe(code);
    }
    expect(grpcStatusCode('17')).toBeUndefined();
    expect(grpcStatusCode('toString')).toBeUndefined();
  });
});

describe('bad input', () => {
  const cases: [string, unknown, Record<string, string>, string][] = [
    ['a non-numeric FLAGD_PORT', {}, { FLAGD_PORT: 'abc' }, 'FLAGD_PORT: "abc" is not a port number (1-65535)'],
    ['FLAGD_PORT out of range', {}, { FLAGD_PORT: '70000' }, 'FLAGD_PORT: "70000" is not a port number (1-65535)'],
    ['a fractional FLAGD_PORT', {}, { FLAGD_PORT: '80.5' }, 'FLAGD_PORT: "80.5" is not a port number'],
    ['a bad FLAGD_SYNC_PORT in-process', { resolverType: 'in-process' }, { FLAGD_SYNC_PORT: 'x' }, 'FLAGD_SYNC_PORT: "x" is not a port'],
    ['port 0', { port: 0 }, {}, 'port: 0 is not a port number (1-65535)'],
    ['a negative port', { port: -1 }, {}, 'port: -1 is not a port number'],
    ['a port of the wrong type', { port: true }, {}, 'port: true is not a port number'],
    ['NaN as a port', { port: Number.NaN }, {}, 'port: NaN is not a port number'],
    ['a negative deadline', { deadlineMs: -5 }, {}, 'deadlineMs: -5 is not a number of milliseconds from 1'],
    ['a zero deadline option', { deadlineMs: 0 }, {}, 'deadlineMs: 0 is not a number of milliseconds from 1'],
    ['a negative FLAGD_DEADLINE_MS', {}, { FLAGD_DEADLINE_MS: '-5' }, 'FLAGD_DEADLINE_MS: "-5" is not a number of milliseconds'],
    ['a non-numeric FLAGD_DEADLINE_MS', {}, { FLAGD_DEADLINE_MS: '5s' }, 'FLAGD_DEADLINE_MS: "5s" is not'],
    ['a deadline beyond a timer', { deadlineMs: 2 ** 31 }, {}, 'deadlineMs: 2147483648 is not a number of milliseconds from 1 to 2147483647'],
    ['a negative stream deadline', {}, { FLAGD_STREAM_DEADLINE_MS: '-1' }, 'FLAGD_STREAM_DEADLINE_MS: "-1" is not a number of milliseconds from 0 (no deadline)'],
    ['a negative backoff', { retryBackoffMs: -1 }, {}, 'retryBackoffMs: -1 is not'],
    ['a non-numeric max backoff', {}, { FLAGD_RETRY_BACKOFF_MAX_MS: 'lots' }, 'FLAGD_RETRY_BACKOFF_MAX_MS: "lots" is not'],
    ['a negative grace period', {}, { FLAGD_RETRY_GRACE_PERIOD: '-2' }, 'FLAGD_RETRY_GRACE_PERIOD: "-2" is not a number of seconds'],
    ['a grace period beyond a timer', { retryGracePeriod: 3_000_000 }, {}, 'retryGracePeriod: 3000000 is not a number of seconds from 0 to 2147483'],
    ['a negative keepalive', {}, { FLAGD_KEEP_ALIVE_TIME_MS: '-1' }, 'FLAGD_KEEP_ALIVE_TIME_MS: "-1" is not'],
    ['maxCacheSize 0', { maxCacheSize: 0 }, {}, 'maxCacheSize: 0 is not a whole number of entries, at least 1 (cache "disabled" turns the cache off)'],
    ['a non-numeric FLAGD_MAX_CACHE_SIZE', {}, { FLAGD_MAX_CACHE_SIZE: 'big' }, 'FLAGD_MAX_CACHE_SIZE: "big" is not a whole number'],
    ['a poll interval of 0', { offlinePollIntervalMs: 0 }, {}, 'offlinePollIntervalMs: 0 is not a number of milliseconds from 1'],
    ['an unknown resolver option', { resolverType: 'remote' }, {}, 'resolverType: "remote" is not a resolver type (rpc, in-process or file)'],
    ['an unknown FLAGD_RESOLVER', {}, { FLAGD_RESOLVER: 'inprocess' }, 'FLAGD_RESOLVER: "inprocess" is not a resolver type'],
    ['an unknown cache option', { cache: 'mem' }, {}, 'cache: "mem" is not a cache type (lru or disabled)'],
    ['an unknown FLAGD_CACHE', {}, { FLAGD_CACHE: 'none' }, 'FLAGD_CACHE: "none" is not a cache type (lru or disabled)'],
    ['a FLAGD_TLS that is no boolean', {}, { FLAGD_TLS: 'yes' }, 'FLAGD_TLS: "yes" is not a boolean (true or false)'],
    ['a tls option that is no boolean', { tls: 1 }, {}, 'tls: 1 is not a boolean'],
    ['an empty host', { host: '' }, {}, 'host: "" is not a host name or address'],
    ['a host that is no string', { host: 8013 }, {}, 'host: 8013 is not a host name'],
    ['a selector that is no string', { selector: ['a'] }, {}, 'selector: ["a"] is not a string'],
    ['a certPath that is no string', { certPath: {} }, {}, 'certPath: {} is not a string'],
    ['fatal codes that are no list', { fatalStatusCodes: { code: 7 } }, {}, 'fatalStatusCodes: {"code":7} is not a list of gRPC status names'],
    ['fatal codes holding objects', { fatalStatusCodes: [{}] }, {}, 'fatalStatusCodes: [{}] is not a list'],
    ['a context enricher that is no function', { contextEnricher: {} }, {}, 'contextEnricher: {} is not a function'],
    ['options that are no object', 'rpc', {}, 'options: "rpc" is not an object of provider options'],
  ];
  it.each(cases)('refuses %s, naming it', (_what, options, env, message) => {
    const error = refused(options, env);
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.name).toBe('ProviderConfigError');
    expect(message.startsWith(`${error.option}: `)).toBe(true);
    expect(isProviderConfigError(error)).toBe(true);
    expect(error.message).not.toContain('\n');
  });

  it('checks an option before its variable, so a bad variable under a good option does no harm', () => {
    expect(resolve({ port: 1234 }, { FLAGD_PORT: 'abc' }).port).toBe(1234);
    expect(resolve({ cache: 'lru' }, { FLAGD_CACHE: 'none' }).cache).toBe('lru');
  });

  it('recognises a ProviderConfigError from another copy of the package by name, code and option', () => {
    const foreign = Object.assign(new Error('x'), { name: 'ProviderConfigError', code: 'INVALID_OPTION', option: 'port' });
    expect(isProviderConfigError(foreign)).toBe(true);
    expect(isProviderConfigError(new Error('x'))).toBe(false);
  });
});

describe('lenient input the official provider also takes', () => {
  it('accepts numeric and boolean strings as options', () => {
    const options = { port: '9000', deadlineMs: '250', tls: 'TRUE' } as unknown as VexilProviderOptions;
    expect(resolve(options)).toMatchObject({ port: 9000, deadlineMs: 250, tls: true });
  });

  it('accepts resolver and cache names in any case', () => {
    expect(resolve({ resolverType: 'In-Process' as 'in-process', cache: 'Disabled' as 'disabled' })).toMatchObject({
      resolverType: 'in-process',
      cache: 'disabled',
    });
  });

  it('accepts a fractional grace period in seconds', () => {
    expect(resolve({ retryGracePeriod: 0.5 }).retryGracePeriod).toBe(0.5);
  });

  it('ignores option keys it does not know, as the official provider does', () => {
    expect(resolve({ somethingNew: 1 } as VexilProviderOptions).port).toBe(8013);
  });
});
