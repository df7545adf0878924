/**
 * @vexil/shared: the public API. What the server provider, the web provider and the daemon must
 * agree on, and nothing that needs Node, the DOM or the engine. Every export is a constant, a
 * small class or a function, so bundlers drop what a package does not import.
 */
export { ProviderConfigError, ProviderConfigErrorCode, isProviderConfigError } from './config-error.js';
export { FLAGD_SELECTOR_HEADER } from './wire.js';
export { OFREP_ERROR_STATUS, OfrepErrorCode, isOfrepErrorCode } from './ofrep-error-code.js';
