/**
 * The management port (flagd's -m, default 8014): liveness, readiness and Prometheus metrics.
 *
 * As flagd (flagd/pkg/service/flag-evaluation/connect_service.go, startMetricsServer):
 * `/healthz` answers 200 as soon as the server is up; `/readyz` answers 412 Precondition Failed
 * until every source has delivered one good document, then 200; both with an empty body on
 * success. Our 412 names the sources still pending.
 *
 * Also as flagd (open-feature/flagd#863): gRPC health checking (`grpc.health.v1.Health`, Check and
 * Watch, for Kubernetes gRPC probes) on the same port. A connection that opens with the HTTP/2
 * preface goes to grpc-js, anything else to fastify. The status is NOT_SERVING until the store is
 * ready, SERVING after, and NOT_SERVING again while the daemon shuts down; for the overall
 * service ("") and each flagd service name. The health service comes from `grpc-health-check`
 * (grpc-node's own implementation).
 */
import * as grpc from '@grpc/grpc-js';
import { fastify, type FastifyPluginAsync } from 'fastify';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { FlagStore } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { managementApi, type ManagementApiOptions } from './api/api-plugin.js';
import { API_PREFIX } from './api/routes.js';
import { dashboardRoutes } from './dashboard/index.js';
import { capConnections, DEFAULT_TIMEOUTS, grpcIdleOptions, httpTimeoutOptions, trackHandedOverConnections, type ServerLimits } from '../connection-limits.js';
import { listenNet, sniffHttp2 } from '../net-listen.js';
import type { RunningServer } from '../http/listen.js';

export type { RunningServer };

/** What the routes need from the store. */
export type ReadinessSource = Pick<FlagStore, 'ready' | 'pending' | 'evaluator' | 'onReady'>;

/** The services a health check may name, besides "" (the daemon as a whole). */
export const HEALTH_SERVICES = ['flagd.evaluation.v1.Service', 'flagd.evaluation.v2.Service', 'flagd.sync.v1.FlagSyncService'] as const;

export interface ManagementRoutesOptions {
  store: ReadinessSource;
  metrics: Metrics;
}

export interface ManagementServerOptions extends ManagementRoutesOptions {
  logger: Logger;
  host: string;
  port: number;
  /** The management API under /api/v1 (docs/management-api.md); absent: not served. */
  api?: Omit<ManagementApiOptions, 'logger'>;
  /**
   * Header, request and idle timeouts (default connection-limits.ts's); a connection cap too if
   * given, though the daemon leaves this port uncapped: it is the reserve for the kill switch.
   */
  limits?: Omit<ServerLimits, 'streams'>;
}

/** The management routes, as an encapsulated plugin. */
export const managementRoutes: FastifyPluginAsync<ManagementRoutesOptions> = async (app, opts) => {
  const { store, metrics } = opts;

  app.get('/healthz', async (_req, reply) => reply.code(200).send());

  app.get('/readyz', async (_req, reply) => {
    if (store.ready) return reply.code(200).send();
    return reply.code(412).send({ status: 'not ready', pending: store.pending() });
  });

  app.get('/metrics', async (_req, reply) => {
    metrics.flagsLoaded(store.evaluator().keys().length);
    const text = await metrics.render();
    return reply.code(200).header('content-type', metrics.contentType).send(text);
  });
};

export function createManagementServer(options: ManagementServerOptions): RunningServer {
  // The API's schemas must refuse unknown fields (400), not strip them: ajv's removeAdditional off.
  const timeouts = options.limits?.timeouts ?? DEFAULT_TIMEOUTS;
  const http = httpTimeoutOptions(timeouts);
  const app = fastify({
    logger: false,
    ajv: { customOptions: { removeAdditional: false } },
    http: { headersTimeout: http.headersTimeout, connectionsCheckingInterval: http.connectionsCheckingInterval },
    requestTimeout: http.requestTimeout,
  });
  trackHandedOverConnections(app.server);
  void app.register(managementRoutes, { store: options.store, metrics: options.metrics });
  if (options.api) void app.register(managementApi, { ...options.api, logger: options.logger, prefix: API_PREFIX });
  void app.register(dashboardRoutes, { loopbackOnly: options.api?.auth.loopbackOnly ?? true });

  const health = new HealthImplementation();
  const setAll = (status: ServingStatus) => {
    for (const service of ['', ...HEALTH_SERVICES]) health.setStatus(service, status);
  };
  setAll('NOT_SERVING');
  const stopWatchingReady = options.store.onReady(() => setAll('SERVING'));
  const grpcServer = new grpc.Server(grpcIdleOptions(timeouts));
  health.addToServer(grpcServer);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  const sockets = new Set<Socket>();
  const net = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const onTimeout = () => options.limits?.recorder?.connectionRejected('management', 'no_request');
    sniffHttp2(socket, { timeoutMs: timeouts.headersTimeoutMs, onTimeout }, (http2) => {
      if (http2) injector.injectConnection(socket);
      else {
        app.server.emit('connection', socket);
        socket.resume();
      }
    });
  });
  capConnections(net, 'management', options.limits, options.logger);

  return {
    app,
    async start() {
      await app.ready();
      const port = await listenNet(net, options);
      options.logger.info({ port }, `management service listening at ${port}`);
      return { port };
    },
    async close() {
      stopWatchingReady();
      // Probes see the daemon going away before its ports close.
      setAll('NOT_SERVING');
      const closed = new Promise<void>((resolve) => net.close(() => resolve()));
      grpcServer.forceShutdown();
      await app.close();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
