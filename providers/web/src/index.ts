/** @vexil/web-provider: the public API. */
export { VexilWebProvider } from './vexil-web-provider.js';
// Only the class: every export of this entry ends up in a page's bundle, and the code catalogue
// and type guard are in @vexil/shared for the callers who want them.
export { ProviderConfigError } from '@vexil/shared';
export {
  type VexilWebProviderOptions,
  type WebProviderConfig,
  type WebProviderMode,
} from './options.js';
