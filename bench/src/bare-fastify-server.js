/**
 * The OFREP ceiling for daemon-bench.js: a bare fastify server (the daemon's own copy of fastify)
 * with the one route `POST /ofrep/v1/evaluate/flags/:key`. fastify's default JSON parser reads the
 * body; the handler answers a constant, pre-serialised JSON body of the same shape as the daemon's
 * answer. No logger, no hooks, no CORS, no metrics.
 *
 * With a second argument, a JSON file `{ "body": "…", "etag": "…" }`, it also serves the bulk route
 * `POST /ofrep/v1/evaluate/flags`: that constant body with that ETag header, as the daemon's bulk
 * answer carries one (shapes-bench.js).
 *
 *   node bare-fastify-server.js '<constant JSON body>' [bulk-answer.json]
 *
 * Prints one JSON line `{"msg":"bare fastify listening","ofrep":P}`; SIGTERM stops it.
 */
import { readFileSync } from 'node:fs';
import { daemonRequire } from './daemon-lib.js';

const body = process.argv[2];
if (!body) throw new Error('usage: bare-fastify-server.js <constant JSON body>');
JSON.parse(body); // refuse a broken constant early
const bulk = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], 'utf8')) : undefined;

/**
 * BARE_OFREP=cors,buffer,hooks,metrics (an experiment, not the ceiling): adds, one by one, pieces
 * the daemon's OFREP route has, to see what each costs: @fastify/cors; a raw-buffer body parser
 * with JSON.parse in the handler; three async route hooks (onRequest, onSend, onResponse) with
 * WeakMaps; and the prom-client updates the daemon makes per request (a gauge inc/dec, three
 * histogram observations, two counter increments). `cached` binds each label set once instead
 * (prom-client `labels()` children kept in a Map); `aggregated` counts in plain records that a
 * prom-client collect() callback would read at scrape time, so no request enters prom-client.
 */
const EXTRAS = new Set((process.env.BARE_OFREP ?? '').split(',').filter(Boolean));

const fastify = daemonRequire('fastify');
const app = fastify({ logger: false });
if (EXTRAS.has('cors')) {
  // The daemon no longer uses @fastify/cors (its CORS is done in the handlers); this experiment needs it installed.
  await app.register(daemonRequire('@fastify/cors'), { origin: '*', methods: ['HEAD', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'], exposedHeaders: ['ETag'] });
}
if (EXTRAS.has('buffer')) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, b, done) => done(null, b));
}
let metrics;
if (EXTRAS.has('metrics')) {
  const prom = daemonRequire('prom-client');
  const registers = [new prom.Registry()];
  const http = ['service_name', 'http_route', 'http_request_method', 'http_response_status_code', 'url_scheme'];
  metrics = {
    active: new prom.Gauge({ name: 'a', help: 'a', labelNames: http.filter((l) => l !== 'http_response_status_code'), registers }),
    duration: new prom.Histogram({ name: 'd', help: 'd', labelNames: http, registers }),
    size: new prom.Histogram({ name: 's', help: 's', labelNames: http, buckets: [100, 1000, 10000], registers }),
    impressions: new prom.Counter({ name: 'i', help: 'i', labelNames: ['feature_flag_key', 'feature_flag_result_variant', 'feature_flag_provider_name', 'feature_flag_reason'], registers }),
    reasons: new prom.Counter({ name: 'r', help: 'r', labelNames: ['feature_flag_provider_name', 'feature_flag_reason', 'feature_flag_key'], registers }),
    evaluation: new prom.Histogram({ name: 'e', help: 'e', labelNames: ['service', 'method'], registers }),
  };
  if (EXTRAS.has('aggregated')) {
    // Another fix: count in plain per-label-set records; prom-client would read them only at
    // scrape time (a collect() callback), so a request never enters prom-client.
    const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    for (const name of Object.keys(metrics)) {
      const records = new Map();
      const rec = (labels) => {
        const k = Object.values(labels).join('\u0000');
        let r = records.get(k);
        if (r === undefined) records.set(k, (r = { labels, value: 0, sum: 0, buckets: new Float64Array(BOUNDS.length + 1) }));
        return r;
      };
      metrics[name] = {
        inc: (labels) => void rec(labels).value++,
        dec: (labels) => void rec(labels).value--,
        observe: (labels, v) => {
          const r = rec(labels);
          r.value++;
          r.sum += v;
          let i = 0;
          while (i < BOUNDS.length && v > BOUNDS[i]) i++;
          r.buckets[i]++;
        },
      };
    }
  }
  if (EXTRAS.has('cached')) {
    // The suggested fix: bind each label set once (prom-client `labels()`), keyed by its values.
    for (const [name, metric] of Object.entries(metrics)) {
      const children = new Map();
      const child = (labels) => {
        const k = Object.values(labels).join('\u0000');
        let c = children.get(k);
        if (c === undefined) children.set(k, (c = metric.labels(labels)));
        return c;
      };
      metrics[name] = {
        inc: (labels) => child(labels).inc(),
        dec: (labels) => child(labels).dec(),
        observe: (labels, v) => child(labels).observe(v),
      };
    }
  }
}
const started = new WeakMap();
const sizes = new WeakMap();
const httpLabels = () => ({ service_name: 'flagd', http_route: '/ofrep/v1/evaluate/flags/{key}', http_request_method: 'POST', url_scheme: 'http' });
const hooks = EXTRAS.has('hooks')
  ? {
      onRequest: async (req) => {
        if (metrics) metrics.active.inc(httpLabels());
        started.set(req, process.hrtime.bigint());
      },
      onSend: async (req, _reply, payload) => {
        sizes.set(req, typeof payload === 'string' ? Buffer.byteLength(payload) : 0);
        return payload;
      },
      onResponse: async (req, reply) => {
        if (!metrics) return;
        metrics.active.dec(httpLabels());
        const labels = { ...httpLabels(), http_response_status_code: String(reply.statusCode) };
        metrics.duration.observe(labels, Number(process.hrtime.bigint() - started.get(req)) / 1e9);
        metrics.size.observe(labels, sizes.get(req) ?? 0);
      },
    }
  : {};
app.post('/ofrep/v1/evaluate/flags/:key', hooks, async (req, reply) => {
  if (EXTRAS.has('buffer')) JSON.parse(req.body.toString('utf8'));
  if (metrics) {
    const key = req.params.key;
    metrics.impressions.inc({ feature_flag_key: key, feature_flag_result_variant: 'on', feature_flag_provider_name: 'flagd', feature_flag_reason: 'STATIC' });
    metrics.reasons.inc({ feature_flag_provider_name: 'flagd', feature_flag_reason: 'STATIC', feature_flag_key: key });
    metrics.evaluation.observe({ service: 'ofrep', method: 'evaluate' }, 1e-6);
  }
  return reply.type('application/json').send(body);
});

if (bulk !== undefined) {
  JSON.parse(bulk.body);
  app.post('/ofrep/v1/evaluate/flags', hooks, async (_req, reply) => reply.header('etag', bulk.etag).type('application/json').send(bulk.body));
}

await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ msg: 'bare fastify listening', ofrep: app.server.address().port })}\n`);

process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
