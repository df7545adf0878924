/** Start and stop for the daemon's Fastify servers (management, OFREP). */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../telemetry/logger.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** Listens on the configured host and port; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number }>;
  /** Stops listening and waits for in-flight requests. */
  close(): Promise<void>;
}

export function listenable(app: FastifyInstance, options: { host: string; port: number; logger: Logger }, name: string): RunningServer {
  return {
    app,
    async start() {
      await app.listen({ host: options.host, port: options.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      options.logger.info({ port }, `${name} service listening at ${port}`);
      return { port };
    },
    async close() {
      await app.close();
    },
  };
}
