/**
 * The official `@openfeature/flagd-provider` (0.16.1) as a ProviderFactory. It has no file resolver
 * of its own: file mode is its in-process resolver reading `offlineFlagSourcePath`.
 */
import { FlagdProvider } from '@openfeature/flagd-provider';
import type { Provider } from '@openfeature/server-sdk';
import type { ProviderFactory } from './provider-factory.js';

/** The provider's constructor options (the package does not export the type). */
type FlagdProviderOptions = NonNullable<ConstructorParameters<typeof FlagdProvider>[0]>;

export const flagdProviderFactory: ProviderFactory = {
  name: 'flagd-provider',
  create(mode, options, logger) {
    const resolverType = mode === 'file' ? 'in-process' : mode;
    return new FlagdProvider({ ...(options as FlagdProviderOptions), resolverType }, logger);
  },
  beforeClose: neutraliseReconnects,
};

/**
 * With 0.16.1, a provider closed while a reconnect is pending keeps reconnecting: the closed gRPC
 * channel fails `waitForReady` at once, which schedules the next attempt at once. Cutting off the
 * service's (rpc) and the sync fetcher's (in-process) reconnect loop before closing stops that.
 * These are the package's internals; nothing happens if they are not there.
 */
function neutraliseReconnects(provider: Provider): void {
  const service = (provider as unknown as { _service?: Record<string, unknown> })._service;
  const fetcher = service?._dataFetcher as Record<string, unknown> | undefined;
  for (const target of [service, fetcher]) {
    if (!target) continue;
    if (typeof target.listen === 'function') target.listen = () => {};
    if (typeof target.reconnect === 'function') target.reconnect = () => {};
  }
}
