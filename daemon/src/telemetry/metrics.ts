/**
 * Prometheus metrics: flagd's metric and label names, plus our own under `vexil_`.
 *
 * flagd records OpenTelemetry instruments and exports them through the OTel Prometheus exporter,
 * which turns dots into underscores, appends the unit (`s` → `_seconds`, `By` → `_bytes`; `{…}`
 * annotations are dropped) and `_total` to monotonic counters; up-down counters become gauges.
 * Names and attributes below follow open-feature/flagd at
 *   core/pkg/telemetry/metrics.go @ 0a8b2cbac4a4a8bc820c2c25e3ca7320ebbb2c6f (semconv v1.34.0),
 *   core/pkg/telemetry/utils_test.go (latest stored: feature_flag.result.variant, semconv v1.34.0),
 *   docs/reference/monitoring.md (latest stored: "feature_flag.flagd.result.reason", the
 *   sync metrics and their buckets), flagd/pkg/runtime/from_config.go (service name "flagd").
 *
 *   feature_flag.flagd.impression            → feature_flag_flagd_impression_total
 *       feature_flag_key, feature_flag_result_variant, feature_flag_provider_name="flagd", feature_flag_reason
 *   feature_flag.flagd.result.reason          → feature_flag_flagd_result_reason_total
 *       feature_flag_provider_name, feature_flag_reason, and feature_flag_key on success or
 *       ExceptionTypeKeyName (the error code) on failure (flagd's attribute key, verbatim)
 *   http.server.request.duration (s)          → http_server_request_duration_seconds (prometheus.DefBuckets)
 *   http.server.response.body.size (By)       → http_server_response_body_size_bytes (100 × 10^0..7)
 *   http.server.active_requests ({request})   → http_server_active_requests (gauge)
 *       HTTP labels: service_name, http_route, http_request_method, http_response_status_code, url_scheme
 *   feature_flag.flagd.sync.active_streams    → feature_flag_flagd_sync_active_streams (gauge)
 *   feature_flag.flagd.sync.stream.duration   → feature_flag_flagd_sync_stream_duration_seconds
 *       selector, provider_id (when given), reason (duration only)
 *
 * Differences: flagd's exporter also adds `otel_scope_name`/`otel_scope_version` labels and a
 * `target_info` series, which are OTel bookkeeping and left out; `http_server_active_requests`
 * carries no status code (flagd's is always the pre-handler "200"). flagd has no gauge for
 * evaluation event streams; `vexil_event_streams_active` is ours, and so are the connection-limit
 * counters `vexil_streams_rejected_total{service,reason}` (a stream refused by --max-streams or
 * --max-streams-per-address) and `vexil_connections_rejected_total{service,reason}` (a connection
 * closed by --max-connections, or for sending no request within --headers-timeout).
 *
 * Every instance owns its Registry: nothing is registered in prom-client's global registry.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SourceFailureReason } from '../sources/source.js';

/** flagd's `feature_flag.provider.name` on every evaluation series. */
export const PROVIDER_NAME = 'flagd';
/** flagd's `service.name` on HTTP series (its runtime's svcName). */
export const SERVICE_NAME = 'flagd';

/** Prometheus client_golang's DefBuckets, which flagd configures for request duration. */
const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** prometheus.ExponentialBuckets(100, 10, 8), flagd's response size buckets. */
const RESPONSE_SIZE_BUCKETS = [1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** flagd's sync stream duration buckets: 30s … 3h. */
const SYNC_STREAM_BUCKETS = [30, 60, 120, 300, 480, 600, 1200, 1800, 3600, 10800];
/** Ours: one evaluation takes microseconds. */
const EVALUATION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1];

/** One flag evaluation, as a server reports it. */
export interface EvaluationRecord {
  /** The answering service, e.g. `flagd.evaluation.v1.Service` or `ofrep`. */
  service: string;
  /** The method, e.g. `ResolveBoolean`, `ResolveAll`, `evaluate`. */
  method: string;
  flagKey: string;
  variant?: string;
  reason: string;
  /** The OpenFeature error code when the evaluation failed (`FLAG_NOT_FOUND`, …). */
  errorCode?: string;
  /** Time spent evaluating; observed in `vexil_evaluation_duration_seconds`. */
  durationSeconds?: number;
  /** False when the evaluation failed: no impression, and the reason series carries the error code. */
  ok: boolean;
}

