/**
 * Registers Gherkin scenarios as vitest tests: one `describe` per feature file, one `it` per kept
 * scenario, `it.skip` (reason in the name) per excluded one, and a pass/fail summary line printed
 * after the suite. Which files, which steps, which world and which tags are all parameters, so the
 * provider suites can reuse this with their own (async) steps.
 */
import { basename } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { loadFeature, tagFilter, type TagSelection } from './gherkin.js';
import { runScenario, type StepRegistry } from './steps.js';

export interface GherkinSuite<W> {
  /** Printed in the summary, e.g. "evaluator conformance". */
  label: string;
  /** Feature files to run. */
  features: string[];
  steps: StepRegistry<W>;
  /** A fresh world per scenario. */
  createWorld: () => W | Promise<W>;
  /** Called after each scenario, pass or fail (e.g. to stop providers). */
  disposeWorld?: (world: W) => unknown;
  selection: TagSelection;
  /** Extra state appended to a failing step's message. */
  diagnose?: (world: W) => string | undefined;
}

export function defineGherkinSuite<W>(suite: GherkinSuite<W>): void {
  const select = tagFilter(suite.selection);
  const excluded = new Map<string, number>(Object.keys(suite.selection.exclude ?? {}).map((tag) => [tag, 0]));
  let otherExcluded = 0;
  let passed = 0;
  const failed: string[] = [];

  describe(suite.label, () => {
    for (const file of suite.features) {
      const scenarios = loadFeature(file);
      describe(basename(file), () => {
        for (const scenario of scenarios) {
          const verdict = select(scenario.tags);
          if (!verdict.run) {
            if (verdict.tag) excluded.set(verdict.tag, (excluded.get(verdict.tag) ?? 0) + 1);
            else otherExcluded++;
            const why = verdict.tag ? `${verdict.tag}: ${verdict.reason}` : verdict.reason;
            it.skip(`(${why}) ${scenario.title}`, () => {});
            continue;
          }
          it(scenario.title, async () => {
            const world = await suite.createWorld();
            try {
              await runScenario(suite.steps, scenario, world, { diagnose: suite.diagnose });
              passed++;
            } catch (error) {
              failed.push(`${basename(file)} › ${scenario.title}`);
              throw error;
            } finally {
              await suite.disposeWorld?.(world);
            }
          });
        }
      });
    }

    afterAll(() => {
      const ran = passed + failed.length;
      const exclusions = [...excluded].map(([tag, n]) => `${n} ${tag} (${suite.selection.exclude![tag]})`);
      if (otherExcluded) exclusions.push(`${otherExcluded} not selected`);
      const total = [...excluded.values()].reduce((a, b) => a + b, otherExcluded);
      const lines = [`${suite.label}: ${passed}/${ran} passed (${total} excluded: ${exclusions.join(', ')})`];
      for (const title of failed) lines.push(`  FAILED ${title}`);
      console.log(lines.join('\n'));
    });
  });
}
