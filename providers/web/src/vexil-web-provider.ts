/**
 * VexilWebProvider: an OpenFeature web (static-context) provider for the Vexil daemon.
 *
 * `local` mode fetches the rule set (`GET /vexil/v1/rules`, ETag) and evaluates it in the page
 * with @vexil/core; `remote` mode has the daemon evaluate every flag at once (OFREP bulk, ETag),
 * for flag sets whose rules must not reach browsers. In both, `initialize` and `onContextChange`
 * resolve every flag for the context once, so a `resolve*Evaluation` call is a map lookup, and an
 * SSE stream keeps the answers current.
 *
 * Lifecycle. The web SDK emits READY when `initialize` resolves, ERROR (FATAL for a
 * ProviderFatalError) when it rejects, and RECONCILING / CONTEXT_CHANGED around
 * `onContextChange`; the provider emits only what happens afterwards:
 * - CONFIGURATION_CHANGED listing the flags whose value or variant changed for the current context;
 * - STALE at once when the stream breaks, ERROR if it is not back within `retryGracePeriod`;
 * - READY when it is back, then CONFIGURATION_CHANGED for what changed meanwhile;
 * - ERROR with PROVIDER_FATAL when the daemon answers 401 or 403 (no more retries).
 */
import { OpenFeatureEventEmitter, type EvaluationContext, type JsonValue, type Logger, type Provider, type ResolutionDetails } from '@openfeature/web-sdk';
import { createFlagSession, type FlagSession } from './flag-session.js';
import { resolveOptions, type VexilWebProviderOptions, type WebProviderConfig } from './options.js';

export class VexilWebProvider implements Provider {
  readonly metadata = { name: 'vexil-web' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  /** The options in force, with defaults. */
  readonly config: WebProviderConfig;
  private readonly s: FlagSession;

  /** @throws ProviderConfigError naming the option at fault. */
  constructor(options: VexilWebProviderOptions, logger?: Logger) {
    this.config = resolveOptions(options);
    this.s = createFlagSession(this.config, this.events, logger);
  }

  /**
   * Resolves once the flags for `context` are in hand. Rejects with a ProviderFatalError when the
   * daemon answers 401 or 403 (for local mode's 403 RULES_NOT_EXPOSED, saying to use mode
   * 'remote'), otherwise with a GeneralError while it keeps trying in the background (READY when
   * it gets through). In local mode with `cache`, a rule set kept from an earlier visit lets it
   * resolve while the daemon is unreachable: the page evaluates the kept rules, and the provider
   * turns STALE right after READY.
   */
  initialize(context: EvaluationContext = {}): Promise<void> {
    return this.s.start(context);
  }

  /** Local mode re-evaluates synchronously (no RECONCILING); remote mode fetches, and rejects if that fails. */
  onContextChange(_oldContext: EvaluationContext, newContext: EvaluationContext): Promise<void> | void {
    return this.s.setContext(newContext);
  }

  /** Stops the stream, requests in flight and every timer. */
  async onClose(): Promise<void> {
    this.s.stop();
  }

  // The `context` argument is not read: in the static-context paradigm it is the one set last,
  // for which every flag was resolved already.
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean> {
    return this.s.resolve('boolean', flagKey, defaultValue);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return this.s.resolve('string', flagKey, defaultValue);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return this.s.resolve('number', flagKey, defaultValue);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return this.s.resolve('object', flagKey, defaultValue);
  }
}
