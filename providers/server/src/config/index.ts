/** Option and FLAGD_* environment resolution of the server provider. */
export {
  DEFAULTS,
  ENV_VARS,
  defaultContextEnricher,
  optionsHelp,
  resolveConfig,
  type CacheType,
  type ContextEnricher,
  type ResolvedConfig,
  type ResolverType,
  type VexilProviderOptions,
} from './options.js';
// One error class for both providers, so a caller handling either branches on the same code and guard.
export { ProviderConfigError, ProviderConfigErrorCode, isProviderConfigError } from '@vexil/shared';
export { GRPC_STATUS_CODES, grpcStatusCode, grpcStatusName, type GrpcStatusName } from './grpc-status.js';
