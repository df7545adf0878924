/** The conformance runner's own machinery: parsing, tag selection, step matching. */
import { describe, expect, it } from 'vitest';
import { parseFeature, tagFilter } from '../src/gherkin.js';
import { DataTable, runScenario, StepRegistry } from '../src/steps.js';
import { parseTyped, typedEqual } from '../src/values.js';

const FEATURE = `
@suite
Feature: Sample

  Background:
    Given a start

  Scenario: Plain
    When a value "a \\"quoted\\" word"

  @outline
  Scenario Outline: Outline
    When a value "<v>"

    @old
    Examples: legacy
      | v |
      | 1 |

    Examples: current
      | v |
      | 1 |
      | 2 |

  Scenario: With table
    Then a table
      | key | value |
      | k   | 3     |
`;

describe('parseFeature', () => {
  const scenarios = parseFeature(FEATURE, 'sample.feature');

  it('compiles one scenario per Scenario and per Examples row, with Background steps first', () => {
    expect(scenarios.map((s) => s.title)).toEqual([
      'Plain',
      'Outline [legacy: v=1]',
      'Outline [current: v=1]',
      'Outline [current: v=2]',
      'With table',
    ]);
    expect(scenarios[1].steps.map((s) => `${s.keyword}${s.text}`)).toEqual(['Given a start', 'When a value "1"']);
  });

  it('gives each row the Feature, Scenario and Examples tags', () => {
    expect(scenarios[1].tags).toEqual(['@suite', '@outline', '@old']);
    expect(scenarios[2].tags).toEqual(['@suite', '@outline']);
  });

  it('keeps data tables', () => {
    expect(scenarios[4].steps[1].dataTable).toEqual([
      ['key', 'value'],
      ['k', '3'],
    ]);
  });
});

describe('tagFilter', () => {
  const scenarios = parseFeature(FEATURE, 'sample.feature');

  it('excludes only the rows of a tagged Examples block', () => {
    const select = tagFilter({ exclude: { '@old': 'legacy' } });
    expect(scenarios.map((s) => select(s.tags).run)).toEqual([true, false, true, true, true]);
    expect(select(scenarios[1].tags)).toEqual({ run: false, tag: '@old', reason: 'legacy' });
  });

  it('can require one of several tags, exclusion winning', () => {
    const select = tagFilter({ includeAny: ['@outline'], exclude: { '@old': 'legacy' } });
    expect(scenarios.map((s) => select(s.tags).run)).toEqual([false, false, true, true, false]);
  });
});

describe('StepRegistry and runScenario', () => {
  const [plain, , , , withTable] = parseFeature(FEATURE, 'sample.feature');

  function registry() {
    return new StepRegistry<unknown[]>()
      .define('a start', (world) => void world.push('start'))
      .define('a value {string}', async (world, value: string) => {
        await Promise.resolve();
        world.push(value);
      })
      .define(/a (table)/, (world, word: string, table: DataTable) => void world.push(word, table.hashes()))
      .define('a count of {int}', (world, n: number) => void world.push(n));
  }

  it('passes converted arguments, unescapes {string}, awaits async steps and appends tables', async () => {
    const world: unknown[] = [];
    await runScenario(registry(), plain, world);
    expect(world).toEqual(['start', 'a "quoted" word']);
    const world2: unknown[] = [];
    await runScenario(registry(), withTable, world2);
    expect(world2).toEqual(['start', 'table', [{ key: 'k', value: '3' }]]);
  });

  it('fails a scenario with an undefined step before running any step', async () => {
    const world: unknown[] = [];
    const steps = new StepRegistry<unknown[]>().define('a start', (w) => void w.push('start'));
    await expect(runScenario(steps, plain, world)).rejects.toThrow('undefined step: a value "a \\"quoted\\" word"');
    expect(world).toEqual([]);
  });

  it('fails on an ambiguous step', async () => {
    const steps = registry().define(/a value .*/, () => {});
    await expect(runScenario(steps, plain, [])).rejects.toThrow(/^ambiguous step: a value/);
  });

  it('names the failing step', async () => {
    const failing = new StepRegistry<unknown[]>()
      .define('a start', () => {
        throw new Error('boom');
      })
      .define('a value {string}', () => {});
    await expect(runScenario(failing, plain, [])).rejects.toThrow('Given a start\nboom');
  });
});

describe('typed values', () => {
  it('parses as the testbed intends and compares by type', () => {
    expect(parseTyped('Float', '0.0')).toBe(0);
    expect(typedEqual('Float', parseTyped('Float', '0.0'), 0)).toBe(true);
    expect(typedEqual('Integer', 10, '10')).toBe(false);
    expect(parseTyped('Boolean', 'false')).toBe(false);
    expect(() => parseTyped('Boolean', 'no')).toThrow();
    expect(parseTyped('String', '')).toBe('');
    expect(typedEqual('Object', parseTyped('Object', '{"a": 1, "b": [2]}'), { b: [2], a: 1 })).toBe(true);
    expect(typedEqual('Object', {}, { a: 1 })).toBe(false);
  });
});
