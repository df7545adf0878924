/**
 * @vexil/daemon's public API: run the daemon in-process (embedding it, testing against it) as
 * `vexil start` does, from the same parsed configuration. Anything not named here is internal and
 * may change without notice; README.md ("Public entry points") lists the same names.
 */

// Running the daemon: parse the configuration once, then start it.
export { startDaemon, type DaemonDeps, type RunningDaemon } from './daemon.js';
export { parseConfig, DEFAULT_CONFIG, type ParseOptions, type ParseResult, type ReadFile } from './config/parse.js';
export { DEFAULT_PORTS, type DaemonConfig, type LogFormat } from './config/daemon-config.js';
export { createLogger, type Logger, type LoggerOptions } from './telemetry/logger.js';
export { createMetrics, type Metrics, type MetricsOptions } from './telemetry/metrics.js';
/** The `vexil` command itself (bin/vexil.js): resolves with the exit code. */
export { main } from './cli.js';

// What a running daemon exposes (`RunningDaemon.store`) and what feeds it.
export { FlagStore, type FlagChange, type StoreChange, type StoreListener, type UpdateResult, type RejectedUpdate } from './store/flag-store.js';
export { createSource, type SourceDeps } from './sources/create-source.js';
export {
  SourceFailureReason,
  type Source,
  type SourceConfig,
  type SourceData,
  type SourceFailure,
  type SourceListener,
} from './sources/source.js';
