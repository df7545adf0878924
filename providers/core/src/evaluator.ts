/**
 * The Evaluator: holds one flag set and resolves flags against contexts with flagd's semantics.
 * Loading compiles; resolving only runs closures and returns shared, frozen details where the
 * answer does not depend on the caller's default value.
 */
import { FlagConfigError, FlagConfigErrorCode } from './errors.js';
import { FlagSetCompiler, type CompiledFlag, type Outcome } from './flag-set.js';
import { checkDepth, copyJson, parseJson } from './json.js';
import { DEFAULT_BUDGET, type Env } from './logic/compile.js';
import {
  ErrorCode,
  Reason,
  type ConfigWarning,
  type EvaluationContext,
  type EvaluatorOptions,
  type FlagMetadata,
  type FlagValueType,
  type JsonValue,
  type ResolutionDetails,
  type ResolvedFlag,
  type SetFlagsResult,
} from './types.js';

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});
const EMPTY_FLAGS: ReadonlyMap<string, CompiledFlag> = new Map();

function result(added: string[], updated: string[], removed: string[], warnings: readonly ConfigWarning[]): SetFlagsResult {
  return { changed: [...added, ...removed, ...updated], added, updated, removed, warnings: [...warnings] };
}

export class Evaluator {
  private flags: ReadonlyMap<string, CompiledFlag> = EMPTY_FLAGS;
  private setMetadata: Readonly<FlagMetadata> = Object.freeze({});
  // `declare`d fields are set in the constructor (or, lastText, by load): nothing to emit for them.
  private declare lastText: string | undefined;
  private lastWarnings: readonly ConfigWarning[] = [];
  private declare readonly strict: boolean;
  private declare readonly compiler: FlagSetCompiler;
  // Reused for every evaluation: resolving is synchronous and never re-entered.
  private declare readonly env: Env;

  constructor(options: EvaluatorOptions = {}) {
    this.strict = options.strict ?? false;
    this.compiler = new FlagSetCompiler(options.maxRefExpansion);
    const budget = options.evaluationBudget ?? DEFAULT_BUDGET;
    this.env = { ctx: EMPTY_CONTEXT, flagKey: '', ts: -1, now: options.now ?? Date.now, flagd: true, budget, left: budget };
  }

  /**
   * Replaces the flag set. Throws FlagConfigError (and keeps the current flags) when the document
   * is refused. Returns the keys added, removed or changed, as flagd-core does.
   */
  setFlags(config: string | object): string[] {
    return this.load(config).changed;
  }

  /** Like setFlags, with the change split by kind and the configuration warnings. */
  load(config: string | object): SetFlagsResult {
    if (typeof config === 'string' && config === this.lastText) {
      // A re-sync of the identical document: nothing to parse, nothing changed.
      return result([], [], [], this.lastWarnings);
    }
    let doc: unknown;
    if (typeof config === 'string') {
      doc = parseJson(config);
      checkDepth(doc);
    } else if (config !== null && typeof config === 'object') {
      doc = copyJson(config);
    } else {
      throw new FlagConfigError(FlagConfigErrorCode.INVALID_CONFIG, '$', `setFlags takes a JSON string or object, not ${config === null ? 'null' : typeof config}`);
    }
    const parsed = this.compiler.parse(doc, this.flags);
    const warnings: ConfigWarning[] = parsed.warnings.map((w) => ({ ...w }));
    if (this.strict && warnings.length > 0) {
      throw new FlagConfigError(
        FlagConfigErrorCode.STRICT_VALIDATION,
        warnings[0].path,
        `strict validation refused the flag set: ${warnings.length} warning(s), first: ${warnings[0].message}`,
        { warnings },
      );
    }

    const added: string[] = [];
    const updated: string[] = [];
    const removed: string[] = [];
    for (const [key, flag] of parsed.flags) {
      const old = this.flags.get(key);
      if (old === undefined) added.push(key);
      else if (old !== flag) updated.push(key);
    }
    for (const key of this.flags.keys()) if (!parsed.flags.has(key)) removed.push(key);

    this.flags = parsed.flags;
    this.setMetadata = parsed.metadata;
    this.lastText = typeof config === 'string' ? config : undefined;
    this.lastWarnings = warnings;
    return result(added, updated, removed, warnings);
  }

  /** Warnings about the flag set in force. */
  get warnings(): ConfigWarning[] {
    return [...this.lastWarnings];
  }

  /** Keys of every flag in the set, enabled or not. */
  keys(): string[] {
    return [...this.flags.keys()];
  }

  /** Flag set metadata (`metadata` at the document root). */
  get flagSetMetadata(): Readonly<FlagMetadata> {
    return this.setMetadata;
  }

