import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonConfig } from '../src/config/daemon-config.js';
import { DEFAULT_CONFIG, OPTIONS, formatHelp, parseConfig, type ParseResult } from '../src/config/parse.js';
import { FIELD_OPTIONS, envName } from '../src/config/options.js';

/** The admin rate limits, stream caps and timeouts a command line without them gets (written out, not read from the code). */
const LIMIT_DEFAULTS = {
  adminRateLimit: 600,
  adminAuthFailureLimit: 20,
  maxStreams: 15000,
  maxStreamsPerAddress: 10000,
  headersTimeoutMs: 10000,
  requestTimeoutMs: 30000,
  idleTimeoutMs: 120000,
};

type Env = Record<string, string | undefined>;

function ok(argv: string[], env: Env = {}): { config: DaemonConfig; warnings: readonly string[] } {
  const result = parseConfig(argv, env);
  if (result.kind !== 'config') throw new Error(`expected a config, got ${JSON.stringify(result)}`);
  return result;
}

function config(argv: string[], env: Env = {}): DaemonConfig {
  return ok(argv, env).config;
}

function error(argv: string[], env: Env = {}, readFile?: (path: string) => string): string {
  const result = parseConfig(argv, env, readFile);
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result).slice(0, 300)}`);
  expect(result.message).not.toMatch(/[\r\n]/);
  expect(result.message.length).toBeGreaterThan(10);
  return result.message;
}

function help(argv: string[]): string {
  const result = parseConfig(argv, {});
  if (result.kind !== 'help') throw new Error(`expected help, got ${JSON.stringify(result).slice(0, 300)}`);
  return result.text;
}

let dir: string;
let n = 0;
/** Writes a real temporary file and returns its path. */
function tempFile(name: string, text: string): string {
  const path = join(dir, `${n++}-${name}`);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('defaults', () => {
  it('gives flagd defaults with no flags', () => {
    const { config: c, warnings } = ok(['start']);
    expect(c).toEqual({
      sources: [],
      port: 8013,
      managementPort: 8014,
      syncPort: 8015,
      ofrepPort: 8016,
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
      ...LIMIT_DEFAULTS,
    });
    expect(c.tls).toBeUndefined();
    expect(c.maxConnections).toBeUndefined();
    expect(c.socketPath).toBeUndefined();
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(warnings.some((w) => w.includes('no flag sources'))).toBe(true);
  });

  it('DEFAULT_CONFIG is frozen', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(Object.isFrozen(DEFAULT_CONFIG.sources)).toBe(true);
  });

  it('ignores unrelated environment variables, including the AWS ones', () => {
    const c = config(['start', '-f', 's3://bucket/flags.json'], {
      AWS_ENDPOINT_URL_S3: 'http://localhost:4566',
      AWS_REGION: 'eu-west-1',
      FLAGD_HOST: 'flagd.example', // the providers' variable, not the daemon's
      HOME: '/root',
    });
    expect(c.sources).toEqual([{ uri: 's3://bucket/flags.json', provider: 's3', interval: 5 }]);
    expect(c.host).toBe('0.0.0.0');
  });
});

describe('flags, long and short', () => {
  const cases: Array<[string, string, string, (c: DaemonConfig) => unknown, unknown]> = [
    ['port', '-p', '9001', (c) => c.port, 9001],
    ['management-port', '-m', '9002', (c) => c.managementPort, 9002],
    ['sync-port', '-g', '9003', (c) => c.syncPort, 9003],
    ['ofrep-port', '-r', '9004', (c) => c.ofrepPort, 9004],
    ['log-format', '-z', 'json', (c) => c.logFormat, 'json'],
    ['socket-path', '-d', '/tmp/vexil.sock', (c) => c.socketPath, '/tmp/vexil.sock'],
    ['cors-origin', '-C', 'https://a.example', (c) => c.corsOrigins, ['https://a.example']],
    ['context-value', '-X', 'env=prod', (c) => c.contextValues, { env: 'prod' }],
    ['context-from-header', '-H', 'X-User-Id=userId', (c) => c.contextFromHeaders, { 'x-user-id': 'userId' }],
    ['uri', '-f', 'file:flags.json', (c) => c.sources, [{ uri: 'file:flags.json', provider: 'file' }]],
    [
      'sources',
      '-s',
      '[{"uri":"flags.json","provider":"file"}]',
      (c) => c.sources,
      [{ uri: 'file:flags.json', provider: 'file' }],
    ],
  ];
  for (const [long, short, value, pick, expected] of cases) {
    it(`--${long} and ${short}`, () => {
      expect(pick(config(['start', `--${long}`, value]))).toEqual(expected);
      expect(pick(config(['start', `--${long}=${value}`]))).toEqual(expected);
      expect(pick(config(['start', short, value]))).toEqual(expected);
      expect(pick(config(['start', `${short}${value}`]))).toEqual(expected);
    });
  }

  it('--server-cert-path/-c and --server-key-path/-k', () => {
    expect(config(['start', '--server-cert-path', 'c.pem', '--server-key-path', 'k.pem']).tls).toEqual({
      certPath: 'c.pem',
      keyPath: 'k.pem',
    });
    expect(config(['start', '-c', 'c.pem', '-k', 'k.pem']).tls).toEqual({ certPath: 'c.pem', keyPath: 'k.pem' });
  });

  it('--debug/-x before or after start, and --debug=false', () => {
    expect(config(['start', '--debug']).debug).toBe(true);
    expect(config(['start', '-x']).debug).toBe(true);
    expect(config(['--debug', 'start']).debug).toBe(true);
    expect(config(['-x', 'start']).debug).toBe(true);
    expect(config(['start', '--debug=true']).debug).toBe(true);
    expect(config(['start', '--debug=false'], { FLAGD_DEBUG: 'true' }).debug).toBe(false);
    expect(config(['start', '-xp', '9000'])).toMatchObject({ debug: true, port: 9000 });
  });

  it('--host (vexil extension)', () => {
    expect(config(['start', '--host', '127.0.0.1']).host).toBe('127.0.0.1');
    expect(config(['start', '--host=::']).host).toBe('::');
  });

  it('accepts start flags in any order', () => {
    const a = config(['start', '-p', '1', '-f', 'file:a.json', '-z', 'json', '-m', '2', '-C', '*']);
    const b = config(['start', '-C', '*', '-m', '2', '-z', 'json', '-f', 'file:a.json', '-p', '1']);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ port: 1, managementPort: 2, logFormat: 'json', corsOrigins: ['*'] });
  });

  it('a repeated single-value flag keeps the last value, as pflag does', () => {
    expect(config(['start', '-p', '1', '-p', '2']).port).toBe(2);
  });

  it('--config before start is accepted too', () => {
    const path = tempFile('c.yaml', 'port: 7001\n');
    expect(config(['--config', path, 'start']).port).toBe(7001);
    expect(config(['start', '--config', path]).port).toBe(7001);
  });
});

describe('repeatable flags', () => {
  it('-f repeats, keeps order, and splits commas', () => {
    const c = config(['start', '-f', 'file:a.json', '--uri', 'https://x.example/flags.json,grpc://sync:8015', '-f', 'grpcs://secure:443']);
    expect(c.sources).toEqual([
      { uri: 'file:a.json', provider: 'file' },
      { uri: 'https://x.example/flags.json', provider: 'http', interval: 5 },
      { uri: 'grpc://sync:8015', provider: 'grpc', tls: false },
      { uri: 'grpcs://secure:443', provider: 'grpc', tls: true },
    ]);
  });

  it('-f sources come before --sources sources, whatever the flag order', () => {
    const c = config(['start', '-s', '[{"uri":"b.json","provider":"file"}]', '-f', 'file:a.json']);
    expect(c.sources.map((s) => s.uri)).toEqual(['file:a.json', 'file:b.json']);
  });

  it('--browser-rules repeats, splits commas and trims; all and * are kept as given', () => {
    expect(config(['start', '--browser-rules', 'flagSetId=web', '--browser-rules', ' all , *,source=flags.json']).browserRules).toEqual([
      'flagSetId=web',
      'all',
      '*',
      'source=flags.json',
    ]);
    expect(config(['start', '--browser-rules=flagSetId=web']).browserRules).toEqual(['flagSetId=web']);
    expect(config(['start'], { FLAGD_BROWSER_RULES: 'flagSetId=a,flagSetId=b' }).browserRules).toEqual(['flagSetId=a', 'flagSetId=b']);
    expect(config(['start', '--config', tempFile('browser.yaml', 'browser-rules: flagSetId=web\n')]).browserRules).toEqual(['flagSetId=web']);
    expect(config(['start', '--browser-rules', 'all'], { FLAGD_BROWSER_RULES: '*' }).browserRules).toEqual(['all']);
  });

  it('-C repeats and splits commas', () => {
    expect(config(['start', '-C', 'https://a', '--cors-origin', 'https://b,https://c', '-C', '*']).corsOrigins).toEqual([
      'https://a',
      'https://b',
      'https://c',
      '*',
    ]);
  });
});

describe('-X and -H', () => {
  it('-X: several, comma lists, a=b=c keeps the rest, later wins', () => {
    const c = config(['start', '-X', 'a=1', '-X', 'b=x=y=z', '--context-value', 'c=3,d=4', '-X', 'a=override', '-X', 'e=']);
    expect(c.contextValues).toEqual({ a: 'override', b: 'x=y=z', c: '3', d: '4', e: '' });
  });

  it('-X: a piece without = continues the previous value (pflag)', () => {
    expect(config(['start', '-X', 'list=a,b,c']).contextValues).toEqual({ list: 'a,b,c' });
  });

  it('-H: several, header names lower-cased, context key kept', () => {
    const c = config(['start', '-H', 'X-Tenant=tenantId', '--context-from-header', 'Authorization=auth,X-Env=env']);
    expect(c.contextFromHeaders).toEqual({ 'x-tenant': 'tenantId', authorization: 'auth', 'x-env': 'env' });
  });

  it('rejects a pair without =, an empty key, a bad header name', () => {
    expect(error(['start', '-X', 'novalue'])).toBe('invalid -X/--context-value "novalue": expected key=value');
    expect(error(['start', '-X', '=v'])).toContain('-X/--context-value "=v"');
    expect(error(['start', '-H', 'X-User'])).toContain('-H/--context-from-header "X-User": expected header=key');
    expect(error(['start', '-H', 'Bad Header=k'])).toContain('"Bad Header" is not a valid header name');
    expect(error(['start', '-H', 'X-User='])).toContain('non-empty context key');
  });
});

describe('management API options', () => {
  it('refuses an admin source that is not a configured file: or s3:// source, and bad tokens', () => {
    expect(parseConfig(['start', '-f', 'file:a.json', '--admin-source', 'file:b.json'], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('--admin-source') });
    expect(parseConfig(['start', '-f', 'https://h.example/f.json', '--admin-source', 'https://h.example/f.json'], {})).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('file: or s3://'),
    });
    expect(parseConfig(['start', '-f', 's3://b/f.json', '--admin-source', 's3://b/f.json'], {})).toMatchObject({ kind: 'error', message: expect.stringContaining('--audit-log') });
    const bad = parseConfig(['start', '--admin-token', 'secret-token:root'], {});
    expect(bad).toMatchObject({ kind: 'error', message: expect.stringContaining('unknown role "root"') });
    expect(JSON.stringify(bad)).not.toContain('secret-token');
    expect(parseConfig(['start', '--admin-rate-limit', '0'], {})).toMatchObject({ kind: 'error' });
    expect(parseConfig(['start', '--admin-auth-failure-limit', '0'], {})).toMatchObject({ kind: 'error' });
    expect(parseConfig(['start', '--admin-auth-failure-limit', '5'], {})).toMatchObject({ kind: 'config', config: { adminAuthFailureLimit: 5 } });
  });
});

describe('environment variables', () => {
  it('reads FLAGD_* for every implemented setting', () => {
    const c = config(['start'], {
      FLAGD_PORT: '7013',
      FLAGD_MANAGEMENT_PORT: '7014',
      FLAGD_SYNC_PORT: '7015',
      FLAGD_OFREP_PORT: '7016',
      FLAGD_URI: 'file:a.json https://h.example/f.json',
      FLAGD_SOURCES: '[{"uri":"grpc-host:8015","provider":"grpc","selector":"flagSetId=x"}]',
      FLAGD_CORS_ORIGIN: 'https://a https://b',
      FLAGD_BROWSER_RULES: 'flagSetId=web all',
      FLAGD_CONTEXT_VALUE: 'a=1,b=2',
      FLAGD_CONTEXT_FROM_HEADER: '{"X-Tenant":"tenant"}',
      FLAGD_LOG_FORMAT: 'json',
      FLAGD_SERVER_CERT_PATH: '/c.pem',
      FLAGD_SERVER_KEY_PATH: '/k.pem',
      FLAGD_SOCKET_PATH: '/run/vexil.sock',
      FLAGD_SYNC_SOCKET_PATH: '/run/vexil-sync.sock',
      FLAGD_STREAM_DEADLINE: '1m30s',
      FLAGD_DISABLE_SYNC_METADATA: 'true',
      FLAGD_DEBUG: '1',
      FLAGD_ADMIN_SOURCE: 'a.json',
      FLAGD_ADMIN_TOKEN: 'secret-token-1:editor:ann viewer-token-2:viewer',
      FLAGD_ADMIN_RATE_LIMIT: '100',
      FLAGD_AUDIT_LOG: '/var/log/vexil-audit.jsonl',
    });
    expect(c).toEqual({
      sources: [
        { uri: 'file:a.json', provider: 'file' },
        { uri: 'https://h.example/f.json', provider: 'http', interval: 5 },
        { uri: 'grpc://grpc-host:8015', provider: 'grpc', tls: false, selector: 'flagSetId=x' },
      ],
      port: 7013,
      managementPort: 7014,
      syncPort: 7015,
      ofrepPort: 7016,
      host: '0.0.0.0',
      contextValues: { a: '1', b: '2' },
      contextFromHeaders: { 'x-tenant': 'tenant' },
      corsOrigins: ['https://a', 'https://b'],
      browserRules: ['flagSetId=web', 'all'],
      logFormat: 'json',
      tls: { certPath: '/c.pem', keyPath: '/k.pem' },
      socketPath: '/run/vexil.sock',
      syncSocketPath: '/run/vexil-sync.sock',
      streamDeadlineMs: 90_000,
      disableSyncMetadata: true,
      debug: true,
      adminSource: 'file:a.json',
      adminTokens: [
        { token: 'secret-token-1', role: 'editor', name: 'ann' },
        { token: 'viewer-token-2', role: 'viewer', name: expect.stringMatching(/^viewer-[0-9a-f]{8}$/) },
      ],
      adminRateLimit: 100,
      adminAuthFailureLimit: 20,
      auditLog: '/var/log/vexil-audit.jsonl',
      maxStreams: 15000,
      maxStreamsPerAddress: 10000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      idleTimeoutMs: 120000,
    });
  });

  it('lists from the environment split on commas too; maps accept JSON', () => {
    const c = config(['start'], { FLAGD_CORS_ORIGIN: 'https://a,https://b', FLAGD_CONTEXT_VALUE: '{"n":1,"s":"x"}' });
    expect(c.corsOrigins).toEqual(['https://a', 'https://b']);
    expect(c.contextValues).toEqual({ n: '1', s: 'x' });
  });

  it('an empty variable counts as unset (viper)', () => {
    expect(config(['start'], { FLAGD_PORT: '', FLAGD_LOG_FORMAT: '' })).toMatchObject({ port: 8013, logFormat: 'console' });
  });

  it('FLAGD_DEBUG uses Go boolean syntax', () => {
    expect(config(['start'], { FLAGD_DEBUG: 'TRUE' }).debug).toBe(true);
    expect(config(['start'], { FLAGD_DEBUG: 'f' }).debug).toBe(false);
    expect(error(['start'], { FLAGD_DEBUG: 'yes' })).toBe('invalid FLAGD_DEBUG "yes": expected true or false');
  });

  it('errors name the variable', () => {
    expect(error(['start'], { FLAGD_PORT: 'abc' })).toBe('invalid FLAGD_PORT "abc": expected an integer 0-65535 (0: any free port)');
    expect(error(['start'], { FLAGD_MANAGEMENT_PORT: '70000' })).toBe('invalid FLAGD_MANAGEMENT_PORT "70000": expected an integer 0-65535 (0: any free port)');
    expect(error(['start'], { FLAGD_SOURCES: '[{' })).toBe('FLAGD_SOURCES: invalid JSON at position 2: unexpected end of input');
    expect(error(['start'], { FLAGD_URI: 'ftp://x' })).toContain('FLAGD_URI: unknown source uri "ftp://x"');
    expect(error(['start'], { FLAGD_CONTEXT_VALUE: 'oops' })).toBe('invalid FLAGD_CONTEXT_VALUE "oops": expected key=value');
    expect(error(['start'], { FLAGD_LOG_FORMAT: 'xml' })).toBe('invalid FLAGD_LOG_FORMAT "xml": expected console or json');
  });
});

describe('precedence: flag > env > config file > default', () => {
  const yaml = (): string =>
    tempFile(
      'precedence.yaml',
      [
        'port: 6013',
        'management-port: 6014',
        'sync-port: 6015',
        'log-format: json',
        'uri:',
        '  - file:from-file.json',
        'cors-origin: [https://file.example]',
        'context-value:',
        '  from: file',
        '',
      ].join('\n'),
    );

  it('flag beats env beats file beats default, per setting', () => {
    const path = yaml();
    const c = config(['start', '--config', path, '-p', '1111'], { FLAGD_PORT: '2222', FLAGD_MANAGEMENT_PORT: '3333' });
    expect(c.port).toBe(1111); // flag over env and file
    expect(c.managementPort).toBe(3333); // env over file
    expect(c.syncPort).toBe(6015); // file over default
    expect(c.ofrepPort).toBe(8016); // default
    expect(c.logFormat).toBe('json');
  });

  it('lists and maps are replaced by the higher layer, not merged', () => {
    const path = yaml();
    const c = config(['start', '--config', path, '-C', 'https://flag.example'], {
      FLAGD_URI: 'file:from-env.json',
      FLAGD_CONTEXT_VALUE: 'from=env',
    });
    expect(c.corsOrigins).toEqual(['https://flag.example']);
    expect(c.sources.map((s) => s.uri)).toEqual(['file:from-env.json']);
    expect(c.contextValues).toEqual({ from: 'env' });
    expect(config(['start', '--config', path, '-f', 'file:from-flag.json'], { FLAGD_URI: 'file:from-env.json' }).sources).toEqual([
      { uri: 'file:from-flag.json', provider: 'file' },
    ]);
  });

  it('--debug=false on the command line beats FLAGD_DEBUG and the file', () => {
    const path = tempFile('debug.yaml', 'debug: true\n');
    expect(config(['start', '--config', path]).debug).toBe(true);
    expect(config(['start', '--config', path], { FLAGD_DEBUG: 'false' }).debug).toBe(false);
    expect(config(['start', '--config', path, '--debug=false'], { FLAGD_DEBUG: 'true' }).debug).toBe(false);
  });

  it('uri and sources are separate settings: each resolved on its own, then -f first', () => {
    const path = tempFile('both.yaml', 'sources:\n  - uri: from-file.json\n    provider: file\n');
    expect(config(['start', '--config', path, '-f', 'file:from-flag.json']).sources.map((s) => s.uri)).toEqual([
      'file:from-flag.json',
      'file:from-file.json',
    ]);
  });
});

describe('config files', () => {
  it('reads a YAML file with every kind of value', () => {
    const path = tempFile(
      'full.yaml',
      [
        'port: 5013',
        'management-port: "5014"',
        'ofrep-port: 5016',
        'host: 127.0.0.1',
        'log-format: json',
        'debug: true',
        'socket-path: /run/v.sock',
        'stream-deadline: 10m',
        'server-cert-path: /tls/c.pem',
        'server-key-path: /tls/k.pem',
        'uri:',
        '  - file:a.yaml',
        '  - https://flags.example/f.json',
        'sources:',
        '  - uri: my-sync:8015',
        '    provider: grpc',
        '    tls: true',
        '    certPath: /ca.pem',
        '    selector: flagSetId=app',
        '  - uri: s3://bucket/dir/flags.json',
        '    provider: s3',
        '    interval: 30',
        '    endpoint: http://localhost:4566',
        '    region: us-east-1',
        '    forcePathStyle: true',
        '  - uri: https://secure.example/flags',
        '    provider: http',
        '    authHeader: Bearer abc',
        '    headers:',
        '      X-Api-Version: "2"',
        'cors-origin:',
        '  - https://app.example',
        'browser-rules:',
        '  - flagSetId=web',
        '  - source=https://flags.example/f.json',
        'context-value:',
        '  region: eu',
        '  tier: 3',
        'context-from-header:',
        '  X-Tenant: tenant',
        '',
      ].join('\n'),
    );
    expect(config(['start', '--config', path])).toEqual({
      sources: [
        { uri: 'file:a.yaml', provider: 'file' },
        { uri: 'https://flags.example/f.json', provider: 'http', interval: 5 },
        { uri: 'grpcs://my-sync:8015', provider: 'grpc', tls: true, certPath: '/ca.pem', selector: 'flagSetId=app' },
        {
          uri: 's3://bucket/dir/flags.json',
          provider: 's3',
          interval: 30,
          endpoint: 'http://localhost:4566',
          region: 'us-east-1',
          forcePathStyle: true,
        },
        { uri: 'https://secure.example/flags', provider: 'http', interval: 5, authHeader: 'Bearer abc', headers: { 'X-Api-Version': '2' } },
      ],
      port: 5013,
      managementPort: 5014,
      syncPort: 8015,
      ofrepPort: 5016,
      host: '127.0.0.1',
      contextValues: { region: 'eu', tier: '3' },
      contextFromHeaders: { 'x-tenant': 'tenant' },
      corsOrigins: ['https://app.example'],
      browserRules: ['flagSetId=web', 'source=https://flags.example/f.json'],
      logFormat: 'json',
      tls: { certPath: '/tls/c.pem', keyPath: '/tls/k.pem' },
      socketPath: '/run/v.sock',
      streamDeadlineMs: 600_000,
      disableSyncMetadata: false,
      debug: true,
      adminTokens: [],
      ...LIMIT_DEFAULTS,
    });
  });

  it('reads a JSON file', () => {
    const path = tempFile(
      'c.json',
      JSON.stringify({ port: 4013, uri: ['file:x.json'], sources: '[{"uri":"y.json","provider":"fileinfo"}]', 'context-value': { a: 'b' } }),
    );
    const c = config(['start', '--config', path]);
    expect(c.port).toBe(4013);
    expect(c.sources).toEqual([
      { uri: 'file:x.json', provider: 'file' },
      { uri: 'file:y.json', provider: 'file' },
    ]);
    expect(c.contextValues).toEqual({ a: 'b' });
  });

  it('an empty YAML file is an empty config', () => {
    expect(config(['start', '--config', tempFile('empty.yaml', '')]).port).toBe(8013);
  });

  it('errors name the file', () => {
    expect(error(['start', '--config', '/x.yaml'], {}, () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    })).toBe('--config /x.yaml: file not found');
    expect(error(['start', '--config', join(dir, 'missing.yaml')])).toBe(`--config ${join(dir, 'missing.yaml')}: file not found`);
    const sub = join(dir, 'a-directory.yaml');
    mkdirSync(sub);
    expect(error(['start', '--config', sub])).toBe(`--config ${sub}: is a directory, not a file`);

    const badYaml = tempFile('bad.yaml', 'port: 1\n  bad: indentation: here\n');
    expect(error(['start', '--config', badYaml])).toBe(`--config ${badYaml}: invalid YAML at line 1, column 7: Nested mappings are not allowed in compact mappings`);
    const badJson = tempFile('bad.json', '{"port": 1,}');
    expect(error(['start', '--config', badJson])).toBe(`--config ${badJson}: invalid JSON at position 11: unexpected "}"`);
    const list = tempFile('list.yaml', '- a\n- b\n');
    expect(error(['start', '--config', list])).toBe(`--config ${list}: expected a mapping of option names to values, got an array`);
    const typo = tempFile('typo.yaml', 'prot: 1\n');
    expect(error(['start', '--config', typo])).toContain(`--config ${typo}: unknown key "prot"`);
    const toml = tempFile('c.toml', 'port = 1\n');
    expect(error(['start', '--config', toml])).toBe(`--config ${toml}: unsupported file type ".toml": expected .yaml, .yml or .json`);

    const badPort = tempFile('port.yaml', 'port: abc\n');
    expect(error(['start', '--config', badPort])).toBe(`--config ${badPort}: invalid port "abc": expected an integer 0-65535 (0: any free port)`);
    const badSource = tempFile('src.yaml', 'sources:\n  - provider: file\n');
    expect(error(['start', '--config', badSource])).toBe(`--config ${badSource}: sources[0]: uri is required`);
    const badUri = tempFile('uri.yaml', 'uri: [flags.json]\n');
    expect(error(['start', '--config', badUri])).toContain(`--config ${badUri}: uri: unknown source uri "flags.json"`);
  });

  it('a file that cannot be read for permissions', () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const path = tempFile('locked.yaml', 'port: 1\n');
    chmodSync(path, 0o000);
    expect(error(['start', '--config', path])).toBe(`--config ${path}: permission denied`);
  });

  it('reads nothing without --config', () => {
    let reads = 0;
    const result = parseConfig(['start'], {}, () => {
      reads++;
      return '';
    });
    expect(result.kind).toBe('config');
    expect(reads).toBe(0);
  });
});

describe('-f URIs', () => {
  it('maps prefixes to providers', () => {
    const c = config([
      'start',
      '-f',
      'file:./flags.yaml',
      '-f',
      'file:/etc/flagd/flags.json',
      '-f',
      'http://h/flags.json',
      '-f',
      'https://h/flags.yaml',
      '-f',
      'grpc://localhost:8015',
      '-f',
      'grpcs://remote.example:443',
      '-f',
      's3://my-bucket/path/to/flags.json',
      '-f',
      's3://other/flags.json?region=eu-central-1&endpoint=http://minio:9000&use_path_style=true',
    ]);
    expect(c.sources).toEqual([
      { uri: 'file:./flags.yaml', provider: 'file' },
      { uri: 'file:/etc/flagd/flags.json', provider: 'file' },
      { uri: 'http://h/flags.json', provider: 'http', interval: 5 },
      { uri: 'https://h/flags.yaml', provider: 'http', interval: 5 },
      { uri: 'grpc://localhost:8015', provider: 'grpc', tls: false },
      { uri: 'grpcs://remote.example:443', provider: 'grpc', tls: true },
      { uri: 's3://my-bucket/path/to/flags.json', provider: 's3', interval: 5 },
      {
        uri: 's3://other/flags.json',
        provider: 's3',
        interval: 5,
        region: 'eu-central-1',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
      },
    ]);
  });

  it('rejects unknown and unsupported URIs with one clear line', () => {
    expect(error(['start', '-f', 'ftp://x'])).toBe('-f/--uri: unknown source uri "ftp://x": expected file:, http(s)://, grpc(s)://, or s3://');
    expect(error(['start', '-f', 'flags.json'])).toBe(
      '-f/--uri: unknown source uri "flags.json": expected file:, http(s)://, grpc(s)://, or s3:// (a local file needs the file: prefix, e.g. "file:flags.json")',
    );
    expect(error(['start', '-f', 'gs://bucket/flags.json'])).toContain('gcs sources are not supported by vexil yet');
    expect(error(['start', '-f', 'azblob://c/flags.json'])).toContain('azblob sources are not supported by vexil yet');
    expect(error(['start', '-f', 'core.openfeature.dev/default/my-flags'])).toContain('kubernetes (FeatureFlag resource) sources are not supported by vexil yet');
    expect(error(['start', '-f', 'envoy://localhost:9211/test.service'])).toContain('not supported by vexil yet');
    expect(error(['start', '-f', 'file:'])).toContain('expected a path after file:');
    expect(error(['start', '-f', 's3://bucket-only'])).toBe('-f/--uri: invalid s3 uri "s3://bucket-only": expected s3://bucket/key');
    expect(error(['start', '-f', 's3://bucket/'])).toContain('expected s3://bucket/key');
    expect(error(['start', '-f', 's3://b/k?acl=private'])).toContain('unsupported option "acl"');
    expect(error(['start', '-f', 'grpc://'])).toContain('invalid grpc source uri "grpc://": expected host:port');
    expect(error(['start', '-f', 'http://'])).toContain('invalid http source uri "http://"');
  });

  it('rejects the same source twice', () => {
    expect(error(['start', '-f', 'file:a.json', '-s', '[{"uri":"a.json","provider":"file"}]'])).toBe(
      'duplicate source "file:a.json": configure each source once',
    );
  });
});

describe('--sources', () => {
  const sources = (json: string) => config(['start', '-s', json]).sources;

  it('parses every provider and field', () => {
    expect(
      sources(
        JSON.stringify([
          { uri: 'config/flags.json', provider: 'file' },
          { uri: 'file:other.json', provider: 'fsnotify' },
          { uri: 'https://h/f.json', provider: 'http', interval: 10, authHeader: 'Basic dXNlcjpwYXNz', headers: { 'X-A': 'a' } },
          { uri: 'https://h/g.json', provider: 'http', bearerToken: 'tok' },
          { uri: 'sync:8015', provider: 'grpc', selector: 'source=x', providerID: 'side' },
          { uri: 'grpcs://sync2:8015', provider: 'grpc' },
          { uri: 'sync3:8015', provider: 'grpc', tls: true, certPath: '/ca.pem' },
          { uri: 's3://b/k.json', provider: 's3', region: 'eu-west-3', endpoint: 'https://s3.example', forcePathStyle: false },
        ]),
      ),
    ).toEqual([
      { uri: 'file:config/flags.json', provider: 'file' },
      { uri: 'file:other.json', provider: 'file' },
      { uri: 'https://h/f.json', provider: 'http', interval: 10, authHeader: 'Basic dXNlcjpwYXNz', headers: { 'X-A': 'a' } },
      { uri: 'https://h/g.json', provider: 'http', interval: 5, authHeader: 'Bearer tok' },
      { uri: 'grpc://sync:8015', provider: 'grpc', tls: false, selector: 'source=x' },
      { uri: 'grpcs://sync2:8015', provider: 'grpc', tls: true },
      { uri: 'grpcs://sync3:8015', provider: 'grpc', tls: true, certPath: '/ca.pem' },
      { uri: 's3://b/k.json', provider: 's3', interval: 5, region: 'eu-west-3', endpoint: 'https://s3.example', forcePathStyle: false },
    ]);
  });

  it('warns about flagd keys vexil ignores and keys that do not apply', () => {
    const { warnings } = ok(['start', '-s', '[{"uri":"s:1","provider":"grpc","providerID":"p","maxMsgSize":5242880},{"uri":"a.json","provider":"file","interval":3}]']);
    expect(warnings).toEqual([
      '-s/--sources[0]: "providerID" is ignored (vexil does not send a provider id upstream)',
      '-s/--sources[0]: "maxMsgSize" is ignored (vexil uses the gRPC default message size limit)',
      '-s/--sources[1]: "interval" is ignored for file sources',
    ]);
  });

  it('an empty --sources is no sources', () => {
    expect(sources('')).toEqual([]);
    expect(sources('[]')).toEqual([]);
  });

  it('rejects bad input with one line naming the entry', () => {
    const bad = (json: string) => error(['start', '-s', json]);
    expect(bad('[{x')).toBe('-s/--sources: invalid JSON at position 2: unexpected "x"');
    expect(bad('[1,]')).toBe('-s/--sources: invalid JSON at position 3: unexpected "]"');
    expect(bad('[{"uri":"a.json",\n "provider": file}]')).toBe('-s/--sources: invalid JSON at position 31 (line 2, column 14): unexpected "f"');
    expect(bad('{"uri":"a.json","provider":"file"}')).toBe('-s/--sources: expected a JSON array of source objects, got an object');
    expect(bad('["a.json"]')).toContain('-s/--sources[0]: expected a source object');
    expect(bad('[{"provider":"file"}]')).toBe('-s/--sources[0]: uri is required');
    expect(bad('[{"uri":"a.json"}]')).toBe('-s/--sources[0]: provider is required (file, http, grpc or s3)');
    expect(bad('[{"uri":"a.json","provider":"ftp"}]')).toBe('-s/--sources[0]: unknown provider "ftp": expected file, http, grpc or s3');
    for (const p of ['kubernetes', 'gcs', 'azblob']) {
      expect(bad(`[{"uri":"x/y","provider":"${p}"}]`)).toBe(
        `-s/--sources[0]: provider "${p}" is not supported by vexil yet (supported: file, http, grpc or s3)`,
      );
    }
    expect(bad('[{"uri":"https://h/f","provider":"http","interval":0}]')).toBe(
      '-s/--sources[0].interval: expected a positive integer (seconds), got number 0',
    );
    expect(bad('[{"uri":"https://h/f","provider":"http","interval":1.5}]')).toContain('.interval: expected a positive integer');
    expect(bad('[{"uri":"https://h/f","provider":"http","interval":"5"}]')).toContain('.interval: expected a positive integer');
    expect(bad('[{"uri":"https://h/f","provider":"http","headers":["a"]}]')).toContain('[0].headers: expected an object');
    expect(bad('[{"uri":"https://h/f","provider":"http","headers":{"X-A":1}}]')).toContain('[0].headers.X-A: expected a string');
    expect(bad('[{"uri":"https://h/f","provider":"http","headers":{"Bad Name":"v"}}]')).toContain('invalid header name "Bad Name"');
    expect(bad('[{"uri":"https://h/f","provider":"http","authHeader":"a","bearerToken":"b"}]')).toContain('cannot be used together');
    expect(bad('[{"uri":"https://h/f","provider":"http","oauth":{"clientID":"x"}}]')).toContain('oauth is not supported by vexil yet');
    expect(bad('[{"uri":"h/f","provider":"http"}]')).toContain('must start with http:// or https://');
    expect(bad('[{"uri":"a.json","provider":"file","intreval":5}]')).toContain('-s/--sources[0]: unknown key "intreval"');
    expect(bad('[{"uri":"grpcs://h:1","provider":"grpc","tls":false}]')).toContain('asks for TLS but tls is false');
    expect(bad('[{"uri":"h:1","provider":"grpc","tls":"yes"}]')).toBe('-s/--sources[0].tls: expected true or false, got string "yes"');
    expect(bad('[{"uri":"dns://h:1","provider":"grpc"}]')).toContain('not supported by vexil yet');
    expect(bad('[{"uri":"a.json","provider":"s3"}]')).toContain('must look like s3://bucket/key');
    expect(bad('[{"uri":"s3://b/k","provider":"s3","endpoint":"minio:9000"}]')).toContain('invalid endpoint "minio:9000"');
    expect(bad('[{"uri":"a.json","provider":"file"},{"uri":5,"provider":"file"}]')).toBe('-s/--sources[1].uri: expected a string, got number 5');
  });
});

describe('bad arguments give one line naming the culprit', () => {
  it('ports', () => {
    expect(error(['start', '--port', 'abc'])).toBe('invalid -p/--port "abc": expected an integer 0-65535 (0: any free port)');
    expect(error(['start', '-p', '-1'])).toBe('invalid -p/--port "-1": expected an integer 0-65535 (0: any free port)');
    expect(error(['start', '-m', '65536'])).toBe('invalid -m/--management-port "65536": expected an integer 0-65535 (0: any free port)');
    expect(error(['start', '-g', '-1'])).toBe('invalid -g/--sync-port "-1": expected an integer 0-65535 (0: any free port)');
    expect(error(['start', '-r', '80.5'])).toBe('invalid -r/--ofrep-port "80.5": expected an integer 0-65535 (0: any free port)');
  });

  it('other values', () => {
    expect(error(['start', '-z', 'xml'])).toBe('invalid -z/--log-format "xml": expected console or json');
    expect(error(['start', '--debug=maybe'])).toBe('invalid -x/--debug "maybe": expected true or false');
    expect(error(['start', '-c', 'c.pem'])).toBe('-c/--server-cert-path needs --server-key-path as well (env FLAGD_SERVER_KEY_PATH)');
    expect(error(['start', '-k', 'k.pem'])).toBe('-k/--server-key-path needs --server-cert-path as well (env FLAGD_SERVER_CERT_PATH)');
    expect(error(['start', '--host', ''])).toContain('invalid --host ""');
    expect(error(['start', '--config', ''])).toBe('--config: expected a file path');
  });

  it('command-line syntax', () => {
    expect(error(['start', '--bogus'])).toBe("unknown option '--bogus'");
    expect(error(['start', '-p'])).toBe('-p/--port: missing value');
    expect(error(['start', '--host'])).toBe('--host: missing value');
    expect(error(['start', 'extra'])).toContain('too many arguments');
    expect(error(['stat'])).toContain("unknown command 'stat'");
    expect(error(['-p', '9000', 'start'])).toBe("unknown option '-p' (flags of start go after the command: vexil start -p ...)");
    expect(error(['help', 'nothing'])).toBe('unknown help topic "nothing": expected start or version');
  });
});

describe('flagd options vexil does not implement', () => {
  it('are accepted and reported as warnings, from any layer', () => {
    const path = tempFile('ignored.yaml', 'otel-ca-path: /ca.pem\n');
    const { warnings } = ok(['start', '-f', 'file:a.json', '-t', 'otel', '-o', 'collector:4317', '--config', path], {
      FLAGD_SELECTOR_FALLBACK_KEY: 'flagSetId',
    });
    expect(warnings).toEqual([
      '-t/--metrics-exporter is a flagd option vexil does not implement; ignored',
      '-o/--otel-collector-uri is a flagd option vexil does not implement; ignored',
      `--config ${path}: otel-ca-path is a flagd option vexil does not implement; ignored`,
      'FLAGD_SELECTOR_FALLBACK_KEY is a flagd option vexil does not implement; ignored',
    ]);
  });
});

describe('stream deadline', () => {
  it('reads Go durations', () => {
    const ms = (v: string) => config(['start', '--stream-deadline', v]).streamDeadlineMs;
    expect(ms('0')).toBe(0);
    expect(ms('30s')).toBe(30_000);
    expect(ms('1h30m')).toBe(5_400_000);
    expect(ms('1.5s')).toBe(1_500);
    expect(ms('250ms')).toBe(250);
  });

  it('refuses a bare number or garbage, naming the flag', () => {
    for (const bad of ['600', '10 s', 's', '1x', '-1s']) {
      expect(() => config(['start', '--stream-deadline', bad])).toThrow(/--stream-deadline/);
    }
  });
});

describe('help and version', () => {
  it('vexil alone, -h, --help and help print the root help', () => {
    const root = formatHelp();
    expect(help([])).toBe(root);
    expect(help(['-h'])).toBe(root);
    expect(help(['--help'])).toBe(root);
    expect(help(['help'])).toBe(root);
    expect(help(['--debug'])).toBe(root);
    expect(root).toContain('start');
    expect(root).toContain('--config');
    expect(root).toContain('--debug');
  });

  it('start --help, start -h, help start and -h start print the start help, even next to bad values', () => {
    const start = formatHelp('start');
    expect(help(['start', '--help'])).toBe(start);
    expect(help(['start', '-h'])).toBe(start);
    expect(help(['help', 'start'])).toBe(start);
    expect(help(['-h', 'start'])).toBe(start);
    expect(help(['start', '-p', 'abc', '--help'])).toBe(start);
  });

  it('the start help lists every flag, its shorthand, env var and default', () => {
    const text = formatHelp('start');
    const flat = text.replace(/\s+/g, ' ');
    for (const spec of OPTIONS) {
      expect(text).toContain(`--${spec.name}`);
      if (spec.short) expect(text).toContain(`-${spec.short}, --${spec.name}`);
      if (spec.env) expect(text).toContain(spec.env);
      if (spec.defaultText) expect(flat).toContain(`default ${spec.defaultText}`);
    }
    for (const v of ['FLAGD_PORT', 'FLAGD_MANAGEMENT_PORT', 'FLAGD_SYNC_PORT', 'FLAGD_OFREP_PORT', 'FLAGD_URI', 'FLAGD_SOURCES']) {
      expect(text).toContain(v);
    }
    for (const d of ['8013', '8014', '8015', '8016', 'console']) expect(text).toContain(d);
    expect(text).toContain('AWS_ENDPOINT_URL_S3');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('version', () => {
    const v = parseConfig(['version'], {});
    expect(v.kind).toBe('version');
    expect((v as Extract<ParseResult, { kind: 'version' }>).text).toMatch(/^vexil \d+\.\d+\.\d+/);
    expect(parseConfig(['--version'], {}).kind).toBe('version');
    expect(parseConfig(['version'], {}, undefined, { version: '9.9.9' })).toEqual({ kind: 'version', text: 'vexil 9.9.9\n' });
    expect(help(['version', '--help'])).toBe(formatHelp('version'));
  });
});

describe('the result is deep-frozen', () => {
  it('mutating anything throws (ES modules are strict)', () => {
    const c = config(['start', '-f', 'https://h/f.json', '-X', 'a=b', '-H', 'X-A=a', '-C', '*', '-c', 'c', '-k', 'k', '-s', '[{"uri":"https://h/g","provider":"http","headers":{"X":"y"}}]']);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (c.sources as SourceList).push({ uri: 'file:x', provider: 'file' });
    }).toThrow(TypeError);
    expect(() => {
      (c.sources[0] as { uri: string }).uri = 'x';
    }).toThrow(TypeError);
    expect(() => {
      (c.sources[1].headers as Record<string, string>).X = 'z';
    }).toThrow(TypeError);
    expect(() => {
      (c.contextValues as Record<string, string>).a = 'c';
    }).toThrow(TypeError);
    expect(() => {
      (c.contextFromHeaders as Record<string, string>).b = 'c';
    }).toThrow(TypeError);
    expect(() => {
      (c.corsOrigins as string[]).push('x');
    }).toThrow(TypeError);
    expect(() => {
      (c.tls as { certPath: string }).certPath = 'x';
    }).toThrow(TypeError);
    const r = parseConfig(['start'], {});
    expect(Object.isFrozen(r.kind === 'config' ? r.warnings : null)).toBe(true);
  });
});

describe('the option table drives parsing, defaults and help', () => {
  it('every option appears in vexil start --help with its env var (or why it has none) and its default', () => {
    // A row starts with its flags two spaces in (`  -p, --port <port>`, `      --host <address>`);
    // wrapped description lines are indented further.
    const rows = formatHelp('start')
      .split('\n')
      .reduce<string[]>((out, line) => (/^ {2}(?:-\w,| {4}-)/.test(line) ? [...out, line] : out.length > 0 ? [...out.slice(0, -1), `${out[out.length - 1]} ${line}`] : out), [])
      .map((row) => row.replace(/\s+/g, ' ').trim());
    for (const spec of OPTIONS) {
      const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}${spec.arg ? ` <${spec.arg}>` : ''}`;
      const row = rows.find((r) => r === flags || r.startsWith(`${flags} `));
      expect(row, spec.name).toBeDefined();
      if (spec.env !== undefined) {
        expect(spec.env).toBe(envName(spec.name));
        expect(row, spec.name).toContain(`(env ${spec.env}`);
      } else {
        expect(spec.noEnvReason, spec.name).toBeDefined();
        expect(row, spec.name).toContain(`(${spec.noEnvReason}`);
      }
      if (spec.defaultText !== undefined) expect(row, spec.name).toContain(`; default ${spec.defaultText})`);
    }
  });

  it('DEFAULT_CONFIG equals parsing an empty command line, and holds each field option\'s default', () => {
    expect(config(['start'])).toEqual(DEFAULT_CONFIG);
    for (const spec of FIELD_OPTIONS) {
      if (spec.default === undefined) expect(Object.hasOwn(DEFAULT_CONFIG, spec.field), spec.field).toBe(false);
      else expect(DEFAULT_CONFIG[spec.field], spec.field).toEqual(spec.default);
    }
    expect(Object.keys(DEFAULT_CONFIG).sort()).toEqual(['sources', ...FIELD_OPTIONS.filter((o) => o.default !== undefined).map((o) => o.field)].sort());
  });

  it('each DaemonConfig field is set by one option, and no two options share a name or shorthand', () => {
    const fields = FIELD_OPTIONS.map((o) => o.field);
    expect(new Set(fields).size).toBe(fields.length);
    expect(new Set(OPTIONS.map((o) => o.name)).size).toBe(OPTIONS.length);
    const shorts = OPTIONS.flatMap((o) => (o.short ? [o.short] : []));
    expect(new Set(shorts).size).toBe(shorts.length);
  });

  it('the default help shows reads back as that default, from the flag, the variable and the config file', () => {
    let checked = 0;
    for (const spec of FIELD_OPTIONS) {
      if (spec.default === undefined || spec.defaultText === undefined) continue;
      expect(config(['start', `--${spec.name}=${spec.defaultText}`])[spec.field], spec.name).toEqual(spec.default);
      if (spec.env !== undefined) expect(config(['start'], { [spec.env]: spec.defaultText })[spec.field], spec.env).toEqual(spec.default);
      const path = tempFile('default.json', JSON.stringify({ [spec.name]: spec.defaultText }));
      expect(config(['start', '--config', path])[spec.field], `${spec.name} in a file`).toEqual(spec.default);
      checked++;
    }
    // Every scalar default is shown: debug, four ports, host, four durations, two caps, two limits, log format.
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it('with several bad values, reports the first in help order; rules across options come after', () => {
    expect(error(['start', '--log-format', 'x', '-p', 'abc'])).toBe('invalid -p/--port "abc": expected an integer 0-65535 (0: any free port)');
    expect(error(['start', '-c', 'c.pem', '--max-streams', 'y'])).toBe('invalid --max-streams "y": expected a whole number (0: no cap)');
    expect(error(['start', '-f', 'nope.json', '-p', 'abc'])).toMatch(/^-f\/--uri: unknown source uri "nope.json"/);
  });

  it('every option vexil acts on refuses a value of the wrong shape in a config file, naming the file and the key', () => {
    for (const spec of OPTIONS) {
      if (spec.ignored || spec.name === 'config') continue;
      // A mapping is what -X and -H take in a file, so they get a list of numbers.
      const wrong = spec.kind === 'map' ? [1, 2] : { nested: 1 };
      const path = tempFile('wrong-shape.json', JSON.stringify({ [spec.name]: wrong }));
      const message = error(['start', '--config', path]);
      expect(message, spec.name).toContain(`--config ${path}: `);
      expect(message, spec.name).toContain(spec.name);
    }
  });
});

type SourceList = Array<DaemonConfig['sources'][number]>;
