/**
 * The management port (flagd's -m, default 8014): liveness, readiness and Prometheus metrics.
 *
 * As flagd (flagd/pkg/service/flag-evaluation/connect_service.go, startMetricsServer):
 * `/healthz` answers 200 as soon as the server is up; `/readyz` answers 412 Precondition Failed
 * until every source has delivered one good document, then 200; both with an empty body on
 * success. Our 412 names the sources still pending. flagd also serves grpc.health.v1 on this
 * port; that is not served here.
 */
import { fastify, type FastifyPluginAsync } from 'fastify';
import type { FlagStore } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { listenable, type RunningServer } from './listen.js';

export type { RunningServer };

/** What the routes need from the store. */
export type ReadinessSource = Pick<FlagStore, 'ready' | 'pending' | 'evaluator'>;

export interface ManagementRoutesOptions {
  store: ReadinessSource;
  metrics: Metrics;
}

export interface ManagementServerOptions extends ManagementRoutesOptions {
  logger: Logger;
  host: string;
  port: number;
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
  const app = fastify({ logger: false });
  void app.register(managementRoutes, { store: options.store, metrics: options.metrics });
  return listenable(app, options, 'management');
}
