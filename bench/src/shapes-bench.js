/**
 * The load-shape benchmark (issue 17): the real `vexil` process against bare ceilings across load
 * shapes, each shape measured for ours and its ceiling in the same run, in interleaved rounds.
 *
 *   1. ResolveBoolean on a static flag, h2load `-t 1`, every `-c` in {1, 8, 64} × `-m` in
 *      {1, 32, 100}, for three protocols on the evaluation port:
 *      - gRPC flagd.evaluation.v1 and v2 vs bare-grpc-server.js (grpc-js answering a constant);
 *      - Connect unary (POST application/proto over h2c, the daemon's connect-node route) vs
 *        bare-connect-server.js (node:http2 answering the same bytes).
 *   2. OFREP single (`POST /ofrep/v1/evaluate/flags/{key}`) and bulk (`POST /ofrep/v1/evaluate/flags`)
 *      with wrk at 1, 8 and 64 connections vs bare-fastify-server.js returning the same bytes.
 *
 * Not a test: run it with `npm run bench:shapes` at the repository root. See bench/README.md.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commitLabel, daemonRequire, ensureTools, grpcUnary, h2loadGrpc, scratchRun, spawnNode, startDaemon, stop, wrkPost } from './daemon-lib.js';
import { CONTEXT, FLAG_CASES, evalFlagDoc, grpcFrame } from './daemon-fixtures.js';
import { toText } from './fixtures.js';
import { finishRun, machine, median } from './harness.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const LOAD_SEC = Math.max(1, Math.round(Number(process.env.BENCH_LOAD_SEC ?? (QUICK ? 1 : 2)))); // whole seconds: wrk takes no fractions
const WARMUP_SEC = 0.5;
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8,64').split(',').map(Number);
const STREAMS = (process.env.BENCH_STREAMS ?? '1,32,100').split(',').map(Number);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,8,64').split(',').map(Number);
/** BENCH_ONLY=grpc-v1,grpc-v2,connect,ofrep-single,ofrep-bulk: run only some protocols (a partial run writes shapes-partial.json). */
const ALL = ['grpc-v1', 'grpc-v2', 'connect', 'ofrep-single', 'ofrep-bulk'];
const ONLY = new Set((process.env.BENCH_ONLY ?? ALL.join(',')).split(',').map((x) => x.trim()));
const TARGET_RATIO = 0.8;
const STATIC = FLAG_CASES.find((c) => c.id === 'static');

const t0 = performance.now();
const problems = [];
const problem = (msg) => {
  problems.push(msg);
  console.error(`!!! ${msg}`);
};

const fmtRate = (r) => (r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0));
const rotate = (xs, r) => xs.map((_, i) => xs[(i + r) % xs.length]);

const tools = ensureTools();
const env = {
  ...machine(),
  grpcJs: daemonRequire('@grpc/grpc-js/package.json').version,
  fastify: daemonRequire('fastify/package.json').version,
  tools,
  commit: commitLabel(['daemon/src', 'providers/core/src']),
  config: { only: [...ONLY], rounds: ROUNDS, loadSeconds: LOAD_SEC, warmupSeconds: WARMUP_SEC, h2load: { clients: CLIENTS, streamsPerClient: STREAMS, threads: 1 }, wrk: { connections: CONNECTIONS, threads: 1 } },
};
console.log('vexil daemon vs bare ceilings across load shapes — real processes, interleaved rounds, medians of calls/s');
console.log(`node ${env.node}, ${env.cpu} x${env.cpus}, grpc-js ${env.grpcJs}, fastify ${env.fastify}, ${tools.h2load}, ${tools.wrk}, ${ROUNDS} rounds of ${LOAD_SEC} s, commit ${env.commit}`);

const { work, children, track, cleanup } = scratchRun('vexil-shapes-bench-');
const evalFile = join(work, 'flags-1000.json');
writeFileSync(evalFile, toText(evalFlagDoc()));

const rows = [];
try {
  const daemon = track(await startDaemon(evalFile, { nodeArgs: (process.env.DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean) }));
  if (ONLY.has('grpc-v1') || ONLY.has('grpc-v2') || ONLY.has('connect')) await runH2(daemon);
  if (ONLY.has('ofrep-single') || ONLY.has('ofrep-bulk')) await runOfrep(daemon);
} finally {
  for (const c of [...children]) await stop(c);
  cleanup();
}
report();

