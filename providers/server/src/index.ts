/** @vexil/server-provider: the public API. */
export { VexilProvider } from './vexil-provider.js';
export * from './config/index.js';
