/**
 * The error codes of an OFREP evaluation failure, as the OFREP specification closes them
 * (open-feature/protocol, service/openapi.yaml: `evaluationFailure` and `flagNotFound`; the same
 * five as @openfeature/ofrep-core's EvaluationFailureErrorCode). OpenFeature's other codes
 * (TYPE_MISMATCH, PROVIDER_NOT_READY, ...) are not OFREP codes: a server reports them as GENERAL.
 * daemon/README.md lists the codes with their statuses; a test keeps the three in step.
 */
export const OfrepErrorCode = {
  /** The flag is not in the selected flag set, or is disabled (flagd answers both this way). */
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  /** The flag's rules could not be parsed or compiled. */
  PARSE_ERROR: 'PARSE_ERROR',
  /** A rule needs `targetingKey` and the context has none. */
  TARGETING_KEY_MISSING: 'TARGETING_KEY_MISSING',
  /** The request's `context` is not an evaluation context (not an object, a bad value in it). */
  INVALID_CONTEXT: 'INVALID_CONTEXT',
  /** Any other failure to evaluate. */
  GENERAL: 'GENERAL',
} as const;
export type OfrepErrorCode = (typeof OfrepErrorCode)[keyof typeof OfrepErrorCode];

/** The HTTP status of each code: the specification answers FLAG_NOT_FOUND with 404, the rest with 400. */
export const OFREP_ERROR_STATUS: Readonly<Record<OfrepErrorCode, 400 | 404>> = Object.freeze({
  FLAG_NOT_FOUND: 404,
  PARSE_ERROR: 400,
  TARGETING_KEY_MISSING: 400,
  INVALID_CONTEXT: 400,
  GENERAL: 400,
});

/** Whether `code` is one of the catalogue's (a value read from a response, say). */
export function isOfrepErrorCode(code: unknown): code is OfrepErrorCode {
  return typeof code === 'string' && Object.hasOwn(OFREP_ERROR_STATUS, code);
}