// ---------------------------------------------------------------------------------------------
// 1: gRPC v1, v2 and Connect over HTTP/2.


/** One Connect unary call over h2c with the very headers and body h2load sends: `{ status, type, body }`. */
function connectUnary(port, path, headers, body) {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.once('error', reject);
    const h = Object.fromEntries(headers.map((x) => x.split(': ')));
    const req = session.request({ ':method': 'POST', ':path': path, ...h });
    const chunks = [];
    let head;
    req.once('response', (r) => (head = r));
    req.on('data', (d) => chunks.push(d));
    req.once('end', () => {
      session.close();
      resolve({ status: head?.[':status'], type: head?.['content-type'], body: Buffer.concat(chunks) });
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function runH2(daemon) {
  const protocols = [
    { id: 'grpc-v1', title: 'gRPC v1', schema: evaluationV1, path: '/flagd.evaluation.v1.Service/ResolveBoolean' },
    { id: 'grpc-v2', title: 'gRPC v2', schema: evaluationV2, path: '/flagd.evaluation.v2.Service/ResolveBoolean' },
    // connect-node takes binary Connect unary without connect-protocol-version; sent anyway, as connect-web does.
    { id: 'connect', title: 'Connect v2', schema: evaluationV2, path: '/flagd.evaluation.v2.Service/ResolveBoolean', headers: ['content-type: application/proto', 'connect-protocol-version: 1'] },
  ].filter((p) => ONLY.has(p.id));
  for (const p of protocols) {
    p.msg = Buffer.from(toBinary(p.schema.ResolveBooleanRequestSchema, create(p.schema.ResolveBooleanRequestSchema, { flagKey: STATIC.flag, context: CONTEXT })));
    p.file = join(work, `${p.id}.bin`);
    // gRPC bodies are length-prefixed messages; a Connect unary body is the message itself.
    writeFileSync(p.file, p.headers ? p.msg : grpcFrame(p.msg));
  }
  // The ceilings answer the daemon's own answers: same response messages, same bytes.
  const answers = {};
  for (const [v, schema] of [
    ['v1', evaluationV1],
    ['v2', evaluationV2],
  ]) {
    const req = toBinary(schema.ResolveBooleanRequestSchema, create(schema.ResolveBooleanRequestSchema, { flagKey: STATIC.flag, context: CONTEXT }));
    answers[v] = await grpcUnary(daemon.ports.evaluation, `/flagd.evaluation.${v}.Service/ResolveBoolean`, Buffer.from(req));
  }
  const bareGrpc = track(
    await spawnNode(fileURLToPath(new URL('./bare-grpc-server.js', import.meta.url)), [evalFile, answers.v2.toString('base64'), answers.v1.toString('base64')], {
      isReady: (o) => o.msg === 'bare grpc listening',
    }),
  );
  const bareConnect = track(
    await spawnNode(fileURLToPath(new URL('./bare-connect-server.js', import.meta.url)), [answers.v2.toString('base64')], { isReady: (o) => o.msg === 'bare connect listening' }),
  );

  // Verify once per target, with the exact bytes h2load sends, that it answers OK with the
  // expected value, reason and variant; note each answer's DATA bytes for the count-mode check.
  for (const p of protocols) {
    p.targets = [
      { id: 'ours', port: daemon.ports.evaluation },
      { id: 'bare', port: p.headers ? bareConnect.info.evaluation : bareGrpc.info.evaluation },
    ];
    for (const t of p.targets) {
      let bytes;
      if (p.headers) {
        const r = await connectUnary(t.port, p.path, p.headers, p.msg);
        if (r.status !== 200 || r.type !== 'application/proto') problem(`${p.id} ${t.id}: HTTP ${r.status} ${r.type} ${r.body.toString('utf8')}`);
        bytes = r.body;
        t.dataBytes = bytes.length;
      } else {
        bytes = await grpcUnary(t.port, p.path, p.msg);
        t.dataBytes = 5 + bytes.length;
      }
      const r = fromBinary(p.schema.ResolveBooleanResponseSchema, bytes);
      const e = STATIC.expect;
      if (r.value !== e.value || r.reason !== e.reason || r.variant !== e.variant) {
        problem(`${p.id} ${t.id}: unexpected response ${JSON.stringify({ value: r.value, reason: r.reason, variant: r.variant })}`);
      }
    }
    if (p.targets[0].dataBytes !== p.targets[1].dataBytes) problem(`${p.id}: ours answers ${p.targets[0].dataBytes} B, bare ${p.targets[1].dataBytes} B`);
    console.log(`${p.title} sanity: OK from ours and bare, ${p.targets[0].dataBytes} B of DATA per call`);
  }

  const h2 = (p, t, opts) => h2loadGrpc({ port: t.port, path: p.path, bodyFile: p.file, headers: p.headers, ...opts });
  const check = (p, t, r, what) => {
    if (r.failed + r.errored + r.timeout > 0 || r.nonOk > 0) problem(`h2load ${p.id} ${t.id} ${what}: ${JSON.stringify(r)}`);
  };
  // Count mode, where h2load's counters are exact: every request a 2xx and exactly one answer's
  // DATA bytes per request (a gRPC error is HTTP 200 with no message, so this catches it too).
  console.log('HTTP/2 warm-up and exact check (count mode, -c 8 -m 32) ...');
  for (const p of protocols) {
    for (const t of p.targets) {
      const n = QUICK ? 5_000 : 20_000;
      const r = await h2(p, t, { clients: 8, streams: 32, requests: n });
      check(p, t, r, 'count');
      if (r.status2xx !== n || r.dataBytes !== n * t.dataBytes) {
        problem(`h2load ${p.id} ${t.id}: ${r.status2xx} 2xx and ${r.dataBytes} data bytes for ${n} requests, expected ${n} and ${n * t.dataBytes}`);
      }
    }
  }
  for (const p of protocols) {
    for (const c of CLIENTS) {
      for (const m of STREAMS) {
        const per = { ours: [], bare: [] };
        for (let r = 0; r < ROUNDS; r++) {
          for (const t of rotate(p.targets, r)) {
            const res = await h2(p, t, { clients: c, streams: m, seconds: LOAD_SEC, warmupSeconds: WARMUP_SEC });
            check(p, t, res, `-c ${c} -m ${m}`);
            per[t.id].push(res.reqPerSec);
          }
        }
        addRow(p.title, { c, m }, per);
      }
    }
  }
  await stop(bareGrpc.child);
  await stop(bareConnect.child);
}

// ---------------------------------------------------------------------------------------------
// 2: OFREP single and bulk.

async function runOfrep(daemon) {
  const ofrepBody = JSON.stringify({ context: CONTEXT });
  const post = async (url) => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ofrepBody });
    return { status: r.status, etag: r.headers.get('etag'), text: await r.text() };
  };
  const singlePath = `/ofrep/v1/evaluate/flags/${STATIC.flag}`;
  const bulkPath = '/ofrep/v1/evaluate/flags';
  const base = (port) => `http://127.0.0.1:${port}`;
  const single = await post(base(daemon.ports.ofrep) + singlePath);
  const s = JSON.parse(single.text);
  if (single.status !== 200 || s.value !== STATIC.expect.value || s.reason !== STATIC.expect.reason || s.variant !== STATIC.expect.variant) {
    problem(`OFREP single ours: unexpected answer ${single.status} ${single.text}`);
  }
  const bulk = await post(base(daemon.ports.ofrep) + bulkPath);
  const b = JSON.parse(bulk.text);
  const inBulk = b.flags?.find((f) => f.key === STATIC.flag);
  if (bulk.status !== 200 || !bulk.etag || inBulk?.value !== STATIC.expect.value || inBulk?.reason !== STATIC.expect.reason) {
    problem(`OFREP bulk ours: unexpected answer ${bulk.status}, etag ${bulk.etag}, ${STATIC.flag} ${JSON.stringify(inBulk)}`);
  }
  const bulkFile = join(work, 'bulk-answer.json');
  writeFileSync(bulkFile, JSON.stringify({ body: bulk.text, etag: bulk.etag }));
  const bare = track(
    await spawnNode(fileURLToPath(new URL('./bare-fastify-server.js', import.meta.url)), [single.text, bulkFile], { isReady: (o) => o.msg === 'bare fastify listening' }),
  );
  // The ceiling must answer byte for byte what the daemon answers.
  for (const [path, ours] of [
    [singlePath, single],
    [bulkPath, bulk],
  ]) {
    const a = await post(base(bare.info.ofrep) + path);
    if (a.status !== 200 || a.text !== ours.text || a.etag !== ours.etag) problem(`OFREP bare ${path}: answers ${a.status}, ${a.text.length} B, etag ${a.etag}; ours ${ours.text.length} B, etag ${ours.etag}`);
  }
  console.log(`OFREP sanity: single ${single.text.length} B, bulk ${bulk.text.length} B (${b.flags.length} flags); bare answers the same bytes`);

  const lua = join(work, 'ofrep.lua');
  writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(ofrepBody)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  const kinds = [
    { id: 'ofrep-single', title: 'OFREP single', path: singlePath },
    { id: 'ofrep-bulk', title: 'OFREP bulk', path: bulkPath },
  ].filter((k) => ONLY.has(k.id));
  const checkWrk = (id, r) => {
    if (r.non2xx > 0 || r.socketErrors > 0) problem(`wrk ${id}: ${JSON.stringify(r)}`);
  };
  for (const k of kinds) {
    const targets = [
      { id: 'ours', url: base(daemon.ports.ofrep) + k.path },
      { id: 'bare', url: base(bare.info.ofrep) + k.path },
    ];
    for (const t of targets) checkWrk(`${k.id} ${t.id} warm-up`, await wrkPost({ url: t.url, luaFile: lua, connections: 8, seconds: 1 }));
    for (const c of CONNECTIONS) {
      const per = { ours: [], bare: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const t of rotate(targets, r)) {
          const res = await wrkPost({ url: t.url, luaFile: lua, connections: c, seconds: LOAD_SEC });
          checkWrk(`${k.id} ${t.id} -c ${c}`, res);
          per[t.id].push(res.reqPerSec);
        }
      }
      addRow(k.title, { c }, per);
    }
  }
  await stop(bare.child);
}

