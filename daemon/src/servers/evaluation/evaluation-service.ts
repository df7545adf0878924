/**
 * flagd.evaluation v1/v2, protocol-neutral: what every Resolve* and ResolveAll answers, and how an
 * error maps onto a status code. The gRPC (grpc-js) and Connect/gRPC-web (connect-node) adapters
 * call this; neither holds flag logic.
 */
import type { JsonObject, JsonValue, ResolveType } from '@vexil/core';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import type { FlagStore } from '../../store/flag-store.js';
import type { Metrics, RouteMetrics } from '../../telemetry/metrics.js';
import { mergeContext, type ContextOptions, type HeaderGetter } from '../context.js';

/**
 * The type a Resolve* method asks the engine for: ResolveFloat is `number`, ResolveInt `integer`
 * (truncated as flagd's int64 conversion does), ResolveObject `struct` (a JSON object, never an
 * array or null, as google.protobuf.Struct carries it).
 */
export type ResolveKind = Exclude<ResolveType, 'object'>;

/** gRPC status codes flagd answers with (the official providers map them back to OpenFeature codes). */
export const Status = {
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  DATA_LOSS: 15,
} as const;

/** An evaluation that ends in a gRPC/Connect error instead of a response. */
export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A Resolve* answer, before protocol encoding. `value` is absent when the caller's default applies. */
export interface Resolved {
  value?: JsonValue;
  reason: string;
  variant?: string;
  metadata: JsonObject;
  /**
   * The engine's frozen details this answer came from, when it has a variant. The engine hands out
   * the same frozen object for the same outcome (a static flag, one variant of a targeted flag),
   * and the answer is built from that object alone, so an adapter may keep its encoded response
   * per (method, details object), as the OFREP server keeps its JSON text.
   */
  shared?: object;
}

export interface AnyFlagResult {
  reason: string;
  variant: string;
  value: { case: 'boolValue'; value: boolean } | { case: 'stringValue'; value: string } | { case: 'doubleValue'; value: number } | { case: 'objectValue'; value: JsonObject };
  metadata: JsonObject;
}

/** What the service reports: evaluations, and (when given) calls and open event streams. */
export type EvaluationRecorder = Pick<Metrics, 'recordEvaluation'> & Partial<Pick<Metrics, 'route' | 'eventStreamOpened' | 'eventStreamClosed'>>;

export interface EvaluationServiceOptions extends ContextOptions {
  store: FlagStore;
  metrics?: EvaluationRecorder;
  /** `url_scheme` of the request metrics: `https` when the port serves TLS. */
  scheme?: 'http' | 'https';
  /** `--stream-deadline`: event streams end after this long with DEADLINE_EXCEEDED; 0 or absent: never. */
  streamDeadlineMs?: number;
}

const NO_CALL = (): void => {};


const CODE_DEFAULTS: Record<ResolveKind, JsonValue> = { boolean: false, string: '', number: 0, integer: 0, struct: {} };

export class EvaluationService {
  /** Request metrics per procedure path, bound on first use. */
  private readonly routes = new Map<string, RouteMetrics>();

  constructor(private readonly options: EvaluationServiceOptions) {}

  get streamDeadlineMs(): number {
    return this.options.streamDeadlineMs ?? 0;
  }

  /**
   * Starts the request metrics of one call, as flagd's HTTP middleware records the evaluation
   * port: route = the procedure path (`/flagd.evaluation.v1.Service/ResolveBoolean`), method POST.
   * Call the result with the HTTP status when the call ends (a stream, when it closes). Callers
   * pass known procedure paths only, so a client cannot grow the label set.
   */
  startCall(path: string): (status: number, responseBytes?: number) => void {
    const metrics = this.options.metrics;
    if (metrics?.route === undefined) return NO_CALL;
    let route = this.routes.get(path);
    if (route === undefined) this.routes.set(path, (route = metrics.route({ route: path, method: 'POST', scheme: this.options.scheme })));
    return route.start();
  }

