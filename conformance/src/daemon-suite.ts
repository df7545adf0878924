/**
 * Registers the provider suites for one provider and one resolver mode as vitest tests: one
 * `describe` per feature file with its own pool of daemon processes (started on first use, stopped
 * in `afterAll` even when scenarios fail), one `it` per kept scenario (run one after another),
 * `it.skip` with the reason in the name per excluded one, and a summary line per provider and mode,
 * e.g.
 *
 *   daemon conformance flagd-provider @rpc: 120/120 passed in 48.2 s (14 skipped: 5 @fractional-v1 (...), ...)
 *
 * followed by `FAILED <feature> › <scenario>: <first line of the failure>` per failed scenario.
 */
import { basename } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { DaemonPool } from './daemon-harness.js';
import { loadFeature, tagFilter, type TagSelection } from './gherkin.js';
import type { ProviderFactory, ProviderMode } from './provider-factory.js';
import { createProviderWorld, describeProviderWorld, disposeProviderWorld, providerSteps } from './provider-steps.js';
import { releaseSharedTestCertificates } from './test-certificates.js';
import { runScenario, StepFailure } from './steps.js';

/**
 * A scenario expected to fail: one the provider under test cannot pass whatever the daemon does (a
 * known provider limitation), or one the daemon does not support yet (a known daemon gap). It still
 * runs, and must fail at exactly `step` (a step text); failing anywhere else, or passing, fails the
 * test, so a fixed provider or daemon shows up as a test to clean up.
 */
export interface KnownFailure {
  /** The feature file's name, e.g. `rpc-caching.feature`. */
  feature: string;
  /** The scenario's title as in the test name, Examples row included. */
  scenario: string;
  step: string;
  /** Which step with that text (1 = the first), when the scenario has it more than once. */
  occurrence?: number;
  reason: string;
}

type ExpectedFailureKind = 'provider limitation' | 'daemon gap';

export interface DaemonProviderSuite {
  /** The provider under test. */
  provider: ProviderFactory;
  mode: ProviderMode;
  features: string[];
  /** Scenarios run only if they carry `@<mode>`; `exclude` maps tags to reasons. */
  exclude: Record<string, string>;
  /** Scenarios expected to fail because of the provider under test. */
  knownLimitations?: KnownFailure[];
  /** Scenarios expected to fail because the daemon lacks something (reported, to be fixed there). */
  knownDaemonGaps?: KnownFailure[];
  /** Per-scenario timeout, ms. */
  timeoutMs?: number;
}

export function defineDaemonProviderSuite(suite: DaemonProviderSuite): void {
  // At file level, so it runs once every suite of the test file is done (idempotent).
  afterAll(releaseSharedTestCertificates);
  const modeTag = `@${suite.mode}`;
  const selection: TagSelection = { includeAny: [modeTag], exclude: suite.exclude };
  const select = tagFilter(selection);
  const skipped = new Map<string, number>();
  let passed = 0;
  const expectedFailures = new Map<ExpectedFailureKind, number>();
  const known: (KnownFailure & { kind: ExpectedFailureKind })[] = [
    ...(suite.knownLimitations ?? []).map((k) => ({ ...k, kind: 'provider limitation' as const })),
    ...(suite.knownDaemonGaps ?? []).map((k) => ({ ...k, kind: 'daemon gap' as const })),
  ];
  let notSelected = 0;
  const failed: string[] = [];
  const label = `daemon conformance ${suite.provider.name} ${modeTag}`;
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
          const expected = known.find((k) => k.feature === feature && k.scenario === scenario.title);
          const expectedStep = expected
            ? scenario.steps.filter((step) => step.text === expected.step)[(expected.occurrence ?? 1) - 1]
            : undefined;
          if (expected && !expectedStep) throw new Error(`known ${expected.kind}: no step "${expected.step}" in ${scenario.title}`);
          it(
            expected ? `(known ${expected.kind}: ${expected.reason}) ${scenario.title}` : scenario.title,
            async () => {
              startedAt ||= Date.now();
              const world = createProviderWorld(suite.provider, suite.mode, pool);
              try {
                await runScenario(providerSteps, scenario, world, { diagnose: describeProviderWorld });
                if (expected) throw new Error(`passes now: remove it from the known ${expected.kind}s (${expected.reason})`);
                passed++;
              } catch (error) {
                if (expected && error instanceof StepFailure && error.step === expectedStep) {
                  expectedFailures.set(expected.kind, (expectedFailures.get(expected.kind) ?? 0) + 1);
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
      const expectedNote = [...expectedFailures].map(([kind, n]) => `, ${n} failed as expected (known ${kind}s)`).join('');
      const lines = [
        `${label}: ${passed}/${ran} passed${expectedNote} in ${seconds} s ` +
          `(${total} skipped${reasons.length ? `: ${reasons.join(', ')}` : ''}; ${notSelected} scenarios without ${modeTag} not applicable)`,
      ];
      for (const entry of failed) lines.push(`  FAILED ${entry}`);
      console.log(lines.join('\n'));
    });
  });
}
