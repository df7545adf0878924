/**
 * What a provider under test supplies to the daemon provider suites: a name for the summaries and a
 * way to build a provider for a resolver mode. The steps (./provider-steps.ts) decide where the
 * provider connects; the factory only turns those flagd-style options into its provider.
 */
import type { Logger, Provider } from '@openfeature/server-sdk';

/**
 * The testbed's resolver modes, selected by the `@rpc`, `@in-process` and `@file` tags: rpc
 * evaluates on the daemon's evaluation port, in-process syncs flags from its sync port, file reads
 * a flag file (no daemon).
 */
export type ProviderMode = 'rpc' | 'in-process' | 'file';

/**
 * The options the steps pass to `create`, in `@openfeature/flagd-provider`'s vocabulary. Always
 * present: `deadlineMs`, `keepAliveTime`, `retryGracePeriod` (upstream's reference harness
 * settings). Then, depending on the scenario:
 * - rpc and in-process: `host` and `port`, or `socketPath`; `tls: true` with `certPath` (a CA
 *   certificate, PEM) for the `ssl` provider;
 * - file: `offlineFlagSourcePath` (a flagd flag file; missing for the `unavailable` provider);
 * - the scenario's own options (`cache`, `selector`, `fatalStatusCodes`, ...).
 * `resolverType` is never set: the factory derives it from the mode.
 */
export type ProviderOptions = Record<string, unknown>;

export interface ProviderFactory {
  /** Shown in test names and summaries: `daemon conformance <name> @rpc: ...`. */
  name: string;
  /**
   * A new, not yet initialised provider for one scenario. `logger` collects what the provider logs
   * for the failure message (optional to use).
   */
  create(mode: ProviderMode, options: ProviderOptions, logger: Logger): Provider;
  /**
   * Called just before the scenario's provider is closed (close is abandoned after 3 s). For
   * providers that would otherwise keep working after close, e.g. a pending reconnect.
   */
  beforeClose?(provider: Provider): void;
}
