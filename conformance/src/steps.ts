/**
 * A small step registry and scenario runner, independent of any test framework.
 *
 * Patterns are either RegExps (capture groups become string arguments) or expression strings in
 * which these parameters are recognised; everything else matches literally:
 *   {string}  a double-quoted string; `\"` inside it becomes `"` (as in Cucumber expressions)
 *   {word}    a run of non-whitespace characters
 *   {int}     an integer, passed as a number
 * A step's data table (or doc string) is passed after the captured arguments.
 * Handlers may be async; each scenario gets its own world object from the caller.
 */
import type { Scenario, ScenarioStep } from './gherkin.js';

/** A step's attached table, with the two views the step definitions need. */
export class DataTable {
  constructor(readonly rows: readonly (readonly string[])[]) {}

  /** All rows, header included. */
  raw(): string[][] {
    return this.rows.map((row) => [...row]);
  }

  /** One object per body row, keyed by the header row. */
  hashes(): Record<string, string>[] {
    const [header = [], ...body] = this.rows;
    return body.map((row) => Object.fromEntries(header.map((column, i) => [column, row[i]])));
  }
}

export type StepArg = string | number | DataTable;
export type StepHandler<W, A extends StepArg[] = StepArg[]> = (world: W, ...args: A) => unknown;

interface Definition<W> {
  source: string;
  regex: RegExp;
  /** One converter per capture group of `regex`. */
  converters: ((raw: string) => StepArg)[] | undefined;
  handler: StepHandler<W>;
}

export interface MatchedStep<W> {
  step: ScenarioStep;
  definition: Definition<W>;
  args: StepArg[];
}

const PARAMETERS: Record<string, { pattern: string; convert: (raw: string) => StepArg }> = {
  string: { pattern: '"((?:[^"\\\\]|\\\\.)*)"', convert: (raw) => raw.replace(/\\"/g, '"') },
  word: { pattern: '(\\S+)', convert: (raw) => raw },
  int: { pattern: '(-?\\d+)', convert: (raw) => Number.parseInt(raw, 10) },
};

/** Compiles an expression string to an anchored RegExp plus one converter per parameter. */
export function compileExpression(expression: string): {
  regex: RegExp;
  converters: ((raw: string) => StepArg)[];
} {
  const converters: ((raw: string) => StepArg)[] = [];
  let pattern = '';
  let last = 0;
  for (const match of expression.matchAll(/\{(\w*)\}/g)) {
    const parameter = PARAMETERS[match[1]];
    if (!parameter) throw new Error(`unknown parameter {${match[1]}} in step expression: ${expression}`);
    pattern += escapeRegExp(expression.slice(last, match.index)) + parameter.pattern;
    converters.push(parameter.convert);
    last = match.index + match[0].length;
  }
  pattern += escapeRegExp(expression.slice(last));
  return { regex: new RegExp(`^${pattern}$`), converters };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class StepRegistry<W> {
  private readonly definitions: Definition<W>[] = [];

  /**
   * Registers a step. Handlers declare the argument types they expect; the registry passes the
   * captured arguments in order, then a DataTable (or doc string) if the step has one.
   */
  define<A extends StepArg[]>(pattern: string | RegExp, handler: StepHandler<W, A>): this {
    const compiled =
      typeof pattern === 'string'
        ? compileExpression(pattern)
        : { regex: new RegExp(`^(?:${pattern.source})$`, pattern.flags), converters: undefined };
    this.definitions.push({
      source: String(pattern),
      regex: compiled.regex,
      converters: compiled.converters,
      handler: handler as StepHandler<W>,
    });
    return this;
  }

  /** Finds the single definition for a step; throws "undefined step" or "ambiguous step". */
  match(step: ScenarioStep): MatchedStep<W> {
    const found: MatchedStep<W>[] = [];
    for (const definition of this.definitions) {
      const m = definition.regex.exec(step.text);
      if (!m) continue;
      const captured = m.slice(1).map((raw, i) => {
        const value = raw ?? '';
        return definition.converters ? definition.converters[i](value) : value;
      });
      found.push({ step, definition, args: captured });
    }
    if (found.length === 0) throw new Error(`undefined step: ${step.text}`);
    if (found.length > 1) {
      const sources = found.map((f) => f.definition.source).join(' | ');
      throw new Error(`ambiguous step: ${step.text} (matches ${sources})`);
    }
    const [matched] = found;
    if (step.dataTable) matched.args.push(new DataTable(step.dataTable));
    else if (step.docString !== undefined) matched.args.push(step.docString);
    return matched;
  }
}

/** A failed step: the message names the step, then the underlying error's message. */
export class StepFailure extends Error {
  constructor(
    readonly step: ScenarioStep,
    cause: unknown,
    detail?: string,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${step.keyword}${step.text}\n${reason}${detail ? `\n${detail}` : ''}`, { cause });
    this.name = 'StepFailure';
  }
}

export interface RunOptions<W> {
  /** Extra state to append to a failure message (e.g. the last resolution details). */
  diagnose?: (world: W) => string | undefined;
}

/**
 * Runs a scenario's steps in order against `world`. Every step is matched before any runs, so an
 * undefined or ambiguous step fails the scenario even if an earlier step would also fail.
 */
export async function runScenario<W>(
  registry: StepRegistry<W>,
  scenario: Scenario,
  world: W,
  options: RunOptions<W> = {},
): Promise<void> {
  const matched = scenario.steps.map((step) => registry.match(step));
  for (const { step, definition, args } of matched) {
    try {
      await definition.handler(world, ...args);
    } catch (error) {
      throw new StepFailure(step, error, options.diagnose?.(world));
    }
  }
}

/** The messages of the steps both suites share. */
export const MISSING_FLAG = 'no flag: missing "a <Type>-flag with key ..."';
export const NOT_EVALUATED = 'no resolution details: the flag was not evaluated';

/** What an earlier step should have set; a step that runs without it fails saying which step is missing. */
export function required<T>(value: T | undefined, missing: string): T {
  if (value === undefined) throw new Error(missing);
  return value;
}
