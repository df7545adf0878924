import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSource } from '../src/sources/create-source.js';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3 } from './support/s3rver.js';
import { S3Source, classifyS3Error, type S3SourceOptions } from '../src/sources/s3/s3-source.js';
import { parseS3Uri } from '../src/sources/uri.js';
import type { SourceConfig, SourceData, SourceFailure, SourceListener } from '../src/sources/source.js';


function listen(): { listener: SourceListener; data: SourceData[]; errors: SourceFailure[] } {
  const data: SourceData[] = [];
  const errors: SourceFailure[] = [];
  return { data, errors, listener: { data: (d) => void data.push(d), error: (e) => void errors.push(e) } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = (check: () => void, timeout = 5_000) => vi.waitFor(check, { timeout, interval: 10 });

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const credentials = S3RVER_CREDENTIALS;
const doc = (value: string) => JSON.stringify({ flags: { f: { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' } } });

interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly ifNoneMatch: string | undefined;
  status?: number;
}

let directory: string;
let s3: TestS3;
let s3Endpoint: string;
/** A recording proxy in front of s3rver: what the source asked and what it got. */
let proxy: Server;
let endpoint: string;
let exchanges: Exchange[];
let admin: S3Client;
const sources: { stop(): Promise<void> }[] = [];

beforeEach(async () => {
  s3 = await startS3rver('vexil-s3-source-');
  directory = s3.directory;
  s3Endpoint = s3.endpoint;
  exchanges = [];
  proxy = createServer((req, res) => {
    const exchange: Exchange = { method: req.method ?? '', url: req.url ?? '', ifNoneMatch: req.headers['if-none-match'] as string | undefined };
    exchanges.push(exchange);
    const upstream = request(`${s3Endpoint}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      exchange.status = up.statusCode;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  admin = new S3Client({
    endpoint: s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  admin.destroy();
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await s3.close();
});

async function put(key: string, body: string, contentType = 'application/json'): Promise<void> {
  await admin.send(new PutObjectCommand({ Bucket: 'flags', Key: key, Body: body, ContentType: contentType }));
}

function source(uri: string, config: Partial<SourceConfig> = {}, options: S3SourceOptions = {}): S3Source {
  const s = new S3Source(
    { uri, provider: 's3', interval: 0.05, endpoint, forcePathStyle: true, region: 'us-east-1', ...config },
    { clientConfig: { credentials }, timeoutMs: 2_000, ...options },
  );
  sources.push(s);
  return s;
}

const gets = () => exchanges.filter((e) => e.method === 'GET');

describe('s3 source', () => {
  it('reads an object', async () => {
    await put('flags.json', doc('a'));
    const events = listen();
    await source('s3://flags/flags.json').start(events.listener);
    expect(events.errors).toEqual([]);
    expect(events.data).toHaveLength(1);
    expect(events.data[0]).toMatchObject({ source: 's3://flags/flags.json', data: doc('a') });
    expect(events.data[0].version).toMatch(/^".+"$/); // the ETag
  });

  it('sends IfNoneMatch, does not re-emit an unchanged object, and sees updates', async () => {
    await put('flags.json', doc('a'));
    const events = listen();
    await source('s3://flags/flags.json').start(events.listener);
    await waitFor(() => expect(gets().filter((e) => e.status !== undefined).length).toBeGreaterThanOrEqual(4));
    const etag = events.data[0].version;
    expect(gets()[0].ifNoneMatch).toBeUndefined();
    expect(gets()[0].status).toBe(200);
    expect(gets().slice(1, 4).map((e) => [e.ifNoneMatch, e.status])).toEqual([
      [etag, 304],
      [etag, 304],
      [etag, 304],
    ]);
    expect(events.data).toHaveLength(1);

    await put('flags.json', doc('b'));
    await waitFor(() => expect(events.data.map((d) => d.data)).toEqual([doc('a'), doc('b')]));
    expect(events.data[1].version).not.toBe(etag);
    expect(events.errors).toEqual([]);
  });

  it('converts a YAML object by its key', async () => {
    await put('flags.yaml', 'flags:\n  f: {state: DISABLED}\n', 'application/octet-stream');
    const events = listen();
    await source('s3://flags/flags.yaml').start(events.listener);
    expect(events.errors).toEqual([]);
    expect(events.data.map((d) => d.data)).toEqual(['{"flags":{"f":{"state":"DISABLED"}}}']);
  });

  it('reports garbage as parse_error', async () => {
    await put('flags', 'this is not a flag document', 'text/plain');
    const events = listen();
    await source('s3://flags/flags').start(events.listener);
    expect(events.data).toEqual([]);
    expect(events.errors.map((e) => e.reason)).toEqual(['parse_error']);
  });

  it('reports a missing key as not_found, keeps the last data when the object goes away, and picks it up again', async () => {
    const events = listen();
    await source('s3://flags/flags.json').start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['not_found']);
    expect(events.errors[0].message).toMatch(/NoSuchKey/);
    expect(events.errors[0].source).toBe('s3://flags/flags.json');

    await put('flags.json', doc('a'));
    await waitFor(() => expect(events.data.map((d) => d.data)).toEqual([doc('a')]));

    const errorsBefore = events.errors.length;
    await admin.send(new DeleteObjectCommand({ Bucket: 'flags', Key: 'flags.json' }));
    await waitFor(() => expect(events.errors.length).toBeGreaterThan(errorsBefore));
    expect(events.errors.slice(errorsBefore).every((e) => e.reason === 'not_found')).toBe(true);
    expect(events.data).toHaveLength(1);
  });

  it('reports a missing bucket as not_found (s3rver answers NoSuchBucket, 404)', async () => {
    const events = listen();
    await source('s3://no-such-bucket/flags.json').start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['not_found']);
    expect(events.errors[0].message).toMatch(/NoSuchBucket/);
  });

  it('reports unknown credentials as denied', async () => {
    await put('flags.json', doc('a'));
    const events = listen();
    await source('s3://flags/flags.json', {}, { clientConfig: { credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } } }).start(
      events.listener,
    );
    expect(events.data).toEqual([]);
    expect(events.errors.map((e) => e.reason)).toEqual(['denied']);
  });

  it('reports an unreachable endpoint as network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const events = listen();
    await source('s3://flags/flags.json', { endpoint: `http://127.0.0.1:${port}` }).start(events.listener);
    expect(events.errors.map((e) => e.reason)).toEqual(['network']);
  });

  it('reports a stalled endpoint as timeout', async () => {
    const stalled = createServer(() => {});
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const events = listen();
      const port = (stalled.address() as AddressInfo).port;
      await source('s3://flags/flags.json', { endpoint: `http://127.0.0.1:${port}` }, { timeoutMs: 150 }).start(events.listener);
      expect(events.errors.map((e) => e.reason)).toEqual(['timeout']);
    } finally {
      await Promise.all(sources.splice(0).map((s) => s.stop()));
      stalled.closeAllConnections();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });

  it('stop() aborts an in-flight request without reporting it', async () => {
    let arrived = 0;
    const stalled = createServer(() => void arrived++);
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const events = listen();
      const port = (stalled.address() as AddressInfo).port;
      const s = source('s3://flags/flags.json', { endpoint: `http://127.0.0.1:${port}` }, { timeoutMs: 30_000 });
      const starting = s.start(events.listener);
      await waitFor(() => expect(arrived).toBe(1));
      const t0 = performance.now();
      await s.stop();
      await starting;
      expect(performance.now() - t0).toBeLessThan(1_000);
      await sleep(100);
      expect(events.errors).toEqual([]);
      expect(arrived).toBe(1);
    } finally {
      stalled.closeAllConnections();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    }
  });

  it('stop() ends polling: no requests and no events afterwards', async () => {
    await put('flags.json', doc('a'));
    const before = resourceCounts();
    const events = listen();
    const s = source('s3://flags/flags.json');
    await s.start(events.listener);
    await waitFor(() => expect(gets().length).toBeGreaterThanOrEqual(2));
    await s.stop();
    const count = exchanges.length;
    expect(resourceCounts().Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    await put('flags.json', doc('b'));
    await sleep(300);
    expect(exchanges).toHaveLength(count);
    expect(events.data).toHaveLength(1);
    expect(events.errors).toEqual([]);
  });

  it('is built by createSource, with credentials from the SDK default chain (environment)', async () => {
    await put('flags.json', doc('env'));
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    delete process.env.AWS_PROFILE;
    try {
      const s = createSource({ uri: 's3://flags/flags.json', provider: 's3', endpoint, forcePathStyle: true, region: 'us-east-1' });
      sources.push(s);
      expect(s).toBeInstanceOf(S3Source);
      const events = listen();
      await s.start(events.listener);
      expect(events.errors).toEqual([]);
      expect(events.data.map((d) => d.data)).toEqual([doc('env')]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('falls back to us-east-1 when neither the config nor the environment names a region', async () => {
    await put('flags.json', doc('no-region'));
    const saved = { ...process.env };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_PROFILE;
    process.env.AWS_CONFIG_FILE = join(directory, 'no-such-config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(directory, 'no-such-credentials');
    try {
      const events = listen();
      await source('s3://flags/flags.json', { region: undefined }).start(events.listener);
      expect(events.errors).toEqual([]);
      expect(events.data.map((d) => d.data)).toEqual([doc('no-region')]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('parses s3 uris and classifies SDK errors', () => {
    expect(parseS3Uri('s3://bucket/dir/flags.json')).toEqual({ bucket: 'bucket', key: 'dir/flags.json' });
    expect(parseS3Uri('s3://bucket/a%20b')).toEqual({ bucket: 'bucket', key: 'a%20b' });
    expect(() => parseS3Uri('s3://bucket')).toThrow(/s3:\/\/bucket\/key/);
    expect(() => parseS3Uri('s3://bucket/')).toThrow();
    const err = (name: string, status?: number) => ({ name, $metadata: { httpStatusCode: status } });
    expect(classifyS3Error(err('NotModified', 304))).toBe('not_modified');
    expect(classifyS3Error(err('NoSuchKey', 404))).toBe('not_found');
    expect(classifyS3Error(err('NotFound', 404))).toBe('not_found');
    expect(classifyS3Error(err('AccessDenied', 403))).toBe('denied');
    expect(classifyS3Error(err('CredentialsProviderError'))).toBe('denied');
    expect(classifyS3Error(err('InternalError', 500))).toBe('http_status');
    expect(classifyS3Error(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('network');
  });
});
