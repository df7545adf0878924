/** The recorders produce flagd's series (names, labels, buckets) and ours, in an own registry. */
import { readFileSync } from 'node:fs';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SourceFailureReason } from '../src/sources/source.js';
import { createMetrics, type Metrics } from '../src/telemetry/metrics.js';

type Json = Awaited<ReturnType<ReturnType<typeof createMetrics>['registry']['getMetricsAsJSON']>>;

async function series(m: ReturnType<typeof createMetrics>, name: string): Promise<{ labels: Record<string, unknown>; value: number; metricName?: string }[]> {
  const all: Json = await m.registry.getMetricsAsJSON();
  const metric = all.find((x) => x.name === name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (metric as unknown as { values: { labels: Record<string, unknown>; value: number; metricName?: string }[] }).values;
}

describe('createMetrics', () => {
  it('counts impressions and reasons as flagd does', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordEvaluation({ service: 'flagd.evaluation.v1.Service', method: 'ResolveBoolean', flagKey: 'f', variant: 'on', reason: 'STATIC', durationSeconds: 0.0001, ok: true });
    m.recordEvaluation({ service: 'flagd.evaluation.v1.Service', method: 'ResolveBoolean', flagKey: 'f', variant: 'on', reason: 'STATIC', durationSeconds: 0.0001, ok: true });
    m.recordEvaluation({ service: 'ofrep', method: 'evaluate', flagKey: 'ghost', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', durationSeconds: 0.0001, ok: false });

    expect(await series(m, 'feature_flag_flagd_impression_total')).toEqual([
      {
        labels: { feature_flag_key: 'f', feature_flag_result_variant: 'on', feature_flag_provider_name: 'flagd', feature_flag_reason: 'STATIC' },
        value: 2,
      },
    ]);
    expect(await series(m, 'feature_flag_flagd_result_reason_total')).toEqual([
      { labels: { feature_flag_provider_name: 'flagd', feature_flag_reason: 'STATIC', feature_flag_key: 'f' }, value: 2 },
      { labels: { feature_flag_provider_name: 'flagd', feature_flag_reason: 'ERROR', ExceptionTypeKeyName: 'FLAG_NOT_FOUND' }, value: 1 },
    ]);
    const durations = await series(m, 'vexil_evaluation_duration_seconds');
    expect(durations.find((s) => s.metricName === 'vexil_evaluation_duration_seconds_count' && s.labels['service'] === 'ofrep')?.value).toBe(1);
  });

  it('records HTTP requests with flagd’s labels and buckets', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const end = m.startRequest({ route: '/ofrep/v1/evaluate/flags/{key}', method: 'POST' });
    const active = () => series(m, 'http_server_active_requests');
    expect((await active())[0]).toMatchObject({ labels: { service_name: 'flagd', http_route: '/ofrep/v1/evaluate/flags/{key}', http_request_method: 'POST', url_scheme: 'http' }, value: 1 });
    end(404, 150);
    end(404, 150); // a second call is ignored
    expect((await active())[0].value).toBe(0);

    const labels = { service_name: 'flagd', http_route: '/ofrep/v1/evaluate/flags/{key}', http_request_method: 'POST', url_scheme: 'http', http_response_status_code: '404' };
    const duration = await series(m, 'http_server_request_duration_seconds');
    expect(duration.find((s) => s.metricName === 'http_server_request_duration_seconds_count')).toMatchObject({ labels, value: 1 });
    const buckets = duration.filter((s) => s.metricName === 'http_server_request_duration_seconds_bucket').map((s) => s.labels['le']);
    expect(buckets).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, '+Inf']);

    const size = await series(m, 'http_server_response_body_size_bytes');
    expect(size.find((s) => s.metricName === 'http_server_response_body_size_bytes_sum')).toMatchObject({ labels, value: 150 });
    expect(size.filter((s) => s.metricName === 'http_server_response_body_size_bytes_bucket').map((s) => s.labels['le'])).toEqual([
      100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, '+Inf',
    ]);

    m.recordRequest({ service: 'other', route: '/flagd.evaluation.v1.Service/ResolveBoolean', method: 'POST', scheme: 'https', status: 200, durationSeconds: 0.2 });
    const text = await m.render();
    expect(text).toContain(
      'http_server_request_duration_seconds_count{service_name="other",http_route="/flagd.evaluation.v1.Service/ResolveBoolean",http_request_method="POST",url_scheme="https",http_response_status_code="200"} 1',
    );
  });

  it('tracks sync and event streams', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.syncStreamOpened();
    m.syncStreamOpened({ selector: 'flagSetId=a', providerId: 'p1' });
    m.syncStreamOpened({ selector: 'flagSetId=a', providerId: 'p1' });
    m.syncStreamClosed({ selector: 'flagSetId=a', providerId: 'p1' }, { durationSeconds: 45, reason: 'client_disconnect' });
    expect(await series(m, 'feature_flag_flagd_sync_active_streams')).toEqual([
      { labels: {}, value: 1 },
      { labels: { selector: 'flagSetId=a', provider_id: 'p1' }, value: 1 },
    ]);
    const text = await m.render();
    expect(text).toContain('feature_flag_flagd_sync_stream_duration_seconds_bucket{le="60",selector="flagSetId=a",provider_id="p1",reason="client_disconnect"} 1');
    expect(text).toContain('feature_flag_flagd_sync_stream_duration_seconds_bucket{le="30",selector="flagSetId=a",provider_id="p1",reason="client_disconnect"} 0');

    m.eventStreamOpened('flagd.evaluation.v1.Service');
    m.eventStreamOpened('flagd.evaluation.v1.Service');
    m.eventStreamClosed('flagd.evaluation.v1.Service');
    expect(await series(m, 'vexil_event_streams_active')).toEqual([{ labels: { service: 'flagd.evaluation.v1.Service' }, value: 1 }]);
  });

  it('records sources and loaded flags under vexil_', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.sourceSync('file:a.json', new Date(1_700_000_000_000));
    m.sourceSync('file:a.json', new Date(1_700_000_005_000));
    m.sourceError('http://x/flags', 'timeout');
    m.sourceError('http://x/flags', 'timeout');
    m.sourceError('http://x/flags', 'http_status');
    m.flagsLoaded(12);
    expect(await series(m, 'vexil_source_syncs_total')).toEqual([{ labels: { source: 'file:a.json' }, value: 2 }]);
    expect(await series(m, 'vexil_source_last_sync_timestamp_seconds')).toEqual([{ labels: { source: 'file:a.json' }, value: 1_700_000_005 }]);
    expect(await series(m, 'vexil_source_errors_total')).toEqual([
      { labels: { source: 'http://x/flags', reason: 'timeout' }, value: 2 },
      { labels: { source: 'http://x/flags', reason: 'http_status' }, value: 1 },
    ]);
    expect(await series(m, 'vexil_flags_loaded')).toEqual([{ labels: {}, value: 12 }]);
  });

  it('labels vexil_source_errors_total with exactly the SourceFailureReason values, as the sources README lists them', async () => {
    // The label's type is the enum, so a source cannot invent a reason alerts do not know.
    expectTypeOf<Parameters<Metrics['sourceError']>[1]>().toEqualTypeOf<SourceFailureReason>();
    // @ts-expect-error a free string is not a reason (never called: the type check is the point)
    const typo = (m: Metrics) => m.sourceError('file:a.json', 'not-found');
    void typo;

    const reasons = Object.values(SourceFailureReason);
    const m = createMetrics({ defaultMetrics: false });
    for (const reason of reasons) m.sourceError('file:a.json', reason);
    const labelled = (await series(m, 'vexil_source_errors_total')).map((s) => s.labels.reason);
    expect([...labelled].sort()).toEqual([...reasons].sort());
    expect(new Set(reasons).size).toBe(Object.keys(SourceFailureReason).length);

    // The catalogue and its documentation agree in both directions.
    const readme = readFileSync(new URL('../src/sources/README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\nReasons'));
    const documented = [...section.slice(0, section.indexOf('\n\n', 1)).matchAll(/^- `([a-z_]+)`/gm)].map((x) => x[1]);
    expect([...documented].sort()).toEqual([...reasons].sort());
  });

  it('owns its registry: default process metrics go there, never to the global one', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const m = createMetrics();
    const m2 = createMetrics();
    expect(m.registry).not.toBe(globalRegistry);
    expect(m.registry).not.toBe(m2.registry);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await m.render();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_total_bytes');
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(before);
    expect(await createMetrics({ defaultMetrics: false }).render()).not.toContain('process_cpu_user_seconds_total');
  });
});