/** The labels of one HTTP request (flagd's HTTPAttributes). */
export interface RequestLabels {
  /** `service.name`; flagd's is `flagd` for every server. Default SERVICE_NAME. */
  service?: string;
  /** The route template, e.g. `/ofrep/v1/evaluate/flags/{key}`, or the path for RPCs. */
  route: string;
  /** HTTP method. */
  method: string;
  /** Default `http`. */
  scheme?: 'http' | 'https';
}

export interface RequestRecord extends RequestLabels {
  status: number;
  durationSeconds: number;
  responseBytes?: number;
}

export interface RouteMetrics {
  /** Counts one in-flight request; call the returned function once, when the response is sent. */
  start(): (status: number, responseBytes?: number) => void;
}

/** Attributes of a flagd.sync stream (flagd records them when the request carries them). */
export interface SyncStreamAttributes {
  selector?: string;
  providerId?: string;
}

/** Why a sync stream ended, as flagd labels `feature_flag.flagd.sync.stream.duration`. */
export type SyncStreamCloseReason = 'normal_close' | 'deadline_exceeded' | 'client_disconnect' | 'error';

export interface MetricsOptions {
  /** Collect prom-client's default process and Node.js metrics into this registry. Default true. */
  defaultMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** The Content-Type of `render()`'s text. */
  readonly contentType: string;
  /** The registry in Prometheus text format. */
  render(): Promise<string>;

  /** Impressions and reasons, as flagd's RecordEvaluation. */
  recordEvaluation(e: EvaluationRecord): void;
  /** Counts one in-flight request; call the returned function once, when the response is sent. */
  startRequest(r: RequestLabels): (status: number, responseBytes?: number) => void;
  /**
   * The request metrics of one route, bound once: `start()` is `startRequest` without building
   * label keys per request (a hot route's own bookkeeping must cost less than its work).
   */
  route(r: RequestLabels): RouteMetrics;
  /** Request duration and response size of a finished request. */
  recordRequest(r: RequestRecord): void;

  syncStreamOpened(attrs?: SyncStreamAttributes): void;
  /** `attrs` must equal the ones the stream was opened with. */
  syncStreamClosed(attrs?: SyncStreamAttributes, end?: { durationSeconds?: number; reason?: SyncStreamCloseReason }): void;
  /** Evaluation event streams (flagd.evaluation EventStream); ours, flagd has no such gauge. */
  eventStreamOpened(service: string): void;
  eventStreamClosed(service: string): void;
  /** A stream (`sse`, `evaluation`, `sync`) refused by a cap: `per_address` or `total`. */
  streamRejected(service: string, reason: string): void;
  /** A connection closed early on a port: `max_connections` or `no_request`. */
  connectionRejected(service: string, reason: string): void;

  /** A source failed to fetch (its SourceFailure's reason) or its document was refused (`invalid_flags`). */
  sourceError(source: string, reason: SourceFailureReason): void;
  /** A source delivered a document the store accepted. */
  sourceSync(source: string, at?: Date): void;
  /** The number of flags in the merged flag set. */
  flagsLoaded(count: number): void;
  /** When `flagKey` was last evaluated successfully (ms since the epoch, to the second), if ever. */
  lastEvaluated(flagKey: string): number | undefined;
}

type HttpLabel = 'service_name' | 'http_route' | 'http_request_method' | 'http_response_status_code' | 'url_scheme';
type ImpressionLabel = 'feature_flag_key' | 'feature_flag_result_variant' | 'feature_flag_provider_name' | 'feature_flag_reason';
type ReasonLabel = 'feature_flag_provider_name' | 'feature_flag_reason' | 'feature_flag_key' | 'ExceptionTypeKeyName';
type SyncLabel = 'selector' | 'provider_id';

/**
 * Hot-path recording without prom-client on the hot path: prom-client validates and hashes a
 * label set on every call (several microseconds: a third of an OFREP request). Counts are kept
 * here under a key naming the metric and its label values, and handed to prom-client when
 * metrics are scraped (each deferred metric's `collect`).
 */
interface Level {
  labels: Record<string, string>;
  metric: Gauge<string>;
  value: number;
  dirty: boolean;
}

class Deferred {
  private readonly counts = new Map<string, { labels: Record<string, string>; metric: Counter<string>; n: number }>();
  private readonly levels = new Map<string, Level>();

  count(metric: Counter<string>, key: string, labels: () => Record<string, string>): void {
    this.counter(metric, key, labels).n++;
  }

