/**
 * The management server on a real port: liveness, readiness as flagd (412 until every source
 * synced), and Prometheus metrics fed by real OFREP evaluations.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/servers/http/listen.js';
import { createManagementServer } from '../src/servers/management/management-server.js';
import { createOfrepServer } from '../src/servers/ofrep/ofrep-server.js';
import { FlagStore } from '../src/store/flag-store.js';
import { createMetrics } from '../src/telemetry/metrics.js';

const silent = pino({ level: 'silent' });
const FLAGS = JSON.stringify({
  flags: {
    'bool-flag': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'color-flag': {
      state: 'ENABLED',
      variants: { red: 'red', blue: 'blue' },
      defaultVariant: 'red',
      targeting: { if: [{ '==': [{ var: 'targetingKey' }, 'vip'] }, 'blue', null] },
    },
  },
});

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function up(server: RunningServer): Promise<string> {
  running.push(server);
  const { port } = await server.start();
  return `http://127.0.0.1:${port}`;
}

describe('management server', () => {
  it('is live at once, and ready only when every source has synced', async () => {
    const store = new FlagStore(['file:a.json', 'file:b.json']);
    const metrics = createMetrics();
    const base = await up(createManagementServer({ store, metrics, logger: silent, host: '127.0.0.1', port: 0 }));

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');

    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(412);
    expect(await notReady.json()).toEqual({ status: 'not ready', pending: ['file:a.json', 'file:b.json'] });

    store.update('file:a.json', FLAGS);
    const half = await fetch(`${base}/readyz`);
    expect(half.status).toBe(412);
    expect(await half.json()).toMatchObject({ pending: ['file:b.json'] });

    store.update('file:b.json', '{"flags":{}}');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('');

    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('serves flagd metric names after OFREP evaluations, with vexil and process metrics', async () => {
    const store = new FlagStore(['file:flags.json']);
    const metrics = createMetrics();
    store.update('file:flags.json', FLAGS);
    metrics.sourceSync('file:flags.json');
    metrics.sourceError('file:flags.json', 'parse_error');
    const mgmt = await up(createManagementServer({ store, metrics, logger: silent, host: '127.0.0.1', port: 0 }));
    const ofrep = await up(
      createOfrepServer({ store, metrics, logger: silent, host: '127.0.0.1', port: 0, contextValues: {}, contextFromHeaders: {}, corsOrigins: [] }),
    );

    const evaluate = async (key: string, context: object) => {
      const r = await fetch(`${ofrep}/ofrep/v1/evaluate/flags/${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ context }) });
      await r.arrayBuffer();
    };
    await evaluate('bool-flag', {});
    await evaluate('color-flag', { targetingKey: 'vip' });
    await evaluate('color-flag', { targetingKey: 'someone' });
    await evaluate('missing-flag', {});

    const res = await fetch(`${mgmt}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const line = (name: string, labels: string, value: number) => expect(text).toContain(`${name}{${labels}} ${value}\n`);

    line('feature_flag_flagd_impression_total', 'feature_flag_key="bool-flag",feature_flag_result_variant="on",feature_flag_provider_name="flagd",feature_flag_reason="STATIC"', 1);
    line('feature_flag_flagd_impression_total', 'feature_flag_key="color-flag",feature_flag_result_variant="blue",feature_flag_provider_name="flagd",feature_flag_reason="TARGETING_MATCH"', 1);
    line('feature_flag_flagd_impression_total', 'feature_flag_key="color-flag",feature_flag_result_variant="red",feature_flag_provider_name="flagd",feature_flag_reason="DEFAULT"', 1);
    line('feature_flag_flagd_result_reason_total', 'feature_flag_provider_name="flagd",feature_flag_reason="TARGETING_MATCH",feature_flag_key="color-flag"', 1);
    line('feature_flag_flagd_result_reason_total', 'feature_flag_provider_name="flagd",feature_flag_reason="ERROR",ExceptionTypeKeyName="FLAG_NOT_FOUND"', 1);
    expect(text).not.toContain('missing-flag');
    expect(text).toMatch(/^http_server_request_duration_seconds_count\{service_name="flagd",http_route="\/ofrep\/v1\/evaluate\/flags\/\{key\}",http_request_method="POST",url_scheme="http",http_response_status_code="200"\} 3$/m);
    expect(text).toContain('# TYPE http_server_response_body_size_bytes histogram');
    expect(text).toContain('# TYPE http_server_active_requests gauge');
    expect(text).toContain('# TYPE feature_flag_flagd_sync_active_streams gauge');

    line('vexil_source_syncs_total', 'source="file:flags.json"', 1);
    line('vexil_source_errors_total', 'source="file:flags.json",reason="parse_error"', 1);
    expect(text).toMatch(/^vexil_source_last_sync_timestamp_seconds\{source="file:flags.json"\} \d+(\.\d+)?$/m);
    expect(text).toContain('vexil_flags_loaded 2\n');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps each server instance’s metrics apart', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordEvaluation({ service: 'ofrep', method: 'evaluate', flagKey: 'x', variant: 'on', reason: 'STATIC', ok: true });
    expect(await a.render()).toContain('feature_flag_key="x"');
    expect(await b.render()).not.toContain('feature_flag_key="x"');
  });
});
