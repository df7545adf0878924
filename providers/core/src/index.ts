/**
 * @vexil/core: flagd's flag semantics as a library. No Node or DOM imports, no eval.
 */

// For applications, providers and servers.
export { Evaluator } from './evaluator.js';
// What a browser needs of the Evaluator: loading JSON text and resolving (a smaller bundle).
export { Engine } from './engine.js';
export { asType } from './resolve.js';
export {
  ErrorCode,
  Reason,
  type ConfigWarning,
  type EvaluationContext,
  type EvaluatorOptions,
  type FlagMetadata,
  type FlagValueType,
  type JsonObject,
  type JsonValue,
  type ResolutionDetails,
  type ResolvedDetails,
  type ResolvedFlag,
  type ResolveType,
  type SetFlagsResult,
} from './types.js';
export { ConfigWarningCode, FlagConfigError, FlagConfigErrorCode, RuleError, isFlagConfigError } from './errors.js';

// For tools and checks that work on single rules or need the hashing primitives.
export { compileRule, type CompileRuleOptions } from './rule.js';
export { murmur3Utf8, bucketOf } from './murmur3.js';
export { MAX_DOCUMENT_DEPTH } from './json.js';
export { MAX_REF_EXPANSION } from './flag-set.js';
export { DEFAULT_BUDGET as DEFAULT_EVALUATION_BUDGET } from './logic/compile.js';
