/** recordEvaluation binds a flag's last outcome and the last duration series; every call still counts. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/telemetry/metrics.js';

type Values = { labels: Record<string, unknown>; value: number; metricName?: string }[];
async function values(m: ReturnType<typeof createMetrics>, name: string): Promise<Values> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (metric as unknown as { values: Values } | undefined)?.values ?? [];
}

describe('recordEvaluation with bound series', () => {
  it('counts each outcome in its own series when a flag alternates between outcomes and services', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const rec = (variant: string, reason: string, service: string) =>
      m.recordEvaluation({ service, method: 'ResolveBoolean', flagKey: 'f', variant, reason, durationSeconds: 0.0001, ok: true });
    rec('on', 'TARGETING_MATCH', 'a');
    rec('off', 'DEFAULT', 'b');
    rec('on', 'TARGETING_MATCH', 'a');
    rec('on', 'STATIC', 'a');
    const impressions = (await values(m, 'feature_flag_flagd_impression_total')).map((v) => [v.labels['feature_flag_result_variant'], v.labels['feature_flag_reason'], v.value]);
    expect(impressions.sort()).toEqual([
      ['off', 'DEFAULT', 1],
      ['on', 'STATIC', 1],
      ['on', 'TARGETING_MATCH', 2],
    ]);
    const counts = (await values(m, 'vexil_evaluation_duration_seconds')).filter((v) => v.metricName === 'vexil_evaluation_duration_seconds_count');
    expect(counts.map((v) => [v.labels['service'], v.value]).sort()).toEqual([
      ['a', 3],
      ['b', 1],
    ]);
  });

  it('keeps recording durations after the registry is reset', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const rec = () => m.recordEvaluation({ service: 's', method: 'm', flagKey: 'f', variant: 'on', reason: 'STATIC', durationSeconds: 0.0001, ok: true });
    rec();
    m.registry.resetMetrics();
    rec();
    const counts = (await values(m, 'vexil_evaluation_duration_seconds')).filter((v) => v.metricName === 'vexil_evaluation_duration_seconds_count');
    expect(counts.map((v) => v.value)).toEqual([1]);
  });
});
