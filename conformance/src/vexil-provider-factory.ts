/** Our `@vexil/server-provider` as a ProviderFactory: the steps' options, with the mode as its resolverType. */
import { VexilProvider } from '@vexil/server-provider';
import type { ProviderFactory } from './provider-factory.js';

export const vexilProviderFactory: ProviderFactory = {
  name: 'vexil-provider',
  create: (mode, options, logger) => new VexilProvider({ ...options, resolverType: mode }, logger),
};
