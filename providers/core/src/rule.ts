/**
 * Compiling a single JSON Logic rule outside a flag set: for validation in tools (the management
 * API checks rules with it) and for testing the engine against json-logic-js.
 */
import { Compiler, DEFAULT_BUDGET, type Env } from './logic/compile.js';
import { flagdOperators } from './logic/flagd-operators.js';

export interface CompileRuleOptions {
  /** flagd's dialect: its operators (fractional, sem_ver, starts_with, ends_with), `$flagd` in the data, and `cat` as flagd trims it. Default true; false gives plain JSON Logic. */
  flagdOperators?: boolean;
  /** `$flagd.flagKey` as seen by the rule. */
  flagKey?: string;
  /** Clock for `$flagd.timestamp`, in milliseconds. */
  now?: () => number;
  /** Steps one evaluation may spend in iterating and concatenating operators (see EvaluatorOptions). */
  evaluationBudget?: number;
}

/** Compiles once; the returned function evaluates against data and may throw as json-logic-js would. */
export function compileRule(rule: unknown, options: CompileRuleOptions = {}): (data?: unknown) => unknown {
  const flagd = options.flagdOperators !== false;
  const compiler = new Compiler({ operators: flagd ? flagdOperators() : undefined, flagd });
  const fn = compiler.compile(rule).fn;
  const flagKey = options.flagKey ?? '';
  const now = options.now ?? Date.now;
  const budget = options.evaluationBudget ?? DEFAULT_BUDGET;
  return (data?: unknown) => {
    const env: Env = { ctx: data, flagKey, ts: -1, now, flagd, budget, left: budget };
    return fn(data, env);
  };
}
