/**
 * Step definitions for the flagd testbed's evaluator suite (`evaluator/gherkin/*.feature`), run
 * against @vexil/core's Evaluator with the testbed's `evaluator/flags/testkit-flags.json`.
 *
 * The steps only translate testbed text into API calls and compare what comes back; they never
 * decide flag semantics themselves (for example, whether an Integer request of a float variant is
 * a TYPE_MISMATCH is the engine's call: Integer and Float are both its `number`).
 */
import { readFileSync } from 'node:fs';
import { Evaluator } from '@vexil/core';
import type { EvaluationContext, FlagValueType, ResolutionDetails } from '@vexil/core';
import { DataTable, MISSING_FLAG, NOT_EVALUATED, StepRegistry, required } from './steps.js';
import { testbedPath } from './testbed.js';
import { asValueType, check, parseTyped, show, typedEqual, type ValueType } from './values.js';

export interface EvaluatorWorld {
  evaluator?: Evaluator;
  flag?: { type: ValueType; key: string; defaultValue: unknown };
  context: EvaluationContext;
  details?: ResolutionDetails<unknown>;
}

export function createEvaluatorWorld(): EvaluatorWorld {
  return { context: {} };
}

/** What the world holds, appended to failure messages. */
export function describeEvaluatorWorld(world: EvaluatorWorld): string {
  const lines = [`  flag: ${show(world.flag)}`, `  context: ${show(world.context)}`];
  if (world.details) lines.push(`  details: ${show(world.details)}`);
  return lines.join('\n');
}

let flagsSource: string | undefined;
/** The testbed's flag set, read once, passed to the engine as the JSON text it is. */
function testkitFlags(): string {
  flagsSource ??= readFileSync(testbedPath('evaluator/flags/testkit-flags.json'), 'utf8');
  return flagsSource;
}

/** The testbed's type names as the engine's: Integer and Float are both OpenFeature numbers. */
const ENGINE_TYPES: Record<ValueType, FlagValueType> = { Boolean: 'boolean', String: 'string', Integer: 'number', Float: 'number', Object: 'object' };

function evaluate(evaluator: Evaluator, flag: NonNullable<EvaluatorWorld['flag']>, context: EvaluationContext) {
  return evaluator.resolve(ENGINE_TYPES[flag.type], flag.key, flag.defaultValue, context);
}

const flagOf = (world: EvaluatorWorld) => required(world.flag, MISSING_FLAG);
const resolved = (world: EvaluatorWorld): ResolutionDetails<unknown> => required(world.details, NOT_EVALUATED);

export const evaluatorSteps = new StepRegistry<EvaluatorWorld>()
  // Given
  .define('an evaluator', (world) => {
    world.evaluator = new Evaluator();
    world.evaluator.setFlags(testkitFlags());
  })
  .define(
    'a {word}-flag with key {string} and a fallback value {string}',
    (world, typeName: string, key: string, fallback: string) => {
      const type = asValueType(typeName);
      world.flag = { type, key, defaultValue: parseTyped(type, fallback) };
    },
  )
  .define('a context containing a targeting key with value {string}', (world, value: string) => {
    world.context.targetingKey = value;
  })
  .define(
    'a context containing a key {string}, with type {string} and with value {string}',
    (world, key: string, typeName: string, value: string) => {
      world.context[key] = parseTyped(asValueType(typeName), value);
    },
  )
  .define(
    'a context containing a nested property with outer key {string} and inner key {string}, with value {string}',
    (world, outer: string, inner: string, value: string) => {
      const existing = world.context[outer];
      const object = typeof existing === 'object' && existing !== null ? existing : {};
      world.context[outer] = { ...object, [inner]: value };
    },
  )
  // When
  .define('the flag was evaluated with details', (world) => {
    if (!world.evaluator) throw new Error('no evaluator: missing "Given an evaluator"');
    world.details = evaluate(world.evaluator, flagOf(world), world.context);
  })
  // Then
  .define('the resolved details value should be {string}', (world, text: string) => {
    const type = flagOf(world).type;
    const expected = parseTyped(type, text);
    const actual = resolved(world).value;
    check(typedEqual(type, expected, actual), `value (${type})`, expected, actual);
  })
  .define('the reason should be {string}', (world, reason: string) => {
    const actual = resolved(world).reason;
    check(actual === reason, 'reason', reason, actual);
  })
  .define('the error-code should be {string}', (world, code: string) => {
    const actual = resolved(world).errorCode;
    check(actual === code, 'error code', code, actual);
  })
  .define('the variant should be {string}', (world, variant: string) => {
    const actual = resolved(world).variant;
    check(actual === variant, 'variant', variant, actual);
  })
  .define('the resolved metadata should contain', (world, table: DataTable) => {
    const metadata = resolved(world).flagMetadata;
    for (const row of table.hashes()) {
      const type = asValueType(row.metadata_type);
      const expected = parseTyped(type, row.value);
      const actual = metadata[row.key];
      check(typedEqual(type, expected, actual), `metadata "${row.key}" (${type})`, expected, actual);
    }
  })
  .define('the resolved metadata is empty', (world) => {
    const metadata = resolved(world).flagMetadata;
    check(metadata !== null && typeof metadata === 'object' && Object.keys(metadata).length === 0, 'metadata', {}, metadata);
  });