  /** The count record of one counter series, for callers that bind it once and count into it directly. */
  counter(metric: Counter<string>, key: string, labels: () => Record<string, string>): { n: number } {
    let e = this.counts.get(key);
    if (e === undefined) this.counts.set(key, (e = { labels: labels(), metric, n: 0 }));
    return e;
  }

  /** The level record of one gauge series, for callers that bind it once and update it directly. */
  level(metric: Gauge<string>, key: string, labels: () => Record<string, string>): Level {
    let e = this.levels.get(key);
    if (e === undefined) this.levels.set(key, (e = { labels: labels(), metric, value: 0, dirty: false }));
    return e;
  }

  flush(): void {
    for (const e of this.counts.values()) {
      if (e.n > 0) e.metric.inc(e.labels, e.n);
      e.n = 0;
    }
    for (const e of this.levels.values()) {
      if (e.dirty) e.metric.set(e.labels, e.value);
      e.dirty = false;
    }
  }
}

/**
 * A histogram that buckets each observation itself (a binary search and three additions) and
 * renders prom-client's series format when scraped; prom-client's own Histogram costs a label
 * hash per observation, too much for a per-request metric.
 */
interface Series {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

class FastHistogram {
  readonly aggregator = 'sum';
  readonly type = 'histogram';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(key: string, labels: () => Record<string, string>, value: number): void {
    this.observeInto(this.seriesOf(key, labels), value);
  }

