import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createSource } from '../src/sources/create-source.js';
import { FileSource } from '../src/sources/file/file-source.js';
import { GrpcSource } from '../src/sources/grpc/grpc-source.js';
import { HttpSource } from '../src/sources/http/http-source.js';
import { S3Source } from '../src/sources/s3/s3-source.js';
import type { SourceConfig } from '../src/sources/source.js';

describe('createSource', () => {
  it('builds a source per provider, keeping the uri', () => {
    const file = createSource({ uri: 'file:flags.json', provider: 'file' }, {});
    expect(file).toBeInstanceOf(FileSource);
    expect(file.uri).toBe('file:flags.json');
    expect(createSource({ uri: 'https://example.com/flags.json', provider: 'http', interval: 1 }, {})).toBeInstanceOf(HttpSource);
    expect(createSource({ uri: 's3://bucket/flags.json', provider: 's3', region: 'eu-west-1' }, {})).toBeInstanceOf(S3Source);
  });

  it('builds a grpc source that reports a failed first attempt when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const source = createSource({ uri: `grpc://127.0.0.1:${port}`, provider: 'grpc' }, {});
    expect(source).toBeInstanceOf(GrpcSource);
    expect(source.uri).toBe(`grpc://127.0.0.1:${port}`);
    const errors: string[] = [];
    await source.start({ data: () => {}, error: (e) => void errors.push(e.reason) }); // nothing listens: a failed first attempt
    await source.stop();
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses unknown providers and mismatched uris', () => {
    expect(() => createSource({ uri: 'x', provider: 'kubernetes' } as unknown as SourceConfig, {})).toThrow(/unsupported provider "kubernetes"/);
    expect(() => createSource({ uri: 'file:flags.json', provider: 'http' }, {})).toThrow(/not an http/);
    expect(() => createSource({ uri: 'https://x/y', provider: 's3' }, {})).toThrow(/s3:\/\/bucket\/key/);
  });
});
