export {
  BrowserErrorCode,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_SHUTDOWN_GRACE_MS,
  MAX_SELECTOR_LENGTH,
  RULES_ROUTE,
  STREAM_ROUTE,
  browserRoutes,
  type BrowserRoutesOptions,
} from './browser-routes.js';
export { ALL_FLAGS, RuleSets, exposedByMetadata, type RuleSet } from './rule-sets.js';
export { SSE_HEADERS, SSE_SERVICE, SseStreams, type StreamMode } from './sse-streams.js';
