/**
 * Names that appear on the wire between flagd-compatible clients and servers, typed out once.
 * HTTP/2 and gRPC metadata keys are lower case; HTTP/1 headers are case-insensitive, so the same
 * spelling serves both.
 */

/**
 * The request header (gRPC metadata key) that selects a flag set: `flagSetId=<id>`, `source=<uri>`
 * or a bare source path. flagd reads it on evaluation, OFREP and sync requests, where it wins over
 * the sync request's deprecated `selector` field.
 */
export const FLAGD_SELECTOR_HEADER = 'flagd-selector';
