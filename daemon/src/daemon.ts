/**
 * The daemon: sources feed the store; the store feeds the servers. Nothing else pushes to clients.
 * `startDaemon` brings everything up from a parsed configuration; `stop()` drains in-flight calls,
 * tells stream subscribers provider_shutdown (browser rule streams: `event: shutdown`, ended
 * before the OFREP server closes), and stops every source.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AuditLog, loadAuditKeysSync } from './admin/audit-log.js';
import { Authenticator } from './admin/auth.js';
import { FileRepository } from './admin/file-repository.js';
import { FlagService } from './admin/flag-service.js';
import type { FlagRepository } from './admin/repository.js';
import { S3Repository } from './admin/s3-repository.js';
import type { DaemonConfig } from './config/daemon-config.js';
import { defaultMaxConnections, readOpenFileLimit, StreamLimiter, type ServerLimits } from './servers/connection-limits.js';
import { createManagementServer } from './servers/management/management-server.js';
import { createEvaluationServer, type EvaluationServer } from './servers/evaluation/evaluation-server.js';
import { createOfrepServer } from './servers/ofrep/ofrep-server.js';
import { createSyncServer, type SyncServer } from './servers/sync/sync-server.js';
import { createSource } from './sources/create-source.js';
import { SourceFailureReason, type Source } from './sources/source.js';
import { FlagStore } from './store/flag-store.js';
import type { Logger } from './telemetry/logger.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';

export interface RunningDaemon {
  readonly store: FlagStore;
  readonly metrics: Metrics;
  /** The ports actually bound (differs from the configuration when it asked for port 0). */
  readonly ports: { readonly evaluation: number; readonly management: number; readonly sync: number; readonly ofrep: number };
  stop(): Promise<void>;
}

export interface DaemonDeps {
  logger: Logger;
  metrics?: Metrics;
}

