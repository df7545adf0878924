/**
 * Registers the provider suites for one resolver mode as vitest tests: one `describe` per feature
 * file with its own pool of daemon processes (started on first use, stopped in `afterAll` even when
 * scenarios fail), one `it` per kept scenario (run one after another), `it.skip` with the reason in
 * the name per excluded one, and a summary line per mode, e.g.
 *
 *   daemon conformance @rpc: 120/120 passed in 48.2 s (14 skipped: 5 @fractional-v1 (...), ...)
 *
 * followed by `FAILED <feature> › <scenario>: <first line of the failure>` per failed scenario.
 */
import { basename } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { DaemonPool } from './daemon-harness.js';
import { loadFeature, tagFilter, type TagSelection } from './gherkin.js';
import { createProviderWorld, describeProviderWorld, disposeProviderWorld, providerSteps, type ResolverMode } from './provider-steps.js';
import { runScenario, StepFailure } from './steps.js';

/**
 * A scenario the official provider cannot pass whatever the daemon does. It still runs, and must
 * fail at exactly `step` (a step text); failing anywhere else, or passing, fails the test.
 */
export interface KnownProviderLimitation {
  feature: string;
  scenario: string;
  step: string;
  /** Which step with that text (1 = the first), when the scenario has it more than once. */
  occurrence?: number;
  reason: string;
}

export interface DaemonProviderSuite {
  mode: ResolverMode;
  features: string[];
  /** Scenarios run only if they carry `@<mode>`; `exclude` maps tags to reasons. */
  exclude: Record<string, string>;
  /** Scenarios expected to fail because of the provider (see KnownProviderLimitation). */
  knownLimitations?: KnownProviderLimitation[];
  /** Per-scenario timeout, ms. */
  timeoutMs?: number;
}

export function defineDaemonProviderSuite(suite: DaemonProviderSuite): void {
  const modeTag = `@${suite.mode}`;
  const selection: TagSelection = { includeAny: [modeTag], exclude: suite.exclude };
  const select = tagFilter(selection);
  const skipped = new Map<string, number>();
  let passed = 0;
  let limited = 0;
  let notSelected = 0;
  const failed: string[] = [];
  const label = `daemon conformance ${modeTag}`;
  let startedAt = 0;

  describe(label, () => {
    for (const file of suite.features) {
      const feature = basename(file);
      const scenarios = loadFeature(file);
      const verdicts = scenarios.map((scenario) => select(scenario.tags));
      notSelected += verdicts.filter((v) => !v.run && !v.tag).length;
      // A feature with nothing for this mode gets no describe (vitest fails empty suites).
      if (verdicts.every((v) => !v.run && !v.tag)) continue;
      describe(feature, () => {
        const pool = new DaemonPool();
        afterAll(() => pool.dispose(), 30_000);

        scenarios.forEach((scenario, index) => {
          const verdict = verdicts[index];
          if (!verdict.run) {
            // Scenarios for the other modes only are not this mode's to report.
            if (!verdict.tag) return;
            skipped.set(verdict.tag, (skipped.get(verdict.tag) ?? 0) + 1);
            it.skip(`(${verdict.tag}: ${verdict.reason}) ${scenario.title}`, () => {});
            return;
          }
          const limitation = suite.knownLimitations?.find((l) => l.feature === feature && l.scenario === scenario.title);
          const limitedStep = limitation
            ? scenario.steps.filter((step) => step.text === limitation.step)[(limitation.occurrence ?? 1) - 1]
            : undefined;
          if (limitation && !limitedStep) throw new Error(`known limitation: no step "${limitation.step}" in ${scenario.title}`);
          it(
            limitation ? `(known provider limitation: ${limitation.reason}) ${scenario.title}` : scenario.title,
            async () => {
              startedAt ||= Date.now();
              const world = createProviderWorld(suite.mode, pool);
              try {
                await runScenario(providerSteps, scenario, world, { diagnose: describeProviderWorld });
                if (limitation) throw new Error(`passes now: remove it from the known provider limitations (${limitation.reason})`);
                passed++;
              } catch (error) {
                if (limitation && error instanceof StepFailure && error.step === limitedStep) {
                  limited++;
                  return;
                }
                const reason = error instanceof StepFailure ? error.message.split('\n').slice(0, 2).join(': ') : String(error);
                failed.push(`${feature} › ${scenario.title}: ${reason}`);
                throw error;
              } finally {
                await disposeProviderWorld(world);
              }
            },
            suite.timeoutMs ?? 60_000,
          );
        });
      });
    }

    afterAll(() => {
      const ran = passed + failed.length;
      const seconds = startedAt ? ((Date.now() - startedAt) / 1000).toFixed(1) : '0';
      const total = [...skipped.values()].reduce((a, b) => a + b, 0);
      const reasons = [...skipped].map(([tag, n]) => `${n} ${tag} (${suite.exclude[tag]})`);
      const limitedNote = limited ? `, ${limited} failed as expected (known provider limitations)` : '';
      const lines = [
        `${label}: ${passed}/${ran} passed${limitedNote} in ${seconds} s ` +
          `(${total} skipped${reasons.length ? `: ${reasons.join(', ')}` : ''}; ${notSelected} scenarios without ${modeTag} not applicable)`,
      ];
      for (const entry of failed) lines.push(`  FAILED ${entry}`);
      console.log(lines.join('\n'));
    });
  });
}
