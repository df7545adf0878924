/**
 * Public value types of the engine. They mirror OpenFeature's shapes (same field names and string
 * values) without importing @openfeature/core, so the engine has no runtime dependencies and the
 * providers can hand these objects to either SDK unchanged.
 */

import { codes } from './errors.js';

/** A JSON value as found in flag variants and evaluation contexts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** What the caller knows about the subject of an evaluation; `targetingKey` drives bucketing. */
export type EvaluationContext = { targetingKey?: string; [key: string]: unknown };

/** flagd's resolution reasons (a subset of OpenFeature's StandardResolutionReasons). */
export const Reason = codes({
  STATIC: 0,
  TARGETING_MATCH: 0,
  DEFAULT: 0,
  DISABLED: 0,
  ERROR: 0,
});
export type Reason = (typeof Reason)[keyof typeof Reason];

/** OpenFeature error codes the engine can return; the strings equal OpenFeature's ErrorCode values. */
export const ErrorCode = codes({
  FLAG_NOT_FOUND: 0,
  PARSE_ERROR: 0,
  TYPE_MISMATCH: 0,
  GENERAL: 0,
});
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type FlagMetadata = Record<string, string | number | boolean>;

export interface ResolutionDetails<T> {
  value: T;
  variant?: string;
  reason: Reason;
  errorCode?: ErrorCode;
  errorMessage?: string;
  /** Flag set metadata with the flag's own metadata merged over it. Never null; may be empty. */
  flagMetadata: FlagMetadata;
}

/** The type a caller asks for; `number` covers flagd's integer and float. */
export type FlagValueType = 'boolean' | 'string' | 'number' | 'object';

/**
 * What `resolve` checks a value against: OpenFeature's four types, plus flagd's `integer` (a number,
 * truncated toward zero) and `struct` (an object that is not an array or null, as flagd's wire
 * carries objects in a google.protobuf.Struct).
 */
export type ResolveType = FlagValueType | 'integer' | 'struct';

/**
 * A flag's answer before any caller default (`resolveAny`): no `value` when the flag is unknown,
 * disabled, failed (see `errorCode`), or resolved to the caller's code default.
 */
export type ResolvedDetails = Omit<ResolutionDetails<JsonValue>, 'value'> & { value?: JsonValue };

/** One flag's answer from `resolveAll`, with its key; `type` is the flag's value type. */
export type ResolvedFlag = ResolvedDetails & {
  flagKey: string;
  type: FlagValueType | undefined;
};

/** Something flagd accepts but warns about; `path` is a JSON path into the flag set, e.g. `$.flags["x"].variants`. */
export interface ConfigWarning {
  code: string;
  path: string;
  message: string;
}

export interface EvaluatorOptions {
  /** Turn configuration warnings into `FlagConfigError`s. Default false, as flagd. */
  strict?: boolean;
  /** Clock for `$flagd.timestamp`, in milliseconds; default `Date.now`. For tests. */
  now?: () => number;
  /**
   * Most that `$ref` substitution may add to a flag set's rules, all flags together: an evaluator
   * counts each time it is referenced, every JSON value in it one, a string or key one more per 16
   * characters. Past it the flag set is refused (RULE_TOO_LARGE). Default 1,000,000.
   */
  maxRefExpansion?: number;
  /**
   * Steps one evaluation may spend in `map`, `filter`, `all`, `some`, `none`, `reduce`, `merge`,
   * `cat` and dynamic arrays; past it the flag resolves ERROR (GENERAL). Default 1,000,000.
   */
  evaluationBudget?: number;
}

export interface SetFlagsResult {
  /** Keys added, changed or removed by this call, sorted. */
  changed: string[];
  added: string[];
  updated: string[];
  removed: string[];
  warnings: ConfigWarning[];
}
