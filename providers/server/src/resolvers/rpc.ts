/**
 * RPC mode: every evaluation is a unary flagd.evaluation.v2 call with a deadline. STATIC results
 * (the same for every context) are kept in an LRU cache and answered with reason CACHED until the
 * daemon's EventStream says the flag changed. While the stream is down the cache keeps serving
 * (the provider is STALE); it is dropped when the grace period ends (ERROR) and on reconnect,
 * since changes made meanwhile were not announced.
 */
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, StandardResolutionReasons, type EvaluationContext, type JsonValue, type Logger, type ResolutionDetails } from '@openfeature/server-sdk';
import { evaluationV2 } from '@vexil/proto';
import { grpcServiceDefinition } from '@vexil/proto/grpc-js';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import { channelOf, type ChannelSettings } from '../grpc/channel.js';
import { Lru } from './lru.js';
import type { FlagType, Resolver, ResolverEvents } from './resolver.js';
import { startSession, type Session } from './stream-session.js';

const EvaluationClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(evaluationV2.Service), 'Service');

export interface RpcSettings extends ChannelSettings {
  deadlineMs: number;
  streamDeadlineMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  fatalStatusCodes: ReadonlySet<number>;
  /** 0 disables the cache. */
  maxCacheSize: number;
  /** Sent as the `flagd-selector` header on every call, so the daemon evaluates that flag set. */
  selector?: string;
}

const METHODS: Record<FlagType, string> = { boolean: 'ResolveBoolean', string: 'ResolveString', number: 'ResolveFloat', object: 'ResolveObject' };

interface ResolveResponse {
  value?: JsonValue;
  reason: string;
  variant?: string;
  metadata?: Record<string, JsonValue>;
}

type ServerEvent = { type: string; data?: Record<string, JsonValue> };

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: ResolveResponse) => void) => void;

/** flagd's status codes back to OpenFeature error codes (the daemon maps them the other way). */
function errorCodeOf(code: number): ErrorCode {
  switch (code) {
    case grpc.status.NOT_FOUND:
      return ErrorCode.FLAG_NOT_FOUND;
    case grpc.status.INVALID_ARGUMENT:
      return ErrorCode.TYPE_MISMATCH;
    case grpc.status.DATA_LOSS:
      return ErrorCode.PARSE_ERROR;
    default:
      return ErrorCode.GENERAL;
  }
}

export class RpcResolver implements Resolver {
  private readonly client: grpc.Client;
  private readonly target: string;
  private readonly cache: Lru<string, ResolutionDetails<JsonValue>> | undefined;
  private session: Session | undefined;
  /** The cache serves only while the event stream vouches for it (or during the STALE grace). */
  private cacheValid = false;
  /** Whether the daemon has ever said provider_ready: before that a failed call is PROVIDER_NOT_READY. */
  private everReady = false;
  /** The call metadata: the selector header, when there is one. */
  private readonly metadata = new grpc.Metadata();

  constructor(
    private readonly settings: RpcSettings,
    private readonly logger?: Logger,
  ) {
    const channel = channelOf(settings);
    this.target = channel.target;
    this.client = new EvaluationClient(channel.target, channel.credentials, channel.options);
    this.cache = settings.maxCacheSize > 0 ? new Lru(settings.maxCacheSize) : undefined;
    if (settings.selector) this.metadata.set(FLAGD_SELECTOR_HEADER, settings.selector);
  }

  connect(events: ResolverEvents): Promise<void> {
    const session = startSession<ServerEvent>(
      {
        label: `event stream to ${this.target}`,
        settings: this.settings,
        open: (deadline) =>
          (this.client as unknown as { EventStream(r: unknown, md: grpc.Metadata, o: grpc.CallOptions): grpc.ClientReadableStream<ServerEvent> }).EventStream(
            {},
            this.metadata,
            deadline ? { deadline } : {},
          ),
        handle: (event) => {
          switch (event.type) {
            case 'provider_ready':
              this.cacheValid = true;
              this.everReady = true;
              return { current: true, changed: [] };
            case 'configuration_change': {
              const flags = event.data?.['flags'];
              const keys = flags !== null && typeof flags === 'object' && !Array.isArray(flags) ? Object.keys(flags) : [];
              for (const key of keys) for (const type of Object.keys(METHODS)) this.cache?.delete(`${type}\u0000${key}`);
              return { current: false, changed: keys };
            }
            default:
              // keep_alive; provider_shutdown is followed by the end of the stream, a loss.
              return undefined;
          }
        },
        // Changes made while we were away were not announced: start the cache afresh.
        recovered: () => this.cache?.clear(),
      },
      events,
    );
    this.session = session;
    return session.ready;
  }

  async disconnect(): Promise<void> {
    this.session?.stop();
    this.session = undefined;
    this.cache?.clear();
    this.client.close();
  }

  clearCache(): void {
    this.cache?.clear();
    this.cacheValid = false;
  }

  resolve<T extends JsonValue>(type: FlagType, flagKey: string, defaultValue: T, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<T>> {
    const cacheKey = `${type}\u0000${flagKey}`;
    if (this.cache !== undefined && this.cacheValid) {
      const hit = this.cache.get(cacheKey);
      if (hit !== undefined) return Promise.resolve({ ...hit, reason: StandardResolutionReasons.CACHED } as ResolutionDetails<T>);
    }
    const method = (this.client as unknown as Record<string, Unary>)[METHODS[type]];
    return new Promise((resolve) => {
      method.call(this.client, { flagKey, context }, this.metadata, { deadline: Date.now() + this.settings.deadlineMs }, (err, res) => {
        if (err || res === undefined) {
          // A daemon that answers with a flagd status code is there; one that cannot be reached
          // before it was ever ready means the provider is not ready, as in-process says.
          const reached = err !== null && err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.DEADLINE_EXCEEDED;
          const code = !this.everReady && !reached ? ErrorCode.PROVIDER_NOT_READY : err ? errorCodeOf(err.code) : ErrorCode.GENERAL;
          if (code === ErrorCode.GENERAL) logger.warn(`flag '${flagKey}': ${err?.details || err?.message || 'no response'} (${this.target})`);
          return resolve({ value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: code, errorMessage: err?.details || err?.message });
        }
        const details: ResolutionDetails<T> = {
          // flagd answers without a value when the caller's default applies (no default variant, disabled).
          value: res.value === undefined ? defaultValue : (res.value as T),
          reason: res.reason,
          variant: res.variant,
          flagMetadata: (res.metadata ?? {}) as ResolutionDetails<T>['flagMetadata'],
        };
        if (this.cache !== undefined && this.cacheValid && res.reason === StandardResolutionReasons.STATIC) this.cache.set(cacheKey, details);
        resolve(details);
      });
    });
  }
}
