/**
 * The Evaluator: the Engine (engine.ts) with what servers, providers and tools use besides
 * resolving: loading from objects, definitions and types, and a method per OpenFeature type.
 */
import { Engine } from './engine.js';
import { FlagConfigError, FlagConfigErrorCode } from './errors.js';
import { definitionOf } from './flag-set.js';
import { copyJson } from './json.js';
import type { ConfigWarning, EvaluationContext, FlagMetadata, FlagValueType, JsonValue, ResolutionDetails, SetFlagsResult } from './types.js';

export class Evaluator extends Engine {
  /**
   * Replaces the flag set. Throws FlagConfigError (and keeps the current flags) when the document
   * is refused. Returns the keys added, removed or changed, as flagd-core does.
   */
  setFlags(config: string | object): string[] {
    return this.load(config).changed;
  }

  /** Like setFlags, with the change split by kind and the configuration warnings. */
  override load(config: string | object): SetFlagsResult {
    if (typeof config === 'string') return super.load(config);
    if (config !== null && typeof config === 'object') return this.apply(copyJson(config), undefined);
    throw new FlagConfigError(FlagConfigErrorCode.INVALID_CONFIG, '$', `setFlags takes a JSON string or object, not ${config === null ? 'null' : typeof config}`);
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
    const flag = this.flags.get(flagKey);
    return flag && definitionOf(flag);
  }

  /** The type of a flag's values (from its default variant, else its first variant). */
  getType(flagKey: string): FlagValueType | undefined {
    return this.flags.get(flagKey)?.valueType;
  }

  resolveBoolean(flagKey: string, defaultValue: boolean, context?: EvaluationContext): ResolutionDetails<boolean> {
    return this.resolve('boolean', flagKey, defaultValue, context);
  }

  resolveString(flagKey: string, defaultValue: string, context?: EvaluationContext): ResolutionDetails<string> {
    return this.resolve('string', flagKey, defaultValue, context);
  }

  resolveNumber(flagKey: string, defaultValue: number, context?: EvaluationContext): ResolutionDetails<number> {
    return this.resolve('number', flagKey, defaultValue, context);
  }

  /**
   * flagd's ResolveInt: a number flag, truncated toward zero as flagd converts float64 to int64.
   * OpenFeature's JS SDKs have one number type; the daemon's integer endpoints use this.
   */
  resolveInteger(flagKey: string, defaultValue: number, context?: EvaluationContext): ResolutionDetails<number> {
    return this.resolve('integer', flagKey, defaultValue, context);
  }

  resolveObject<T extends JsonValue = JsonValue>(flagKey: string, defaultValue: T, context?: EvaluationContext): ResolutionDetails<T> {
    return this.resolve('object', flagKey, defaultValue, context);
  }
}
