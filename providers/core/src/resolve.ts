/**
 * The one place a flag's answer meets the type a caller asked for. The Evaluator's typed methods
 * go through it, and so do callers that hold answers resolved earlier (the web provider's
 * per-context results, an OFREP bulk response).
 */
import { ErrorCode, Reason, type ResolutionDetails, type ResolvedDetails, type ResolveType } from './types.js';

/**
 * `details` as a `type` answer: the caller's default where there is no value, TYPE_MISMATCH
 * (with flagd's message) where the value has another type. `integer` truncates toward zero as
 * flagd's ResolveInt does; `struct` is flagd's object rule for the daemon's wire, where an object
 * is a google.protobuf.Struct and so cannot be an array or null.
 */
export function asType<T>(details: ResolvedDetails, flagKey: string, type: ResolveType, defaultValue: T): ResolutionDetails<T> {
  const v = details.value;
  if (v === undefined) return { ...details, value: defaultValue };
  // Arrays and null are named as such: "got object" for an array would puzzle.
  const got = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  const want = type === 'integer' ? 'number' : type === 'struct' ? 'object' : type;
  if (type === 'object' ? typeof v !== want : got !== want) {
    return {
      value: defaultValue,
      reason: Reason.ERROR,
      errorCode: ErrorCode.TYPE_MISMATCH,
      errorMessage: `Evaluated type of the flag ${flagKey} does not match. Expected ${want}, got ${got}`,
      flagMetadata: details.flagMetadata,
    };
  }
  if (type === 'integer' && !Number.isInteger(v)) return { ...details, value: Math.trunc(v as number) } as ResolutionDetails<T>;
  return details as ResolutionDetails<T>;
}
