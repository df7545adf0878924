/**
 * OFREP response bodies from @vexil/core results, as flagd answers them
 * (open-feature/flagd core/pkg/service/ofrep/models.go @ d203d7dfb5a2b0dd915d4f637c611ab3b0f01ce0):
 *
 * - success: 200 `{ value, key, reason, variant, metadata }`; a flag that defers to the caller's
 *   code default (no default variant) has no `value` and no `variant`, reason DEFAULT;
 * - FLAG_NOT_FOUND: 404 `{ key, errorCode, errorDetails, metadata }`;
 * - a disabled flag: 404 with errorCode FLAG_NOT_FOUND ("flag `x` is disabled"); flagd's
 *   evaluator answers disabled flags with its FLAG_DISABLED error, which OFREP reports this way;
 * - PARSE_ERROR: 400 PARSE_ERROR; anything else (GENERAL, TYPE_MISMATCH, …): 400 GENERAL.
 *   The OFREP spec's 400 codes (OfrepErrorCode in @vexil/shared) are PARSE_ERROR,
 *   TARGETING_KEY_MISSING, INVALID_CONTEXT and GENERAL; those pass through unchanged.
 *
 * OFREP requests carry no type: a flag answers whatever value its targeting picks (flagd's
 * ResolveAsAnyValue), through the engine's untyped `resolveAny`.
 */
import type { EvaluationContext, Evaluator, FlagMetadata, JsonValue } from '@vexil/core';
import { OFREP_ERROR_STATUS, OfrepErrorCode, isOfrepErrorCode } from '@vexil/shared';

export interface EvaluationSuccess {
  value?: JsonValue;
  key: string;
  reason: string;
  variant?: string;
  metadata: FlagMetadata;
}

export interface EvaluationFailure {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails: string;
  metadata?: FlagMetadata;
}

export interface BulkEvaluationSuccess {
  flags: (EvaluationSuccess | EvaluationFailure)[];
  metadata: FlagMetadata;
}

/** What a server reports to metrics for one evaluation (flagd's RecordEvaluation arguments). */
export interface EvaluationNote {
  flagKey: string;
  variant?: string;
  reason: string;
  errorCode?: string;
  ok: boolean;
}

export interface SingleResult {
  status: 200 | 400 | 404;
  body: EvaluationSuccess | EvaluationFailure;
  note: EvaluationNote;
  /**
   * For a success with a variant: the engine's shared, frozen details it came from. Equal
   * details give an equal body, so a server may keep the body's JSON text per details object.
   */
  shared?: object;
}

/** The HTTP status and OFREP error code for an evaluation error code. */
export function failureStatus(errorCode: string): { status: 400 | 404; errorCode: OfrepErrorCode } {
  // The engine's codes that OFREP knows pass through; the others (TYPE_MISMATCH, FLAG_DISABLED,
  // anything new) are not in the specification's closed list, so clients get GENERAL.
  const code = isOfrepErrorCode(errorCode) ? errorCode : OfrepErrorCode.GENERAL;
  return { status: OFREP_ERROR_STATUS[code], errorCode: code };
}

function failure(key: string, errorCode: string, details: string | undefined, metadata: FlagMetadata): { status: 400 | 404; body: EvaluationFailure } {
  const f = failureStatus(errorCode);
  return { status: f.status, body: { key, errorCode: f.errorCode, errorDetails: details ?? defaultDetails(key, f.errorCode), metadata } };
}

function defaultDetails(key: string, errorCode: OfrepErrorCode): string {
  switch (errorCode) {
    case OfrepErrorCode.FLAG_NOT_FOUND:
      return `flag '${key}' not found`;
    case OfrepErrorCode.PARSE_ERROR:
      return `flag '${key}' could not be parsed`;
    default:
      return `flag '${key}' could not be evaluated`;
  }
}

/** One flag, for `POST /ofrep/v1/evaluate/flags/{key}`. */
export function evaluateFlag(ev: Evaluator, key: string, ctx: EvaluationContext): SingleResult {
  const d = ev.resolveAny(key, ctx);
  if (d.errorCode !== undefined) {
    const f = failure(key, d.errorCode, d.errorMessage, d.flagMetadata);
    return { ...f, note: { flagKey: key, reason: d.reason, errorCode: d.errorCode, ok: false } };
  }
  if (d.reason === 'DISABLED') {
    return {
      status: 404,
      body: { key, errorCode: OfrepErrorCode.FLAG_NOT_FOUND, errorDetails: `flag '${key}' is disabled`, metadata: d.flagMetadata },
      note: { flagKey: key, reason: 'ERROR', errorCode: 'FLAG_DISABLED', ok: false },
    };
  }
  const note: EvaluationNote = { flagKey: key, variant: d.variant, reason: d.reason, ok: true };
  if (d.value === undefined || d.variant === undefined) {
    return { status: 200, body: { key, reason: d.reason, metadata: d.flagMetadata }, note };
  }
  return { status: 200, body: { value: d.value, key, reason: d.reason, variant: d.variant, metadata: d.flagMetadata }, note, shared: d };
}

/** Every enabled flag, for `POST /ofrep/v1/evaluate/flags`. Disabled flags are left out, as flagd does. */
export function evaluateFlags(ev: Evaluator, ctx: EvaluationContext): { body: BulkEvaluationSuccess; notes: EvaluationNote[] } {
  const flags: (EvaluationSuccess | EvaluationFailure)[] = [];
  const notes: EvaluationNote[] = [];
  for (const f of ev.resolveAll(ctx)) {
    const key = f.flagKey;
    if (f.errorCode !== undefined) {
      flags.push(failure(key, f.errorCode, f.errorMessage, f.flagMetadata).body);
      notes.push({ flagKey: key, reason: f.reason, errorCode: f.errorCode, ok: false });
      continue;
    }
    notes.push({ flagKey: key, variant: f.variant, reason: f.reason, ok: true });
    if (f.value === undefined || f.variant === undefined) flags.push({ key, reason: f.reason, metadata: f.flagMetadata });
    else flags.push({ value: f.value, key, reason: f.reason, variant: f.variant, metadata: f.flagMetadata });
  }
  return { body: { flags, metadata: ev.flagSetMetadata }, notes };
}