export async function startDaemon(config: DaemonConfig, deps: DaemonDeps): Promise<RunningDaemon> {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const store = new FlagStore(config.sources.map((s) => s.uri));
  const host = config.host;
  // Read once at start: a missing or unreadable certificate fails the start with its path.
  const tls = config.tls ? { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) } : undefined;

  const admin = createAdmin(config, metrics, logger, store);
  const limits = connectionLimits(config, metrics, logger);
  const management = createManagementServer({ store, metrics, logger, host, port: config.managementPort, api: admin.api, limits: { timeouts: limits.timeouts, recorder: metrics } });
  const evaluation: EvaluationServer = createEvaluationServer({
    store,
    logger,
    metrics,
    host,
    port: config.port,
    corsOrigins: config.corsOrigins,
    contextValues: config.contextValues,
    contextFromHeaders: config.contextFromHeaders,
    socketPath: config.socketPath,
    tls,
    streamDeadlineMs: config.streamDeadlineMs,
    limits,
  });
  const sync: SyncServer = createSyncServer({
    store,
    logger,
    metrics,
    host,
    port: config.syncPort,
    contextValues: config.contextValues,
    tls,
    socketPath: config.syncSocketPath,
    streamDeadlineMs: config.streamDeadlineMs,
    disableSyncMetadata: config.disableSyncMetadata,
    limits,
  });
  const ofrep = createOfrepServer({
    store,
    metrics,
    logger,
    host,
    port: config.ofrepPort,
    corsOrigins: config.corsOrigins,
    browserRules: config.browserRules,
    contextValues: config.contextValues,
    contextFromHeaders: config.contextFromHeaders,
    limits,
  });

  // Management first, so /readyz answers 412 while sources load.
  const started: { close(): Promise<void> }[] = [];
  const sources: Source[] = [];
  const stopAll = async () => {
    await Promise.allSettled(sources.map((s) => s.stop()));
    await Promise.allSettled(started.map((s) => s.close()));
    await admin.repository?.close();
  };
  try {
    const mgmt = await management.start();
    started.push(management);
    const evalPort = await evaluation.start();
    started.push(evaluation);
    const syncPort = await sync.start();
    started.push(sync);
    const ofrepPort = await ofrep.start();
    started.push(ofrep);
    logger.info({ evaluation: evalPort.port, management: mgmt.port, sync: syncPort.port, ofrep: ofrepPort.port }, 'vexil listening');

    for (const sc of config.sources) sources.push(createSource(sc, { logger }));
    await Promise.all(
      sources.map((source) =>
        source.start({
          data(update) {
            const r = store.update(update.source, update.data);
            if (r.ok) {
              metrics.sourceSync(update.source);
              metrics.flagsLoaded(store.evaluator().keys().length);
              if (r.changed) logger.info({ source: update.source, version: update.version, flags: store.evaluator().keys().length }, 'flag set updated');
              for (const w of r.warnings) logger.warn({ source: update.source, code: w.code, path: w.path }, w.message);
            } else {
              metrics.sourceError(update.source, SourceFailureReason.INVALID_FLAGS);
              logger.error(
                { source: update.source, code: r.error.code, path: r.error.path },
                `refused flag set from ${update.source}: ${r.error.message}; still serving the last good flags`,
              );
            }
          },
          error(failure) {
            metrics.sourceError(failure.source, failure.reason);
            logger.error({ source: failure.source, reason: failure.reason }, `${failure.message}; still serving the last good flags`);
          },
        }),
      ),
    );
    if (!store.ready) logger.warn({ pending: store.pending() }, 'not ready: some sources have not delivered valid flags yet');
    const scheduler = admin.api.service && startScheduler(admin.api.service, logger);
    if (scheduler) started.push(scheduler);

    return {
      store,
      metrics,
      ports: { evaluation: evalPort.port, management: mgmt.port, sync: syncPort.port, ofrep: ofrepPort.port },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * One stream limiter for every streaming service, the connection cap of the evaluation, sync and
 * OFREP ports, and the timeouts of all four (README "Connection limits").
 */
function connectionLimits(config: DaemonConfig, metrics: Metrics, logger: Logger): ServerLimits {
  const fdLimit = readOpenFileLimit();
  const maxConnections = config.maxConnections ?? defaultMaxConnections(fdLimit);
  // Three capped ports at their caps must leave descriptors for the management port and the rest.
  if (fdLimit !== undefined && maxConnections > 0 && 3 * maxConnections >= fdLimit) {
    logger.warn(
      { maxConnections, openFileLimit: fdLimit },
      `--max-connections ${maxConnections} on three ports reaches the open-file limit ${fdLimit}: a flood can starve the management port; lower it or raise ulimit -n`,
    );
  }
  logger.info(
    { maxStreams: config.maxStreams, maxStreamsPerAddress: config.maxStreamsPerAddress, maxConnections, openFileLimit: fdLimit ?? 'unknown' },
    'connection limits',
  );
  return {
    streams: new StreamLimiter({ maxStreams: config.maxStreams, maxStreamsPerAddress: config.maxStreamsPerAddress, logger, recorder: metrics }),
    maxConnections,
    timeouts: { headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, idleTimeoutMs: config.idleTimeoutMs },
    recorder: metrics,
  };
}

/** The management API's parts: where writes go, the audit log, the tokens (docs/management-api.md). */
function createAdmin(config: DaemonConfig, metrics: Metrics, logger: Logger, store: FlagStore) {
  const auth = new Authenticator(config.adminTokens);
  const sourceUri = config.adminSource ?? config.sources.find((s) => s.provider === 'file')?.uri;
  const sourceConfig = config.sources.find((s) => s.uri === sourceUri);
  let repository: FlagRepository | undefined;
  if (sourceConfig?.provider === 'file') repository = new FileRepository(sourceConfig.uri);
  else if (sourceConfig?.provider === 's3') repository = new S3Repository(sourceConfig);
  const auditPath = config.auditLog ?? repository?.defaultAuditLog;
  // Read once at start, like the TLS files: a missing or malformed key file fails the start.
  const keys = config.auditKeyFile !== undefined ? loadAuditKeysSync(config.auditKeyFile) : undefined;
  const service =
    repository !== undefined && auditPath !== undefined
      ? new FlagService({
          repository,
          audit: new AuditLog(auditPath, { ...(keys ? { keys } : {}), ...(config.auditCheckpoint !== undefined ? { checkpointPath: config.auditCheckpoint } : {}) }),
          lastEvaluated: (key) => metrics.lastEvaluated(key),
          // Writes are refused while the source of truth differs from what the store serves from it.
          served: { text: () => store.sourceText(repository!.uri) },
        })
      : undefined;
  if (service) {
    logger.info(
      { adminSource: repository!.uri, auditLog: auditPath, auditKey: keys?.newest.kid, auditCheckpoint: service.audit.checkpointPath },
      `management API: writes go to ${repository!.uri}, audit log ${auditPath}`,
    );
    if (!keys) logger.warn('management API: no --audit-key-file: audit entries are plain sha256, which anyone who can write the log can rewrite undetected');
  }
  else logger.warn('management API: no file: or s3:// source to write to; flag routes answer 409 UNSUPPORTED_SOURCE');
  if (auth.loopbackOnly) logger.warn('management API: no --admin-token configured: answering loopback callers only, as actor "local" with the admin role');
  else logger.info({ tokens: config.adminTokens.map((t) => ({ name: t.name, role: t.role })) }, 'management API: bearer tokens configured');
  const version = (() => {
    try {
      return (createRequire(import.meta.url)('../package.json') as { version?: string }).version ?? 'unknown';
    } catch {
      return 'unknown';
    }
  })();
  return { repository, api: { service, auth, rateLimit: config.adminRateLimit, authFailureLimit: config.adminAuthFailureLimit, version } };
}

/**
 * Audits scheduled changes as they take effect (the compiled targeting already makes them
 * happen): wakes at the next change's time, and at least every minute to notice new schedules
 * and catch up after downtime. A failed write (the source changing under it) is retried.
 */
function startScheduler(service: FlagService, logger: Logger): { close(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    // One timer at a time: a wake-up (a new schedule) may run a tick while one is pending.
    clearTimeout(timer);
    let next: number | undefined;
    try {
      next = await service.applyDue();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'scheduled changes: could not record a change that took effect; retrying');
      next = Date.now() + 5_000;
    }
    if (closed) return;
    clearTimeout(timer);
    const delay = Math.min(60_000, Math.max(200, (next ?? Infinity) - Date.now() + 50));
    timer = setTimeout(() => {
      running = tick();
    }, delay);
    timer.unref();
  };
  running = tick();
  service.onSchedule = () => {
    if (closed) return;
    clearTimeout(timer);
    running = running.then(tick);
  };
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
