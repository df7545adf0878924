export { BULK_ROUTE, DEFAULT_BODY_LIMIT, SINGLE_ROUTE, createOfrepServer, ofrepRoutes, type OfrepRoutesOptions, type OfrepServerOptions } from './ofrep-server.js';
export { evaluateFlag, evaluateFlags, failureStatus, type BulkEvaluationSuccess, type EvaluationFailure, type EvaluationNote, type EvaluationSuccess } from './responses.js';
export { etagOf, ifNoneMatch } from './etag.js';