// ---------------------------------------------------------------------------------------------
// Results.

function addRow(protocol, shape, per) {
  const ratios = per.ours.map((o, i) => o / per.bare[i]);
  const row = {
    protocol,
    ...shape,
    ours: median(per.ours),
    bare: median(per.bare),
    ratio: median(per.ours) / median(per.bare),
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    rounds: per,
    met: median(per.ours) / median(per.bare) >= TARGET_RATIO,
  };
  rows.push(row);
  const shapeText = row.m === undefined ? `-c ${row.c}` : `-c ${row.c} -m ${row.m}`;
  console.log(`${protocol} ${shapeText}: ours ${fmtRate(row.ours)}/s, bare ${fmtRate(row.bare)}/s, ratio ${row.ratio.toFixed(2)} (${row.minRatio.toFixed(2)} – ${row.maxRatio.toFixed(2)})`);
}

function report() {
  const head = ['protocol', 'c', 'm', 'ours (median)', 'bare (median)', 'ratio', 'ratio min – max', ''];
  const cells = rows.map((r) => [
    r.protocol,
    String(r.c),
    r.m === undefined ? '—' : String(r.m),
    `${fmtRate(r.ours)}/s`,
    `${fmtRate(r.bare)}/s`,
    r.ratio.toFixed(2),
    `${r.minRatio.toFixed(2)} – ${r.maxRatio.toFixed(2)}`,
    r.met ? 'met' : 'NOT MET',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)) + 2);
  console.log(`\nResults (ratio: median ours ÷ median bare; target ≥ ${TARGET_RATIO} on every row; m is h2load's streams per connection, c its connections or wrk's)`);
  for (const line of [head, ...cells]) console.log(line.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(''));
  const missed = rows.filter((r) => !r.met);
  console.log(`\nTarget: ${rows.length - missed.length} of ${rows.length} rows at ≥ ${TARGET_RATIO}`);
  finishRun({
    t0,
    problems,
    file: ONLY.size === ALL.length && CLIENTS.length === 3 && STREAMS.length === 3 && CONNECTIONS.length === 3 ? 'shapes-latest.json' : 'shapes-partial.json',
    results: {
      env,
      note: 'Medians of interleaved rounds on a possibly noisy shared machine: ratios against the same-run ceiling matter more than absolute numbers.',
      sanity: { ok: problems.length === 0, problems },
      target: { ratioAtLeast: TARGET_RATIO },
      rows,
    },
  });
}
