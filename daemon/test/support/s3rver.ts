/**
 * A real S3 server on loopback for the tests (s3rver, with a `flags` bucket), in a temp directory
 * removed again by `close()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// s3rver ships no types; a non-literal specifier keeps the type checker out of it.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
const s3rverModule = 's3rver';
const { default: S3rver } = (await import(s3rverModule)) as { default: S3rverClass };

/** The keys s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  readonly endpoint: string;
  /** Where s3rver keeps its files (tests may also put other files here). */
  readonly directory: string;
  close(): Promise<void>;
}

export async function startS3rver(prefix: string): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'flags' }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
