/** Builds the source for a SourceConfig, by `provider`. */
import type { Logger } from 'pino';
import type { Source, SourceConfig } from './source.js';
import { FileSource } from './file/file-source.js';
import { GrpcSource } from './grpc/grpc-source.js';
import { HttpSource } from './http/http-source.js';
import { S3Source } from './s3/s3-source.js';

export interface SourceDeps {
  readonly logger?: Logger;
  /** The fetch the http source uses; the global one by default. */
  readonly fetch?: typeof fetch;
}

export function createSource(config: SourceConfig, deps: SourceDeps = {}): Source {
  const provider: string = config.provider;
  switch (provider) {
    case 'file':
      return new FileSource(config, { logger: deps.logger });
    case 'http':
      return new HttpSource(config, { logger: deps.logger, fetch: deps.fetch });
    case 's3':
      return new S3Source(config, { logger: deps.logger });
    case 'grpc':
      return new GrpcSource(config, { logger: deps.logger });
    default:
      throw new Error(`source ${config.uri}: unsupported provider ${JSON.stringify(provider)}`);
  }
}
