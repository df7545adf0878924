/**
 * VexilProvider: an OpenFeature server provider for Vexil and flagd daemons, a drop-in for
 * @openfeature/flagd-provider (same options, same FLAGD_* variables).
 *
 * Lifecycle, as the OpenFeature spec and @openfeature/server-sdk expect. The SDK itself emits
 * READY when `initialize` resolves and ERROR (or FATAL, for a ProviderFatalError) when it
 * rejects; the provider emits only what happens afterwards:
 *
 * - CONFIGURATION_CHANGED with `flagsChanged` when the daemon changes flags;
 * - STALE at once when the connection breaks, ERROR if it is not back within `retryGracePeriod`
 *   seconds; the resolver reconnects with exponential backoff and jitter meanwhile;
 * - READY when it is back, then CONFIGURATION_CHANGED for the flags that changed while it was
 *   away (the official provider announces none);
 * - ERROR with PROVIDER_FATAL for a status in `fatalStatusCodes` on the first connection.
 *
 * `onClose` stops every stream, watcher and timer, so a process that closes its providers exits.
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type JsonValue,
  type Logger,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { resolveConfig, type ResolvedConfig, type VexilProviderOptions } from './config/index.js';
import { FileResolver } from './resolvers/file.js';
import { InProcessResolver } from './resolvers/in-process.js';
import type { Resolver, ResolverEvents } from './resolvers/resolver.js';
import { RpcResolver } from './resolvers/rpc.js';

type State = 'NOT_READY' | 'READY' | 'STALE' | 'ERROR' | 'FATAL' | 'CLOSED';

function createResolver(config: ResolvedConfig, logger: Logger | undefined): Resolver {
  const common = {
    ...config,
    fatalStatusCodes: new Set(config.fatalStatusCodeNumbers),
  };
  switch (config.resolverType) {
    case 'file':
      return new FileResolver({ path: config.offlineFlagSourcePath as string, pollIntervalMs: config.offlinePollIntervalMs }, logger);
    case 'in-process':
      return new InProcessResolver(common, logger);
    default:
      return new RpcResolver({ ...common, maxCacheSize: config.cache === 'lru' ? config.maxCacheSize : 0 }, logger);
  }
}

export class VexilProvider implements Provider {
  readonly metadata = { name: 'vexil' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  /** The options after defaults and FLAGD_* variables, as this provider runs with them. */
  readonly config: ResolvedConfig;

  private resolver: Resolver;
  private state: State = 'NOT_READY';
  private graceTimer: NodeJS.Timeout | undefined;

  /**
   * @throws ProviderConfigError for an invalid option or FLAGD_* variable (naming it), and when
   *   the TLS certificate cannot be read.
   */
  constructor(
    options?: VexilProviderOptions,
    private readonly logger?: Logger,
  ) {
    this.config = resolveConfig(options);
    for (const name of this.config.unknownFatalStatusCodes) logger?.warn(`fatalStatusCodes: "${name}" is not a gRPC status code; ignored`);
    this.resolver = createResolver(this.config, logger);
  }

  async initialize(_context?: EvaluationContext): Promise<void> {
    if (this.state === 'CLOSED') {
      // Set again after a close (the SDK allows it): start afresh with a new connection.
      this.resolver = createResolver(this.config, this.logger);
      this.state = 'NOT_READY';
    }
    const events: ResolverEvents = {
      reconnected: (flagsChanged) => {
        this.clearGrace();
        if (this.state === 'CLOSED' || this.state === 'FATAL') return;
        this.state = 'READY';
        this.events.emit(ProviderEvents.Ready, { message: 'reconnected' });
        if (flagsChanged.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
      },
      changed: (flagsChanged) => {
        if (this.state === 'CLOSED') return;
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
      },
      lost: (message) => {
        // Only a provider that was READY goes STALE; one that never started stays in the SDK's ERROR.
        if (this.state !== 'READY') return;
        this.state = 'STALE';
        this.events.emit(ProviderEvents.Stale, { message });
        this.graceTimer = setTimeout(() => {
          this.graceTimer = undefined;
          if (this.state !== 'STALE') return;
          this.state = 'ERROR';
          this.resolver.clearCache();
          this.logger?.error(`not reconnected within the ${this.config.retryGracePeriod} s grace period: ${message}`);
          this.events.emit(ProviderEvents.Error, { message });
        }, this.config.retryGracePeriod * 1000);
      },
      fatal: (message) => {
        this.clearGrace();
        if (this.state === 'CLOSED') return;
        const wasStarting = this.state === 'NOT_READY';
        this.state = 'FATAL';
        this.logger?.error(message);
        // During initialize the rejection (a ProviderFatalError) tells the SDK.
        if (!wasStarting) this.events.emit(ProviderEvents.Error, { message, errorCode: ErrorCode.PROVIDER_FATAL });
      },
    };
    try {
      await this.resolver.connect(events);
      if (this.state === 'NOT_READY') this.state = 'READY';
    } catch (err) {
      if (this.state === 'NOT_READY') this.state = 'ERROR';
      throw err;
    }
  }

  async onClose(): Promise<void> {
    this.state = 'CLOSED';
    this.clearGrace();
    await this.resolver.disconnect();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<boolean>> {
    // In-process answers are synchronous: the SDK awaits whatever it gets, and a plain object
    // saves allocating a promise per evaluation.
    return this.resolver.resolve('boolean', flagKey, defaultValue, context, logger) as Promise<ResolutionDetails<boolean>>;
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<string>> {
    return this.resolver.resolve('string', flagKey, defaultValue, context, logger) as Promise<ResolutionDetails<string>>;
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<number>> {
    return this.resolver.resolve('number', flagKey, defaultValue, context, logger) as Promise<ResolutionDetails<number>>;
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<T>> {
    return this.resolver.resolve('object', flagKey, defaultValue, context, logger) as Promise<ResolutionDetails<T>>;
  }

  private clearGrace(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }
}
