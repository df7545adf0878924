/** @vexil/web-provider: the public API. */
export { VexilWebProvider } from './vexil-web-provider.js';
export {
  ProviderConfigError,
  type VexilWebProviderOptions,
  type WebProviderConfig,
  type WebProviderMode,
} from './options.js';