  /** One series, for callers that bind it once and observe into it directly. */
  seriesOf(key: string, labels: () => Record<string, string>): Series {
    let e = this.series.get(key);
    if (e === undefined) this.series.set(key, (e = { labels: labels(), counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    return e;
  }

  observeInto(e: Series, value: number): void {
    // Counts per bucket, made cumulative when rendered.
    let lo = 0;
    let hi = this.buckets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (value <= this.buckets[mid]) hi = mid;
      else lo = mid + 1;
    }
    if (lo < this.buckets.length) e.counts[lo]++;
    e.sum += value;
    e.count++;
  }

  async get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const e of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += e.counts[i];
        values.push({ value: acc, labels: { ...e.labels, le: this.buckets[i] }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: e.count, labels: { ...e.labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: e.sum, labels: e.labels, metricName: `${this.name}_sum` });
      values.push({ value: e.count, labels: e.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
    this.generation++;
  }

  /** Bumped by reset(): a series bound before it is no longer rendered. */
  generation = 0;

  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const deferred = new Deferred();
  // Every metric fed through `deferred` catches up before it is read.
  const collect = () => deferred.flush();

  const impressions = new Counter<ImpressionLabel>({
    name: 'feature_flag_flagd_impression_total',
    help: 'Measures the number of evaluations for a given flag.',
    labelNames: ['feature_flag_key', 'feature_flag_result_variant', 'feature_flag_provider_name', 'feature_flag_reason'],
    registers,
    collect,
  });
  const reasons = new Counter<ReasonLabel>({
    name: 'feature_flag_flagd_result_reason_total',
    help: 'Measures the number of evaluations for a given reason.',
    labelNames: ['feature_flag_provider_name', 'feature_flag_reason', 'feature_flag_key', 'ExceptionTypeKeyName'],
    registers,
    collect,
  });
  const requestDuration = new FastHistogram('http_server_request_duration_seconds', 'Measures the duration of inbound HTTP requests.', REQUEST_DURATION_BUCKETS).register(registry);
  const responseSize = new FastHistogram('http_server_response_body_size_bytes', 'Measures the size of HTTP response messages.', RESPONSE_SIZE_BUCKETS).register(registry);
  const activeRequests = new Gauge<Exclude<HttpLabel, 'http_response_status_code'>>({
    name: 'http_server_active_requests',
    help: 'Measures the number of concurrent HTTP requests that are currently in-flight.',
    labelNames: ['service_name', 'http_route', 'http_request_method', 'url_scheme'],
    registers,
    collect,
  });
  const syncActive = new Gauge<SyncLabel>({
    name: 'feature_flag_flagd_sync_active_streams',
    help: 'Measures the number of currently active gRPC sync streaming connections.',
    labelNames: ['selector', 'provider_id'],
    registers,
  });
  const syncDuration = new Histogram<SyncLabel | 'reason'>({
    name: 'feature_flag_flagd_sync_stream_duration_seconds',
    help: 'Measures the duration of gRPC sync streaming connections.',
    labelNames: ['selector', 'provider_id', 'reason'],
    buckets: SYNC_STREAM_BUCKETS,
    registers,
  });

  const evaluationDuration = new FastHistogram('vexil_evaluation_duration_seconds', 'Time spent evaluating flags, per evaluation.', EVALUATION_BUCKETS).register(registry);
  const eventStreams = new Gauge<'service'>({
    name: 'vexil_event_streams_active',
    help: 'Open event streams: evaluation EventStream per service, and sse (rules for browsers).',
    labelNames: ['service'],
    registers,
  });
  const streamsRejected = new Counter<'service' | 'reason'>({
    name: 'vexil_streams_rejected_total',
    help: 'Streams refused by a stream cap, per service (sse, evaluation, sync) and cap (per_address, total).',
    labelNames: ['service', 'reason'],
    registers,
  });
  const connectionsRejected = new Counter<'service' | 'reason'>({
    name: 'vexil_connections_rejected_total',
    help: 'Connections closed early, per port (evaluation, sync, ofrep, management) and reason (max_connections, no_request).',
    labelNames: ['service', 'reason'],
    registers,
  });
  // `reason` takes only SourceFailureReason values (sources/source.ts), a closed set alerts can match.
  const sourceErrors = new Counter<'source' | 'reason'>({
    name: 'vexil_source_errors_total',
    help: 'Failed fetches and refused documents, per source and reason.',
    labelNames: ['source', 'reason'],
    registers,
  });
  const sourceSyncs = new Counter<'source'>({
    name: 'vexil_source_syncs_total',
    help: 'Documents a source delivered that the store accepted.',
    labelNames: ['source'],
    registers,
  });
  const sourceLastSync = new Gauge<'source'>({
    name: 'vexil_source_last_sync_timestamp_seconds',
    help: 'Unix time of the last document a source delivered that the store accepted.',
    labelNames: ['source'],
    registers,
  });
  const flagsLoaded = new Gauge({
    name: 'vexil_flags_loaded',
    help: 'Flags in the merged flag set.',
    registers,
  });

  const httpLabels = (r: RequestLabels) => ({
    service_name: r.service ?? SERVICE_NAME,
    http_route: r.route,
    http_request_method: r.method,
    url_scheme: r.scheme ?? 'http',
  });
  const syncLabels = (a: SyncStreamAttributes | undefined): Partial<Record<SyncLabel, string>> => {
    const l: Partial<Record<SyncLabel, string>> = {};
    if (a?.selector) l.selector = a.selector;
    if (a?.providerId) l.provider_id = a.providerId;
    return l;
  };
  const recordRequest = (r: RequestRecord) => {
    const status = String(r.status);
    const service = r.service ?? SERVICE_NAME;
    const scheme = r.scheme ?? 'http';
    const key = `${service}\u0000${r.route}\u0000${r.method}\u0000${status}\u0000${scheme}`;
    const labels = () => ({ ...httpLabels(r), http_response_status_code: status });
    requestDuration.observe(key, labels, r.durationSeconds);
    if (r.responseBytes !== undefined) responseSize.observe(key, labels, r.responseBytes);
  };

  // Route handles by label key: startRequest callers that pass fresh objects share one handle.
  const routes = new Map<string, RouteMetrics>();
  function route(r: RequestLabels): RouteMetrics {
    const service = r.service ?? SERVICE_NAME;
    const scheme = r.scheme ?? 'http';
    const key = `${service}\u0000${r.route}\u0000${r.method}\u0000${scheme}`;
    let handle = routes.get(key);
    if (handle !== undefined) return handle;
    const labels = () => httpLabels(r);
    const active = deferred.level(activeRequests as Gauge<string>, key, labels);
    // The duration and size series of each status code this route has answered with.
    const byStatus = new Map<number, { duration: Series; size: Series }>();
    const seriesFor = (status: number) => {
      let e = byStatus.get(status);
      if (e === undefined) {
        const code = String(status);
        const k = `${service}\u0000${r.route}\u0000${r.method}\u0000${code}\u0000${scheme}`;
        const withStatus = () => ({ ...httpLabels(r), http_response_status_code: code });
        byStatus.set(status, (e = { duration: requestDuration.seriesOf(k, withStatus), size: responseSize.seriesOf(k, withStatus) }));
      }
      return e;
    };
    handle = {
      start() {
        active.value++;
        active.dirty = true;
        const started = performance.now();
        let finished = false;
        return (status, responseBytes) => {
          if (finished) return;
          finished = true;
          active.value--;
          active.dirty = true;
          const e = seriesFor(status);
          requestDuration.observeInto(e.duration, (performance.now() - started) / 1000);
          if (responseBytes !== undefined) responseSize.observeInto(e.size, responseBytes);
        };
      },
    };
    routes.set(key, handle);
    return handle;
  }

  // Last successful evaluation per flag key, for the stale report (only known keys: bounded by the
  // flag set). The hot path reads a clock an unref'd timer refreshes once per second, started
  // with the first evaluation, instead of calling Date.now() per evaluation.
  const lastEvaluation = new Map<string, number>();
  let lastDuration: { service: string; method: string; series: Series; generation: number } | undefined;
  // Per flag key (bounded by the flag set, as lastEvaluation): the count records of its last successful outcome.
  const okSeries = new Map<string, { variant: string; reason: string; impression: { n: number }; reasonCount: { n: number } }>();
  let coarseNow = 0;
  let clock: NodeJS.Timeout | undefined;
  const startClock = () => {
    coarseNow = Date.now();
    clock = setInterval(() => (coarseNow = Date.now()), 1000);
    clock.unref();
  };

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),

    recordEvaluation(e) {
      if (e.ok) {
        if (clock === undefined) startClock();
        lastEvaluation.set(e.flagKey, coarseNow);
        const variant = e.variant ?? '';
        // The two series of a flag's last outcome stay bound: building their keys per evaluation
        // was a sixth of a bulk OFREP request (every flag, every request). Counted on every call.
        let b = okSeries.get(e.flagKey);
        if (b === undefined || b.variant !== variant || b.reason !== e.reason) {
          const reason = e.reason;
          b = {
            variant,
            reason,
            impression: deferred.counter(impressions as Counter<string>, `${e.flagKey}\u0000${variant}\u0000${reason}`, () => ({
              feature_flag_key: e.flagKey,
              feature_flag_result_variant: variant,
              feature_flag_provider_name: PROVIDER_NAME,
              feature_flag_reason: reason,
            })),
            // flagd records the key only for successful evaluations (unknown keys would be unbounded).
            reasonCount: deferred.counter(reasons as Counter<string>, `ok\u0000${e.flagKey}\u0000${reason}`, () => ({
              feature_flag_provider_name: PROVIDER_NAME,
              feature_flag_reason: reason,
              feature_flag_key: e.flagKey,
            })),
          };
          okSeries.set(e.flagKey, b);
        }
        b.impression.n++;
        b.reasonCount.n++;
      } else {
        const code = e.errorCode ?? 'GENERAL';
        deferred.count(reasons as Counter<string>, `error\u0000${e.reason}\u0000${code}`, () => ({
          feature_flag_provider_name: PROVIDER_NAME,
          feature_flag_reason: e.reason,
          ExceptionTypeKeyName: code,
        }));
      }
      if (e.durationSeconds !== undefined) {
        // The last (service, method) series stays bound: a bulk request observes it once per flag.
        const d = lastDuration;
        if (d !== undefined && d.service === e.service && d.method === e.method && d.generation === evaluationDuration.generation) {
          evaluationDuration.observeInto(d.series, e.durationSeconds);
        } else {
          const { service, method } = e;
          const series = evaluationDuration.seriesOf(`${service}\u0000${method}`, () => ({ service, method }));
          lastDuration = { service, method, series, generation: evaluationDuration.generation };
          evaluationDuration.observeInto(series, e.durationSeconds);
        }
      }
    },

    startRequest(r) {
      return route(r).start();
    },
    route,
    recordRequest,

    syncStreamOpened(attrs) {
      syncActive.inc(syncLabels(attrs));
    },
    syncStreamClosed(attrs, end) {
      const labels = syncLabels(attrs);
      syncActive.dec(labels);
      if (end?.durationSeconds !== undefined) {
        syncDuration.observe(end.reason ? { ...labels, reason: end.reason } : labels, end.durationSeconds);
      }
    },
    eventStreamOpened(service) {
      eventStreams.inc({ service });
    },
    eventStreamClosed(service) {
      eventStreams.dec({ service });
    },
    streamRejected(service, reason) {
      streamsRejected.inc({ service, reason });
    },
    connectionRejected(service, reason) {
      connectionsRejected.inc({ service, reason });
    },

    sourceError(source, reason) {
      sourceErrors.inc({ source, reason });
    },
    sourceSync(source, at = new Date()) {
      sourceSyncs.inc({ source });
      sourceLastSync.set({ source }, at.getTime() / 1000);
    },
    flagsLoaded(count) {
      flagsLoaded.set(count);
    },
    lastEvaluated(flagKey) {
      return lastEvaluation.get(flagKey);
    },
  };
}
