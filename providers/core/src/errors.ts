/** A catalogue of codes written `{ NAME: 0 }`: each becomes its own name (the bundle spells it once). */
export function codes<T extends Record<string, 0>>(names: T): { readonly [K in keyof T]: K } {
  for (const k in names) (names as Record<string, unknown>)[k] = k;
  return names as never;
}

/**
 * The engine's error catalogue. Every code is stable: callers (the daemon, the management API)
 * branch on `code`, never on message text. README.md lists the same codes; a test keeps the two
 * in step.
 */
export const FlagConfigErrorCode = codes({
  /** The configuration string is not valid JSON. */
  INVALID_JSON: 0,
  /** The root, or `flags`, or `$evaluators` is not a JSON object (or `flags` an array of keyed flags). */
  INVALID_CONFIG: 0,
  /** An object passed to setFlags holds something JSON cannot (a function, undefined, a cycle). */
  NOT_JSON: 0,
  /** The document nests deeper than the engine's limit. */
  NESTING_TOO_DEEP: 0,
  /** A flag definition is not an object. */
  INVALID_FLAG: 0,
  /** A flag's `state` is neither "ENABLED" nor "DISABLED". */
  INVALID_STATE: 0,
  /** A flag's `variants` is missing or not an object. */
  INVALID_VARIANTS: 0,
  /** A flag's `defaultVariant` names no variant of the flag. */
  DEFAULT_VARIANT_NOT_FOUND: 0,
  /** Flag set or flag `metadata` is not an object. */
  INVALID_METADATA: 0,
  /** Two flags in the array form share a key. */
  DUPLICATE_FLAG_KEY: 0,
  /** `$ref` substitution makes the flag set's rules larger by more than `maxRefExpansion`. */
  RULE_TOO_LARGE: 0,
  /** `strict` is on and the configuration has warnings; they are in `warnings`. */
  STRICT_VALIDATION: 0,
});
export type FlagConfigErrorCode = (typeof FlagConfigErrorCode)[keyof typeof FlagConfigErrorCode];

/**
 * Warning codes: what flagd accepts but its JSON schema does not (flagd logs these and loads the
 * flags anyway). `strict: true` turns them into a FlagConfigError with code STRICT_VALIDATION.
 */
export const ConfigWarningCode = codes({
  /** The document has no `flags` (flagd loads it as an empty set). */
  MISSING_FLAGS: 0,
  /** A flag key is the empty string. */
  EMPTY_FLAG_KEY: 0,
  /** A flag has no variants. */
  EMPTY_VARIANTS: 0,
  /** A variant value is null or an array, which no flag type allows. */
  INVALID_VARIANT_VALUE: 0,
  /** A flag's variants are not all of one type (boolean, string, number or object). */
  MIXED_VARIANT_TYPES: 0,
  /** `defaultVariant` is neither a string nor null. */
  INVALID_DEFAULT_VARIANT: 0,
  /** A metadata value is not a string, number or boolean. */
  INVALID_METADATA_VALUE: 0,
  /** A targeting rule cannot be compiled (unknown operator, `$ref` to a missing evaluator, ...); the flag resolves PARSE_ERROR. */
  INVALID_TARGETING: 0,
  /** A targeting rule is not a JSON Logic object. */
  TARGETING_NOT_OBJECT: 0,
});
export type ConfigWarningCode = (typeof ConfigWarningCode)[keyof typeof ConfigWarningCode];

import type { ConfigWarning } from './types.js';

/** A configuration problem with the JSON path where it is. */
export type ConfigIssue = ConfigWarning;

/** Thrown by `setFlags` when a flag set is rejected; the previous flags stay in force. */
export class FlagConfigError extends Error {
  override readonly name = 'FlagConfigError';
  declare readonly code: FlagConfigErrorCode;
  declare readonly path: string;
  /** With code STRICT_VALIDATION: every warning that made strict mode refuse the set. */
  declare readonly warnings: readonly ConfigIssue[];

  constructor(code: FlagConfigErrorCode, path: string, message: string, options?: { cause?: unknown; warnings?: ConfigIssue[] }) {
    // Error reads only `cause` from the options, and only when it is there.
    super(`${message} (at ${path})`, options);
    this.code = code;
    this.path = path;
    this.warnings = Object.freeze(options?.warnings ?? []);
  }
}

/** Type guard that also works across bundle copies of the engine, where `instanceof` does not. */
export function isFlagConfigError(err: unknown): err is FlagConfigError {
  return err instanceof Error && err.name === 'FlagConfigError' && typeof (err as FlagConfigError).code === 'string';
}

/** Thrown when a JSON Logic rule cannot be compiled. Inside a flag set it becomes PARSE_ERROR for that flag. */
export class RuleError extends Error {
  override readonly name = 'RuleError';
  /** JSON path relative to the rule's root, e.g. `$.if[0]`. */
  declare readonly path: string;
  constructor(path: string, message: string) {
    super(`${message} (at ${path})`);
    this.path = path;
  }
}

/** Builds a JSON path segment for a key: `.name` when it is an identifier, `["odd key"]` otherwise. */
export function pathKey(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}
