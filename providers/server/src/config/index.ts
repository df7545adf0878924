/** Option and FLAGD_* environment resolution of the server provider. */
export {
  DEFAULTS,
  ENV_VARS,
  defaultContextEnricher,
  resolveConfig,
  type CacheType,
  type ContextEnricher,
  type ResolvedConfig,
  type ResolverType,
  type VexilProviderOptions,
} from './options.js';
export { ProviderConfigError, ProviderConfigErrorCode, isProviderConfigError } from './config-error.js';
export { GRPC_STATUS_CODES, grpcStatusCode, grpcStatusName, type GrpcStatusName } from './grpc-status.js';