  /** A flag's definition as loaded (`$ref`s inlined), frozen; undefined for an unknown key. */
  getDefinition(flagKey: string): Readonly<Record<string, unknown>> | undefined {
    return this.flags.get(flagKey)?.definition;
  }

  /** The type of a flag's values (from its default variant, else its first variant). */
  getType(flagKey: string): FlagValueType | undefined {
    return this.flags.get(flagKey)?.valueType;
  }

  resolveBoolean(flagKey: string, defaultValue: boolean, context?: EvaluationContext): ResolutionDetails<boolean> {
    return this.resolveTyped(flagKey, defaultValue, context, 'boolean');
  }

  resolveString(flagKey: string, defaultValue: string, context?: EvaluationContext): ResolutionDetails<string> {
    return this.resolveTyped(flagKey, defaultValue, context, 'string');
  }

  resolveNumber(flagKey: string, defaultValue: number, context?: EvaluationContext): ResolutionDetails<number> {
    return this.resolveTyped(flagKey, defaultValue, context, 'number');
  }

  /**
   * flagd's ResolveInt: a number flag, truncated toward zero as flagd converts float64 to int64.
   * OpenFeature's JS SDKs have one number type; the daemon's integer endpoints use this.
   */
  resolveInteger(flagKey: string, defaultValue: number, context?: EvaluationContext): ResolutionDetails<number> {
    const d = this.resolveTyped(flagKey, defaultValue, context, 'number');
    return Number.isInteger(d.value) || d.errorCode !== undefined ? d : { ...d, value: Math.trunc(d.value) };
  }

  resolveObject<T extends JsonValue = JsonValue>(flagKey: string, defaultValue: T, context?: EvaluationContext): ResolutionDetails<T> {
    return this.resolveTyped(flagKey, defaultValue, context, 'object');
  }

  /**
   * Every enabled flag, for bulk endpoints. Disabled flags are left out, as flagd does. A flag
   * whose evaluation failed, or that resolved to the code default, has no `value`.
   */
  resolveAll(context?: EvaluationContext): ResolvedFlag[] {
    const out: ResolvedFlag[] = [];
    for (const flag of this.flags.values()) {
      if (!flag.enabled) continue;
      const o = this.evaluate(flag, context);
      out.push({ ...o, flagKey: flag.key, type: flag.valueType } as ResolvedFlag);
    }
    return out;
  }

  private resolveTyped<T>(flagKey: string, defaultValue: T, context: EvaluationContext | undefined, type: FlagValueType): ResolutionDetails<T> {
    const flag = this.flags.get(flagKey);
    if (flag === undefined) {
      return {
        value: defaultValue,
        reason: Reason.ERROR,
        errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `flag '${flagKey}' not found`,
        flagMetadata: this.setMetadata,
      };
    }
    if (!flag.enabled) return { value: defaultValue, reason: Reason.DISABLED, flagMetadata: flag.metadata };
    const o = flag.rule === undefined && flag.parseError === undefined ? flag.staticOutcome : this.evaluate(flag, context);
    const v = o.value;
    if (v === undefined) return { ...o, value: defaultValue } as ResolutionDetails<T>;
    if (typeof v !== type) {
      return {
        value: defaultValue,
        reason: Reason.ERROR,
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `Evaluated type of the flag ${flagKey} does not match. Expected ${type}, got ${typeof v}`,
        flagMetadata: flag.metadata,
      };
    }
    return o as ResolutionDetails<T>;
  }

  /** Runs a flag's targeting; never throws. */
  private evaluate(flag: CompiledFlag, context: EvaluationContext | undefined): Outcome {
    if (flag.parseError !== undefined) {
      return { reason: Reason.ERROR, errorCode: ErrorCode.PARSE_ERROR, errorMessage: flag.parseError, flagMetadata: flag.metadata };
    }
    const rule = flag.rule;
    if (rule === undefined) return flag.staticOutcome;
    const env = this.env;
    const ctx = context ?? EMPTY_CONTEXT;
    env.ctx = ctx;
    env.flagKey = flag.key;
    env.ts = -1;
    env.left = env.budget;
    let variant: string;
    try {
      const result = rule(ctx, env);
      if (result === null || result === undefined) return flag.defaultOutcome;
      variant = typeof result === 'string' ? result : String(result);
    } catch (err) {
      return {
        reason: Reason.ERROR,
        errorCode: ErrorCode.GENERAL,
        errorMessage: `Error evaluating targeting rule for flag '${flag.key}': ${err instanceof Error ? err.message : String(err)}`,
        flagMetadata: flag.metadata,
      };
    }
    const match = flag.match(variant);
    if (match !== undefined) return match;
    return {
      reason: Reason.ERROR,
      errorCode: ErrorCode.GENERAL,
      errorMessage: `Variant '${variant}' not found in flag with key '${flag.key}'`,
      flagMetadata: flag.metadata,
    };
  }
}
