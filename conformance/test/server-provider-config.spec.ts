/**
 * The flagd testbed's `gherkin/config.feature` against @vexil/server-provider's resolveConfig:
 * every scenario tagged @rpc, @in-process or @file, each run once (resolving options does not
 * depend on which mode's run selects a scenario, and upstream harnesses preset nothing per mode).
 *
 * Registered here rather than with suite.ts's defineGherkinSuite because its summary counts
 * exclusions by tag only; this one also names the reason for each skipped scenario. Run alone
 * with `npx vitest run conformance/test/server-provider-config.spec.ts` (after `npx tsc -b`).
 */
import { basename } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { configSteps, createConfigWorld, describeConfigWorld } from '../src/config-steps.js';
import { loadFeature, tagFilter } from '../src/gherkin.js';
import { runScenario } from '../src/steps.js';
import { testbedPath } from '../src/testbed.js';

const MODES = ['@rpc', '@in-process', '@file'];

/**
 * Tag → why scenarios carrying it are not run. Empty: every option of config.feature exists in
 * @vexil/server-provider, including targetUri, providerId and offlinePollIntervalMs, which the
 * official JS provider 0.16.1 lacks. Kept so a testbed update can be skipped with a reason.
 */
const EXCLUSIONS: Record<string, string> = {};

const LABEL = 'server-provider config conformance';
const feature = testbedPath('gherkin/config.feature');
const select = tagFilter({ includeAny: MODES, exclude: EXCLUSIONS });
const skipped = new Map<string, number>();
const failed: string[] = [];
let passed = 0;
let ran = 0;

describe(LABEL, () => {
  describe(basename(feature), () => {
    for (const scenario of loadFeature(feature)) {
      const verdict = select(scenario.tags);
      if (!verdict.run) {
        const why = verdict.tag ? `${verdict.tag}: ${verdict.reason}` : `no ${MODES.join('/')} tag`;
        skipped.set(why, (skipped.get(why) ?? 0) + 1);
        it.skip(`(${why}) ${scenario.title}`, () => {});
        continue;
      }
      it(scenario.title, async () => {
        ran++;
        try {
          await runScenario(configSteps, scenario, createConfigWorld(), { diagnose: describeConfigWorld });
          passed++;
        } catch (error) {
          failed.push(scenario.title);
          throw error;
        }
      });
    }
  });

  afterAll(() => {
    const total = [...skipped.values()].reduce((a, b) => a + b, 0);
    const reasons = total === 0 ? 'none' : [...skipped].map(([why, n]) => `${n} ${why}`).join(', ');
    const lines = [`${LABEL}: ${passed}/${ran} passed (${total} skipped: ${reasons})`];
    for (const title of failed) lines.push(`  FAILED config.feature › ${title}`);
    console.log(lines.join('\n'));
  });
});
