/**
 * The Engine: holds one flag set, loaded from JSON text, and resolves flags against contexts with
 * flagd's semantics. Loading compiles; resolving only runs closures and returns shared, frozen
 * details where the answer does not depend on the caller's default value.
 *
 * It is what a browser needs. `Evaluator` (evaluator.ts) extends it with what servers and tools
 * use: loading from objects, definitions, the per-type methods. Kept apart so that a bundle that
 * imports only `Engine` (the web provider's) leaves that code out.
 */
import { FlagConfigError, FlagConfigErrorCode } from './errors.js';
import { FlagSetCompiler, type CompiledFlag, type Outcome } from './flag-set.js';
import { checkDepth, parseJson } from './json.js';
import { DEFAULT_BUDGET, type Env } from './logic/compile.js';
import { asType } from './resolve.js';
import {
  ErrorCode,
  Reason,
  type ConfigWarning,
  type EvaluationContext,
  type EvaluatorOptions,
  type FlagMetadata,
  type ResolutionDetails,
  type ResolvedDetails,
  type ResolvedFlag,
  type ResolveType,
  type SetFlagsResult,
} from './types.js';

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});
const EMPTY_FLAGS: ReadonlyMap<string, CompiledFlag> = new Map();

function result(added: string[], updated: string[], removed: string[], warnings: readonly ConfigWarning[]): SetFlagsResult {
  return { changed: [...added, ...removed, ...updated], added, updated, removed, warnings: [...warnings] };
}

export class Engine {
  protected flags: ReadonlyMap<string, CompiledFlag> = EMPTY_FLAGS;
  protected setMetadata: Readonly<FlagMetadata> = Object.freeze({});
  // `declare`d fields are set in the constructor (or, lastText, by load): nothing to emit for them.
  private declare lastText: string | undefined;
  protected lastWarnings: readonly ConfigWarning[] = [];
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
   * Replaces the flag set with the one in `text`. Throws FlagConfigError (and keeps the current
   * flags) when the document is refused. Returns the keys added, removed or changed, and the
   * configuration warnings.
   */
  load(text: string): SetFlagsResult {
    if (text === this.lastText) {
      // A re-sync of the identical document: nothing to parse, nothing changed.
      return result([], [], [], this.lastWarnings);
    }
    const doc = parseJson(text);
    checkDepth(doc);
    return this.apply(doc, text);
  }

  /** Compiles a parsed document and puts it in force; `text` is what it was parsed from, if any. */
  protected apply(doc: unknown, text: string | undefined): SetFlagsResult {
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
    this.lastText = text;
    this.lastWarnings = warnings;
    return result(added, updated, removed, warnings);
  }

  /**
   * One flag as `type`, with the caller's default for every case the flag gives no value of that
   * type (unknown, disabled, no default variant, an error, a value of another type).
   */
  resolve<T>(type: ResolveType, flagKey: string, defaultValue: T, context?: EvaluationContext): ResolutionDetails<T> {
    return asType(this.resolveAny(flagKey, context), flagKey, type, defaultValue);
  }

  /**
   * One flag with no caller default and no type, for OFREP and other endpoints that answer with
   * whatever the flag holds: no `value` when the flag is unknown, disabled, failed, or has no
   * default variant. Answers that do not depend on the context are shared and frozen.
   */
  resolveAny(flagKey: string, context?: EvaluationContext): ResolvedDetails {
    const flag = this.flags.get(flagKey);
    if (flag === undefined) {
      return { reason: Reason.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `flag '${flagKey}' not found`, flagMetadata: this.setMetadata };
    }
    if (!flag.enabled) return { reason: Reason.DISABLED, flagMetadata: flag.metadata };
    return flag.rule === undefined && flag.parseError === undefined ? flag.staticOutcome : this.evaluate(flag, context);
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

  /** Runs a flag's targeting; never throws. */
  protected evaluate(flag: CompiledFlag, context: EvaluationContext | undefined): Outcome {
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