  /** Counts an open event stream (`vexil_event_streams_active`); the result closes it, once. */
  streamOpened(service: string): () => void {
    const metrics = this.options.metrics;
    metrics?.eventStreamOpened?.(service);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      metrics?.eventStreamClosed?.(service);
    };
  }

  /**
   * One flag. Following flagd: FLAG_NOT_FOUND → NOT_FOUND, TYPE_MISMATCH → INVALID_ARGUMENT,
   * PARSE_ERROR → DATA_LOSS, GENERAL → UNKNOWN; DISABLED, and DEFAULT without a default variant,
   * answer with no variant so the provider returns the caller's code default.
   */
  resolve(service: string, method: string, kind: ResolveKind, flagKey: string, context: JsonObject | undefined, header: HeaderGetter): Resolved {
    const start = performance.now();
    const ev = this.options.store.evaluator(header(FLAGD_SELECTOR_HEADER));
    const ctx = mergeContext(context, header, this.options);
    const d = ev.resolve(kind, flagKey, CODE_DEFAULTS[kind], ctx);
    this.options.metrics?.recordEvaluation({
      service,
      method,
      flagKey,
      variant: d.variant,
      reason: d.reason,
      errorCode: d.errorCode,
      durationSeconds: (performance.now() - start) / 1000,
      ok: d.errorCode === undefined,
    });
    if (d.errorCode !== undefined) throw toError(d.errorCode, flagKey, d.errorMessage);
    const metadata = d.flagMetadata as JsonObject;
    if (d.variant === undefined) return { reason: d.reason, metadata };
    // Frozen: nothing can change the object after its answer was encoded (asType copies when it converts).
    return { value: d.value, reason: d.reason, variant: d.variant, metadata, shared: Object.isFrozen(d) ? d : undefined };
  }

  /** Every enabled flag that resolves to a value, keyed by flag key, as flagd's ResolveAll. */
  resolveAll(service: string, context: JsonObject | undefined, header: HeaderGetter): { flags: Record<string, AnyFlagResult>; metadata: JsonObject } {
    const start = performance.now();
    const selector = header(FLAGD_SELECTOR_HEADER);
    const ev = this.options.store.evaluator(selector);
    const ctx = mergeContext(context, header, this.options);
    const flags: Record<string, AnyFlagResult> = {};
    const all = ev.resolveAll(ctx);
    const seconds = (performance.now() - start) / 1000 / Math.max(1, all.length);
    for (const f of all) {
      this.options.metrics?.recordEvaluation({
        service,
        method: 'ResolveAll',
        flagKey: f.flagKey,
        variant: f.variant,
        reason: f.reason,
        errorCode: f.errorCode,
        durationSeconds: seconds,
        ok: f.errorCode === undefined,
      });
      if (f.errorCode !== undefined || f.value === undefined || f.variant === undefined) continue;
      const value = anyValue(f.value);
      if (value === undefined) continue;
      Object.defineProperty(flags, f.flagKey, {
        value: { reason: f.reason, variant: f.variant, value, metadata: f.flagMetadata as JsonObject },
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    return { flags, metadata: ev.flagSetMetadata as JsonObject };
  }
}

function anyValue(v: JsonValue): AnyFlagResult['value'] | undefined {
  switch (typeof v) {
    case 'boolean':
      return { case: 'boolValue', value: v };
    case 'string':
      return { case: 'stringValue', value: v };
    case 'number':
      return { case: 'doubleValue', value: v };
    default:
      return v !== null && !Array.isArray(v) ? { case: 'objectValue', value: v as JsonObject } : undefined;
  }
}

function toError(code: string, flagKey: string, message: string | undefined): EvaluationError {
  switch (code) {
    case 'FLAG_NOT_FOUND':
      return new EvaluationError(Status.NOT_FOUND, `flag not found: ${flagKey}`);
    case 'TYPE_MISMATCH':
      return new EvaluationError(Status.INVALID_ARGUMENT, message ?? `type mismatch for flag ${flagKey}`);
    case 'PARSE_ERROR':
      return new EvaluationError(Status.DATA_LOSS, message ?? `parse error in flag ${flagKey}`);
    default:
      return new EvaluationError(Status.UNKNOWN, message ?? `error evaluating flag ${flagKey}`);
  }
}
