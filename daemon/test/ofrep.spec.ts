/**
 * The OFREP server on a real port, driven by fetch (status codes, bodies, ETag, CORS, limits) and
 * by the official @openfeature/ofrep-provider through @openfeature/server-sdk.
 */
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { ErrorCode, OpenFeature, StandardResolutionReasons } from '@openfeature/server-sdk';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOfrepServer, type OfrepServerOptions } from '../src/servers/ofrep/ofrep-server.js';
import type { RunningServer } from '../src/servers/http/listen.js';
import { FlagStore } from '../src/store/flag-store.js';
import { createMetrics, type Metrics } from '../src/telemetry/metrics.js';
import { BOOL_AND_STRING_FLAGS, CONTEXT_FLAGS } from './support/flags.js';

const SOURCE = 'file:test';

const FLAGS = {
  flags: {
    ...BOOL_AND_STRING_FLAGS,
    'number-flag': { state: 'ENABLED', variants: { one: 1, pi: 3.14 }, defaultVariant: 'pi' },
    'object-flag': { state: 'ENABLED', variants: { cfg: { color: 'red', size: 2 } }, defaultVariant: 'cfg', metadata: { owner: 'ui' } },
    'targeted-flag': {
      state: 'ENABLED',
      variants: { yes: true, no: false },
      defaultVariant: 'no',
      targeting: { if: [{ '==': [{ var: 'targetingKey' }, 'user-1'] }, 'yes', null] },
    },
    ...CONTEXT_FLAGS,
    'disabled-flag': { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'no-default-flag': { state: 'ENABLED', variants: { a: 'x', b: 'y' } },
    'parse-error-flag': { state: 'ENABLED', variants: { a: true }, defaultVariant: 'a', targeting: { nosuchop: [1] } },
    'general-error-flag': { state: 'ENABLED', variants: { a: true }, defaultVariant: 'a', targeting: { if: [true, 'missing', null] } },
    'mixed-flag': {
      state: 'ENABLED',
      variants: { s: 'text', n: 42 },
      defaultVariant: 's',
      targeting: { if: [{ '==': [{ var: 'n' }, true] }, 'n', null] },
    },
    'set-a-flag': { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on', metadata: { flagSetId: 'set-a' } },
  },
  metadata: { version: 'v1' },
};

const silent = pino({ level: 'silent' });

interface Harness {
  server: RunningServer;
  base: string;
  store: FlagStore;
  metrics: Metrics;
}

async function start(overrides: Partial<OfrepServerOptions> = {}): Promise<Harness> {
  const store = new FlagStore([SOURCE]);
  const r = store.update(SOURCE, JSON.stringify(FLAGS));
  if (!r.ok) throw new Error(r.error.message);
  const metrics = createMetrics({ defaultMetrics: false });
  const server = createOfrepServer({
    store,
    metrics,
    logger: silent,
    host: '127.0.0.1',
    port: 0,
    contextValues: {},
    contextFromHeaders: {},
    corsOrigins: [],
    ...overrides,
  });
  const { port } = await server.start();
  return { server, base: `http://127.0.0.1:${port}`, store, metrics };
}

function post(base: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('OFREP over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.server.close();
  });

  it('evaluates one flag as its own type', async () => {
    const res = await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', { context: {} });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ key: 'bool-flag', value: true, reason: 'STATIC', variant: 'on', metadata: { version: 'v1' } });

    const obj = await (await post(h.base, '/ofrep/v1/evaluate/flags/object-flag', {})).json();
    expect(obj).toEqual({ key: 'object-flag', value: { color: 'red', size: 2 }, reason: 'STATIC', variant: 'cfg', metadata: { version: 'v1', owner: 'ui' } });

    const num = await (await post(h.base, '/ofrep/v1/evaluate/flags/number-flag')).json();
    expect(num).toMatchObject({ value: 3.14, variant: 'pi' });
  });

  it('targets with the request context', async () => {
    const hit = await (await post(h.base, '/ofrep/v1/evaluate/flags/string-flag', { context: { email: 'jo@example.com' } })).json();
    expect(hit).toMatchObject({ value: 'b', variant: 'beta', reason: 'TARGETING_MATCH' });
    const miss = await (await post(h.base, '/ofrep/v1/evaluate/flags/string-flag', { context: { email: 'jo@other.org' } })).json();
    expect(miss).toMatchObject({ value: 'a', variant: 'alpha', reason: 'DEFAULT' });
    const tk = await (await post(h.base, '/ofrep/v1/evaluate/flags/targeted-flag', { context: { targetingKey: 'user-1' } })).json();
    expect(tk).toMatchObject({ value: true, variant: 'yes', reason: 'TARGETING_MATCH' });
  });

  it('answers an unknown flag with 404 FLAG_NOT_FOUND', async () => {
    const res = await post(h.base, '/ofrep/v1/evaluate/flags/nope', { context: {} });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { errorDetails: unknown };
    expect(body).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    expect(typeof body.errorDetails).toBe('string');
    const long = 'k'.repeat(300);
    const res2 = await post(h.base, `/ofrep/v1/evaluate/flags/${long}`, {});
    expect(res2.status).toBe(404);
    expect(await res2.json()).toMatchObject({ key: long, errorCode: 'FLAG_NOT_FOUND' });
  });

  it('answers a disabled flag as flagd does: 404 FLAG_NOT_FOUND', async () => {
    const res = await post(h.base, '/ofrep/v1/evaluate/flags/disabled-flag', {});
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ key: 'disabled-flag', errorCode: 'FLAG_NOT_FOUND', errorDetails: expect.stringContaining('disabled') });
  });

  it('maps evaluation errors to 400 PARSE_ERROR and GENERAL', async () => {
    const parse = await post(h.base, '/ofrep/v1/evaluate/flags/parse-error-flag', {});
    expect(parse.status).toBe(400);
    expect(await parse.json()).toMatchObject({ key: 'parse-error-flag', errorCode: 'PARSE_ERROR' });
    const general = await post(h.base, '/ofrep/v1/evaluate/flags/general-error-flag', {});
    expect(general.status).toBe(400);
    expect(await general.json()).toMatchObject({ key: 'general-error-flag', errorCode: 'GENERAL' });
  });

  it('omits value and variant when the flag defers to the code default', async () => {
    const res = await post(h.base, '/ofrep/v1/evaluate/flags/no-default-flag', {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ key: 'no-default-flag', reason: 'DEFAULT', metadata: { version: 'v1' } });
  });

  it('answers with the type of the variant a mixed flag picks', async () => {
    expect(await (await post(h.base, '/ofrep/v1/evaluate/flags/mixed-flag', {})).json()).toMatchObject({ value: 'text', variant: 's' });
    expect(await (await post(h.base, '/ofrep/v1/evaluate/flags/mixed-flag', { context: { n: true } })).json()).toMatchObject({ value: 42, variant: 'n' });
  });

  it('treats an empty body, any content type and null context as an empty context', async () => {
    expect((await fetch(`${h.base}/ofrep/v1/evaluate/flags/bool-flag`, { method: 'POST' })).status).toBe(200);
    const plain = await fetch(`${h.base}/ofrep/v1/evaluate/flags/bool-flag`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"context":{}}' });
    expect(plain.status).toBe(200);
    const form = await fetch(`${h.base}/ofrep/v1/evaluate/flags/bool-flag`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{}' });
    expect(form.status).toBe(200);
    expect((await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', { context: null })).status).toBe(200);
  });

  it('refuses a malformed body or context with 400 INVALID_CONTEXT', async () => {
    for (const body of ['{not json', '[1,2]', '"text"', '{"context":"abc"}', '{"context":[1]}']) {
      const res = await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', body);
      expect(res.status, body).toBe(400);
      expect(await res.json(), body).toMatchObject({ key: 'bool-flag', errorCode: 'INVALID_CONTEXT' });
      const bulk = await post(h.base, '/ofrep/v1/evaluate/flags', body);
      expect(bulk.status, body).toBe(400);
      expect(await bulk.json(), body).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    }
  });

  it('evaluates every enabled flag in bulk, with per-flag errors and flag set metadata', async () => {
    const res = await post(h.base, '/ofrep/v1/evaluate/flags', { context: { targetingKey: 'user-1' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { flags: { key: string }[]; metadata: unknown };
    expect(body.metadata).toEqual({ version: 'v1' });
    const byKey = new Map(body.flags.map((f) => [f.key, f]));
    expect(byKey.has('disabled-flag')).toBe(false);
    expect(byKey.get('bool-flag')).toEqual({ key: 'bool-flag', value: true, reason: 'STATIC', variant: 'on', metadata: { version: 'v1' } });
    expect(byKey.get('targeted-flag')).toMatchObject({ value: true, variant: 'yes', reason: 'TARGETING_MATCH' });
    expect(byKey.get('no-default-flag')).toEqual({ key: 'no-default-flag', reason: 'DEFAULT', metadata: { version: 'v1' } });
    expect(byKey.get('parse-error-flag')).toMatchObject({ key: 'parse-error-flag', errorCode: 'PARSE_ERROR' });
    expect(byKey.get('general-error-flag')).toMatchObject({ key: 'general-error-flag', errorCode: 'GENERAL' });
    // The trailing-slash form is the same endpoint, as flagd's route accepts both.
    expect((await post(h.base, '/ofrep/v1/evaluate/flags/', {})).status).toBe(200);
  });

  it('tags bulk responses with an ETag and answers a matching If-None-Match with 304', async () => {
    const first = await post(h.base, '/ofrep/v1/evaluate/flags', { context: { email: 'a@example.com' } });
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    await first.arrayBuffer();

    const again = await post(h.base, '/ofrep/v1/evaluate/flags', { context: { email: 'a@example.com' } }, { 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');

    for (const inm of [`W/${etag}`, `"other", ${etag}`, etag!.slice(1, -1), '*']) {
      const r = await post(h.base, '/ofrep/v1/evaluate/flags', { context: { email: 'a@example.com' } }, { 'if-none-match': inm });
      expect(r.status, inm).toBe(304);
    }

    // Another context evaluates differently: a new tag, a full answer.
    const other = await post(h.base, '/ofrep/v1/evaluate/flags', { context: { email: 'a@other.org' } }, { 'if-none-match': etag! });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);
    await other.arrayBuffer();
  });

  it('changes the ETag when the flags change', async () => {
    const local = await start();
    try {
      const first = await post(local.base, '/ofrep/v1/evaluate/flags', {});
      const etag = first.headers.get('etag')!;
      await first.arrayBuffer();
      const changed = structuredClone(FLAGS) as typeof FLAGS;
      changed.flags['bool-flag'].defaultVariant = 'off';
      expect(local.store.update(SOURCE, JSON.stringify(changed)).ok).toBe(true);
      const after = await post(local.base, '/ofrep/v1/evaluate/flags', {}, { 'if-none-match': etag });
      expect(after.status).toBe(200);
      expect(after.headers.get('etag')).not.toBe(etag);
      const body = (await after.json()) as { flags: { key: string; value?: unknown }[] };
      expect(body.flags.find((f) => f.key === 'bool-flag')?.value).toBe(false);
    } finally {
      await local.server.close();
    }
  });

  it('picks flags with the Flagd-Selector header', async () => {
    const res = await post(h.base, '/ofrep/v1/evaluate/flags', {}, { 'flagd-selector': 'flagSetId=set-a' });
    const body = (await res.json()) as { flags: { key: string }[]; metadata: Record<string, unknown> };
    expect(body.flags.map((f) => f.key)).toEqual(['set-a-flag']);
    expect(body.metadata).toMatchObject({ flagSetId: 'set-a' });
    const single = await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', {}, { 'flagd-selector': 'flagSetId=set-a' });
    expect(single.status).toBe(404);
    await single.arrayBuffer();
  });

  it('answers other methods on the evaluate paths with 405', async () => {
    const res = await fetch(`${h.base}/ofrep/v1/evaluate/flags/bool-flag`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    await res.arrayBuffer();
  });

  it('answers CORS preflights and tags responses for any origin by default', async () => {
    const pre = await fetch(`${h.base}/ofrep/v1/evaluate/flags`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,flagd-selector' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('flagd-selector');

    const res = await post(h.base, '/ofrep/v1/evaluate/flags', {}, { origin: 'https://app.example' });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag');
    await res.arrayBuffer();
  });
});

describe('OFREP server options', () => {
  it('allows only the configured CORS origins, with wildcards', async () => {
    const h = await start({ corsOrigins: ['https://app.example', 'https://*.example.org'] });
    try {
      const allowed = async (origin: string) => {
        const r = await fetch(`${h.base}/ofrep/v1/evaluate/flags`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
        await r.arrayBuffer();
        return r.headers.get('access-control-allow-origin');
      };
      expect(await allowed('https://app.example')).toBe('https://app.example');
      expect(await allowed('https://a.example.org')).toBe('https://a.example.org');
      expect(await allowed('https://evil.example')).toBeNull();
      const res = await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', {}, { origin: 'https://app.example' });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(res.headers.get('vary')).toContain('Origin');
      await res.arrayBuffer();
    } finally {
      await h.server.close();
    }
  });

  it('refuses a body over the limit with 413', async () => {
    const h = await start({ bodyLimit: 1024 });
    try {
      const big = { context: { blob: 'x'.repeat(4096) } };
      for (const path of ['/ofrep/v1/evaluate/flags/bool-flag', '/ofrep/v1/evaluate/flags']) {
        const res = await post(h.base, path, big);
        expect(res.status).toBe(413);
        expect(await res.json()).toEqual({ errorDetails: 'request body too large' });
      }
      expect((await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', { context: { small: 1 } })).status).toBe(200);
    } finally {
      await h.server.close();
    }
  });

  it('merges context: request < -X static values < -H mapped headers', async () => {
    const h = await start({ contextValues: { env: 'prod', tier: 'basic' }, contextFromHeaders: { 'X-Tier': 'tier' } });
    try {
      // -X beats the request's own value.
      const env = await (await post(h.base, '/ofrep/v1/evaluate/flags/env-flag', { context: { env: 'dev' } })).json();
      expect(env).toMatchObject({ value: 'production', variant: 'prod' });
      // -H beats -X, and header names match case-insensitively.
      const tier = await (await post(h.base, '/ofrep/v1/evaluate/flags/tier-flag', { context: { tier: 'x' } }, { 'x-tier': 'gold' })).json();
      expect(tier).toMatchObject({ value: 'gold', variant: 'gold' });
      // Without the header, -X applies.
      const none = await (await post(h.base, '/ofrep/v1/evaluate/flags/tier-flag', { context: { tier: 'gold' } })).json();
      expect(none).toMatchObject({ value: 'basic' });
    } finally {
      await h.server.close();
    }
  });

  it('records flagd metrics for evaluations and requests', async () => {
    const h = await start();
    try {
      await (await post(h.base, '/ofrep/v1/evaluate/flags/bool-flag', {})).arrayBuffer();
      await (await post(h.base, '/ofrep/v1/evaluate/flags/nope', {})).arrayBuffer();
      await (await post(h.base, '/ofrep/v1/evaluate/flags', {})).arrayBuffer();
      const text = await h.metrics.render();
      expect(text).toMatch(
        /feature_flag_flagd_impression_total\{feature_flag_key="bool-flag",feature_flag_result_variant="on",feature_flag_provider_name="flagd",feature_flag_reason="STATIC"\} 2/,
      );
      expect(text).toMatch(/feature_flag_flagd_result_reason_total\{feature_flag_provider_name="flagd",feature_flag_reason="ERROR",ExceptionTypeKeyName="FLAG_NOT_FOUND"\} 1/);
      expect(text).toMatch(
        /http_server_request_duration_seconds_count\{service_name="flagd",http_route="\/ofrep\/v1\/evaluate\/flags\/\{key\}",http_request_method="POST",url_scheme="http",http_response_status_code="404"\} 1/,
      );
      expect(text).toContain('http_route="/ofrep/v1/evaluate/{path:flags\\\\/|flags}"');
      expect(text).toMatch(/^http_server_response_body_size_bytes_count\{.*http_route="\/ofrep\/v1\/evaluate\/flags\/\{key\}".*http_response_status_code="200"\} 1$/m);
      expect(text).toMatch(/^http_server_active_requests\{.*http_route="\/ofrep\/v1\/evaluate\/flags\/\{key\}".*\} 0$/m);
      expect(text).toMatch(/vexil_evaluation_duration_seconds_count\{service="ofrep",method="evaluate"\} 2/);
    } finally {
      await h.server.close();
    }
  });
});

describe('OFREP through the official OpenFeature provider', () => {
  let h: Harness;
  let mapped: Harness;
  beforeAll(async () => {
    h = await start();
    mapped = await start({ contextValues: { env: 'prod' }, contextFromHeaders: { 'X-Tier': 'tier' } });
  });
  afterEach(async () => {
    await OpenFeature.clearProviders();
  });
  afterAll(async () => {
    await OpenFeature.close();
    await h.server.close();
    await mapped.server.close();
  });

  async function client(base: string, domain: string, headers?: [string, string][]) {
    await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: base, headers }));
    return OpenFeature.getClient(domain);
  }

  it('resolves values, variants, reasons and metadata of every type', async () => {
    const c = await client(h.base, 'types');
    const b = await c.getBooleanDetails('bool-flag', false);
    expect(b).toMatchObject({ value: true, variant: 'on', reason: StandardResolutionReasons.STATIC, flagMetadata: { version: 'v1' } });
    expect(b.errorCode).toBeUndefined();
    expect(await c.getStringDetails('string-flag', 'z')).toMatchObject({ value: 'a', variant: 'alpha', reason: 'DEFAULT' });
    expect(await c.getNumberDetails('number-flag', 0)).toMatchObject({ value: 3.14, variant: 'pi' });
    expect(await c.getObjectDetails('object-flag', {})).toMatchObject({ value: { color: 'red', size: 2 }, flagMetadata: { owner: 'ui', version: 'v1' } });
  });

  it('targets with the evaluation context', async () => {
    const c = await client(h.base, 'targeting');
    expect(await c.getBooleanDetails('targeted-flag', false, { targetingKey: 'user-1' })).toMatchObject({ value: true, variant: 'yes', reason: 'TARGETING_MATCH' });
    expect(await c.getBooleanDetails('targeted-flag', true, { targetingKey: 'user-2' })).toMatchObject({ value: false, variant: 'no', reason: 'DEFAULT' });
    expect(await c.getStringValue('string-flag', 'z', { email: 'me@example.com' })).toBe('b');
  });

  it('reports FLAG_NOT_FOUND, TYPE_MISMATCH and PARSE_ERROR with the default value', async () => {
    const c = await client(h.base, 'errors');
    const missing = await c.getBooleanDetails('nope', true);
    expect(missing).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND, reason: 'ERROR' });
    const disabled = await c.getBooleanDetails('disabled-flag', false);
    expect(disabled).toMatchObject({ value: false, errorCode: ErrorCode.FLAG_NOT_FOUND });
    const mismatch = await c.getStringDetails('bool-flag', 'fallback');
    expect(mismatch).toMatchObject({ value: 'fallback', errorCode: ErrorCode.TYPE_MISMATCH, reason: 'ERROR' });
    const parse = await c.getBooleanDetails('parse-error-flag', false);
    expect(parse).toMatchObject({ value: false, errorCode: ErrorCode.PARSE_ERROR });
  });

  it('applies -X static context and -H header mapping', async () => {
    const plain = await client(mapped.base, 'static');
    expect(await plain.getStringDetails('env-flag', 'z', { env: 'dev' })).toMatchObject({ value: 'production', variant: 'prod', reason: 'TARGETING_MATCH' });
    expect(await plain.getStringValue('tier-flag', 'z')).toBe('basic');
    const withHeader = await client(mapped.base, 'header', [['X-Tier', 'gold']]);
    expect(await withHeader.getStringDetails('tier-flag', 'z', { tier: 'basic' })).toMatchObject({ value: 'gold', variant: 'gold' });
  });
});
