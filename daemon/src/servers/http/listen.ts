/**
 * Start and stop for the daemon's Fastify servers (management, OFREP): shared by both, so it lives
 * beside them rather than inside either.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../telemetry/logger.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** Listens on the configured host and port; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number }>;
  /** Stops listening and waits for in-flight requests; connections without one are closed. */
  close(): Promise<void>;
}

export function listenable(app: FastifyInstance, options: { host: string; port: number; logger: Logger }, name: string): RunningServer {
  // Connections that have not sent a request yet: a browser's preconnect, or a client opening a
  // fresh connection after an aborted stream (undici does). Node's close() counts them as active,
  // not idle, so each would hold close() until the headers timeout.
  const fresh = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    fresh.add(socket);
    socket.once('close', () => fresh.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage) => fresh.delete(req.socket));
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
      // While closing, a request would get 503 anyway: drop the connections that have none,
      // now and as they come, until the server has closed.
      const sweep = () => {
        for (const socket of fresh) socket.destroy();
      };
      sweep();
      const timer = setInterval(sweep, 50);
      try {
        await app.close();
      } finally {
        clearInterval(timer);
      }
    },
  };
}
