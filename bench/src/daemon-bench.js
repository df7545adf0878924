/**
 * The daemon benchmark: the real `vexil` process, driven over its real ports by load generators
 * in other processes, each case next to its ceiling (a bare server doing the least that can be
 * done for the same wire calls) measured in the same run, in interleaved rounds.
 *
 *   1. gRPC ResolveBoolean throughput (h2load): static flag and targeted flag vs bare grpc-js.
 *   2. OFREP single-flag evaluation throughput (wrk): static and targeted flag vs bare fastify.
 *   3. 10,000 concurrent streams (5,000 SyncFlags + 5,000 EventStream): daemon RSS per stream, and
 *      the time from a flag-file write to each stream receiving the update; then one subscriber.
 *   4. Cold start with a 1,000-flag file: spawn → /readyz 200, vs a bare Node process.
 *
 * Not a test: run it with `npm run bench:daemon` at the repository root. See bench/README.md.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { evaluationV2 } from '@vexil/proto';
import { execSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DAEMON_BIN,
  grpcUnary,
  REPO_ROOT,
  daemonRequire,
  cpuMs,
  ensureTools,
  freePort,
  h2loadGrpc,
  nowMs,
  rssKb,
  scratchRun,
  settledRssKb,
  sleep,
  spawnNode,
  startDaemon,
  stop,
  wrkPost,
} from './daemon-lib.js';
import { CONTEXT, COLD_FLAGS, FLAG_CASES, STREAM_FLAGS, evalFlagDoc, forkLoad, grpcFrame, streamFlagText } from './daemon-fixtures.js';
import { toText } from './fixtures.js';
import { finishRun, machine, median, quantile } from './harness.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 5));
const LOAD_SEC = Math.max(1, Math.round(Number(process.env.BENCH_LOAD_SEC ?? (QUICK ? 2 : 3)))); // whole seconds: wrk takes no fractions
const WARMUP_SEC = 0.5;
const H2_CLIENTS = 8;
const H2_STREAMS = 32;
const WRK_CONNECTIONS = 32;
const STREAMS_PER_KIND = Number(process.env.BENCH_STREAMS ?? 5000);
const CHANNELS_PER_KIND = 50;
const MANY_CHANGES = Number(process.env.BENCH_MANY_CHANGES ?? (QUICK ? 3 : 7));
const SINGLE_CHANGES = Number(process.env.BENCH_SINGLE_CHANGES ?? (QUICK ? 10 : 30));
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? (QUICK ? 3 : 7));

const TARGETS = {
  grpcRatio: 0.7,
  ofrepRatio: 0.7,
  kbPerStream: 20,
  p50ManyMs: 100,
  p99ManyMs: 1000,
  p99OneMs: 100,
  coldStartMs: 1000,
};

const t0 = performance.now();
const problems = [];
const notes = [];
const problem = (msg) => {
  problems.push(msg);
  console.error(`!!! ${msg}`);
};


// ---------------------------------------------------------------------------------------------
// Fixtures.

// ---------------------------------------------------------------------------------------------
// Small statistics / formatting.

const minOf = (xs) => Math.min(...xs);
const maxOf = (xs) => Math.max(...xs);
const fmtRate = (r) => (r >= 1e3 ? `${(r / 1e3).toFixed(1)} k/s` : `${r.toFixed(0)} /s`);
const fmtMs = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
const fmtKb = (kb) => `${kb.toFixed(1)} KB`;
const fmtRatio = (r) => (r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`);
const rotate = (xs, r) => xs.map((_, i) => xs[(i + r) % xs.length]);

/**
 * Summary of paired rounds. `higherIsBetter`: ratio = ours ÷ ceiling (throughput); otherwise
 * ratio = ceiling ÷ ours (times, memory), so for every row a higher ratio is better for us.
 */
function summarize(oursPerRound, ceilingPerRound, higherIsBetter) {
  const ratios = oursPerRound.map((o, i) => (higherIsBetter ? o / ceilingPerRound[i] : ceilingPerRound[i] / o));
  const ours = median(oursPerRound);
  const ceiling = median(ceilingPerRound);
  return {
    ours,
    ceiling,
    ratio: higherIsBetter ? ours / ceiling : ceiling / ours,
    minRatio: minOf(ratios),
    maxRatio: maxOf(ratios),
    oursMin: minOf(oursPerRound),
    oursMax: maxOf(oursPerRound),
    rounds: { ours: oursPerRound, ceiling: ceilingPerRound },
  };
}

// ---------------------------------------------------------------------------------------------
// Environment.

const tools = ensureTools();
const env = {
  ...machine(),
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  grpcJs: daemonRequire('@grpc/grpc-js/package.json').version,
  fastify: daemonRequire('fastify/package.json').version,
  tools,
  commit: (() => {
    try {
      const head = execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      const dirty = execSync('git status --porcelain -- daemon/src providers/core/src', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      return dirty ? `${head} (+ uncommitted changes in daemon/src or providers/core/src)` : head;
    } catch {
      return 'unknown';
    }
  })(),
  config: {
    only: process.env.BENCH_ONLY ?? 'all',
    bareFanout: process.env.BARE_FANOUT ?? 'default (serialise per stream, as the daemon does)',
    rounds: ROUNDS,
    loadSeconds: LOAD_SEC,
    warmupSeconds: WARMUP_SEC,
    h2load: { clients: H2_CLIENTS, streamsPerClient: H2_STREAMS, threads: 1 },
    wrk: { connections: WRK_CONNECTIONS, threads: 1 },
    streams: { perKind: STREAMS_PER_KIND, channelsPerKind: CHANNELS_PER_KIND, flagsInFile: STREAM_FLAGS },
    manyStreamChanges: MANY_CHANGES,
    singleSubscriberChanges: SINGLE_CHANGES,
    coldStart: { runs: COLD_RUNS, flags: COLD_FLAGS, pollMs: 5 },
  },
};

console.log('vexil daemon vs bare ceilings — real processes, interleaved rounds, medians; ratio > 1 is better for us');
console.log(
  `node ${env.node}, ${env.cpu} x${env.cpus}, grpc-js ${env.grpcJs}, fastify ${env.fastify}, ${tools.h2load}, ${tools.wrk}, ` +
    `${ROUNDS} rounds of ${LOAD_SEC} s, commit ${env.commit}`,
);

notes.push('the daemon debounces file events by 5 ms (sources/file); the bare gRPC ceiling re-reads at once');
notes.push('stream latencies include the load processes\' own grpc-js work on the same 2 cores; the ceiling pays the same');
if (process.env.BARE_FANOUT) notes.push(`EXPERIMENT: BARE_FANOUT=${process.env.BARE_FANOUT} changes the stream ceiling`);
for (const n of notes) console.log(`note: ${n}`);

const { work, children, track, cleanup } = scratchRun('vexil-daemon-bench-');

const evalFile = join(work, 'flags-1000.json');
writeFileSync(evalFile, toText(evalFlagDoc()));

const results = {};
/** BENCH_ONLY=throughput,streams,coldstart: run only some phases (a partial run still writes the JSON). */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'throughput,streams,coldstart').split(',').map((x) => x.trim()));
try {
  if (ONLY.has('throughput')) await runThroughput();
  if (ONLY.has('streams')) await runStreams();
  if (ONLY.has('coldstart')) await runColdStart();
} finally {
  for (const c of [...children]) await stop(c);
  cleanup();
}
report();

// ---------------------------------------------------------------------------------------------
// 1 + 2: throughput.

async function runThroughput() {
  const daemon = track(await startDaemon(evalFile));

  // ---- 1. gRPC ResolveBoolean.
  const path = '/flagd.evaluation.v2.Service/ResolveBoolean';
  const bodies = {};
  for (const c of FLAG_CASES) {
    const msg = Buffer.from(toBinary(evaluationV2.ResolveBooleanRequestSchema, create(evaluationV2.ResolveBooleanRequestSchema, { flagKey: c.flag, context: CONTEXT })));
    const file = join(work, `resolve-${c.id}.bin`);
    writeFileSync(file, grpcFrame(msg));
    bodies[c.id] = { msg, file };
  }
  // The ceiling answers the daemon's own static answer: same response message, same bytes.
  const staticAnswer = await grpcUnary(daemon.ports.evaluation, path, bodies.static.msg);
  const bareGrpc = track(
    await spawnNode(fileURLToPath(new URL('./bare-grpc-server.js', import.meta.url)), [evalFile, staticAnswer.toString('base64')], {
      isReady: (o) => o.msg === 'bare grpc listening',
    }),
  );
  // Verify once, with a grpc-js client sending the very bytes h2load sends, that every target
  // answers grpc-status 0 with the expected response; note each response's frame size.
  const frameBytes = {};
  const grpcTargets = [
    ...FLAG_CASES.map((c) => ({ id: `daemon-${c.id}`, port: daemon.ports.evaluation, body: bodies[c.id], expect: c.expect })),
    { id: 'bare', port: bareGrpc.info.evaluation, body: bodies.static, expect: FLAG_CASES[0].expect },
  ];
  for (const t of grpcTargets) {
    const res = await grpcUnary(t.port, path, t.body.msg);
    const r = fromBinary(evaluationV2.ResolveBooleanResponseSchema, res);
    if (r.value !== t.expect.value || r.reason !== t.expect.reason || r.variant !== t.expect.variant) {
      problem(`gRPC ${t.id}: unexpected response ${JSON.stringify({ value: r.value, reason: r.reason, variant: r.variant })}`);
    }
    frameBytes[t.id] = 5 + res.length;
  }
  console.log(
    `\ngRPC sanity: grpc-status 0 from every target; responses: ${grpcTargets.map((t) => `${t.id} ${frameBytes[t.id]} B`).join(', ')}`,
  );

  const h2 = (t, opts) => h2loadGrpc({ port: t.port, path, bodyFile: t.body.file, clients: H2_CLIENTS, streams: H2_STREAMS, ...opts });
  const checkH2 = (t, r) => {
    if (r.failed + r.errored + r.timeout > 0 || r.nonOk > 0) problem(`h2load ${t.id}: ${JSON.stringify(r)}`);
  };
  // Warm-up in count mode, where h2load's counters are exact: every request must be a 2xx, and
  // since a gRPC error is HTTP 200 with grpc-status in the trailers (which h2load cannot see) and
  // no message, the DATA bytes must be exactly one response frame per request.
  console.log('gRPC warm-up and exact check (count mode) ...');
  for (const t of grpcTargets) {
    const n = QUICK ? 5_000 : 20_000;
    const r = await h2(t, { requests: n });
    checkH2(t, r);
    if (r.status2xx !== n || r.dataBytes !== n * frameBytes[t.id]) {
      problem(`h2load ${t.id}: ${r.status2xx} 2xx and ${r.dataBytes} data bytes for ${n} requests, expected ${n} and ${n * frameBytes[t.id]}`);
    }
  }
  const grpcRounds = Object.fromEntries(grpcTargets.map((t) => [t.id, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of rotate(grpcTargets, r)) {
      const res = await h2(t, { seconds: LOAD_SEC, warmupSeconds: WARMUP_SEC });
      checkH2(t, res);
      grpcRounds[t.id].push(res.reqPerSec);
    }
    process.stdout.write(`gRPC round ${r + 1}/${ROUNDS}: ${grpcTargets.map((t) => `${t.id} ${fmtRate(grpcRounds[t.id][r])}`).join(', ')}\n`);
  }
  results.grpc = FLAG_CASES.map((c) => ({
    id: `grpc-${c.id}`,
    title: `gRPC ResolveBoolean, ${c.title}`,
    unit: 'req/s',
    ...summarize(grpcRounds[`daemon-${c.id}`], grpcRounds.bare, true),
    target: { ratioAtLeast: TARGETS.grpcRatio },
  }));
  await stop(bareGrpc.child);

  // ---- 2. OFREP single evaluation.
  const ofrepUrl = (port, flag) => `http://127.0.0.1:${port}/ofrep/v1/evaluate/flags/${flag}`;
  const ofrepBody = JSON.stringify({ context: CONTEXT });
  const post = async (url) => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ofrepBody });
    return { status: r.status, text: await r.text() };
  };
  const daemonAnswers = {};
  for (const c of FLAG_CASES) {
    const a = await post(ofrepUrl(daemon.ports.ofrep, c.flag));
    const body = JSON.parse(a.text);
    if (a.status !== 200 || body.value !== c.expect.value || body.reason !== c.expect.reason || body.variant !== c.expect.variant) {
      problem(`OFREP daemon ${c.id}: unexpected answer ${a.status} ${a.text}`);
    }
    daemonAnswers[c.id] = a.text;
  }
  // The ceiling answers the daemon's own static answer, byte for byte.
  const bareFastify = track(
    await spawnNode(fileURLToPath(new URL('./bare-fastify-server.js', import.meta.url)), [daemonAnswers.static], { isReady: (o) => o.msg === 'bare fastify listening' }),
  );
  const bareAnswer = await post(ofrepUrl(bareFastify.info.ofrep, 'bench-static'));
  if (bareAnswer.status !== 200 || bareAnswer.text !== daemonAnswers.static) problem(`OFREP bare: unexpected answer ${bareAnswer.status} ${bareAnswer.text}`);
  console.log(`\nOFREP sanity: daemon static ${daemonAnswers.static}; daemon targeted ${daemonAnswers.targeted}; bare answers the daemon's static body`);

  const lua = join(work, 'ofrep.lua');
  writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(ofrepBody)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  const ofrepTargets = [
    ...FLAG_CASES.map((c) => ({ id: `daemon-${c.id}`, url: ofrepUrl(daemon.ports.ofrep, c.flag) })),
    { id: 'bare', url: ofrepUrl(bareFastify.info.ofrep, 'bench-static') },
  ];
  const wrk = (t, seconds) => wrkPost({ url: t.url, luaFile: lua, connections: WRK_CONNECTIONS, seconds });
  const checkWrk = (t, r) => {
    if (r.non2xx > 0 || r.socketErrors > 0) problem(`wrk ${t.id}: ${JSON.stringify(r)}`);
  };
  console.log('OFREP warm-up ...');
  for (const t of ofrepTargets) checkWrk(t, await wrk(t, 1));
  const ofrepRounds = Object.fromEntries(ofrepTargets.map((t) => [t.id, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of rotate(ofrepTargets, r)) {
      const res = await wrk(t, LOAD_SEC);
      checkWrk(t, res);
      ofrepRounds[t.id].push(res.reqPerSec);
    }
    process.stdout.write(`OFREP round ${r + 1}/${ROUNDS}: ${ofrepTargets.map((t) => `${t.id} ${fmtRate(ofrepRounds[t.id][r])}`).join(', ')}\n`);
  }
  results.ofrep = FLAG_CASES.map((c) => ({
    id: `ofrep-${c.id}`,
    title: `OFREP evaluate, ${c.title}`,
    unit: 'req/s',
    ...summarize(ofrepRounds[`daemon-${c.id}`], ofrepRounds.bare, true),
    target: { ratioAtLeast: TARGETS.ofrepRatio },
  }));
  await stop(bareFastify.child);
  await stop(daemon.child);
}


// ---------------------------------------------------------------------------------------------
// 3: streams.

async function runStreams() {
  console.log(`\nStreams: ${STREAMS_PER_KIND} SyncFlags + ${STREAMS_PER_KIND} EventStream per server, ${CHANNELS_PER_KIND} connections per kind`);
  const dirs = { daemon: join(work, 'streams-daemon'), bare: join(work, 'streams-bare') };
  const files = {};
  for (const [k, d] of Object.entries(dirs)) {
    mkdirSync(d);
    files[k] = join(d, 'flags.json');
    writeFileSync(files[k], streamFlagText('rev-initial'));
  }
  const daemon = track(await startDaemon(files.daemon));
  const bare = track(
    await spawnNode(fileURLToPath(new URL('./bare-grpc-server.js', import.meta.url)), [files.bare], { isReady: (o) => o.msg === 'bare grpc listening' }),
  );
  const servers = {
    daemon: { pid: daemon.pid, sync: daemon.ports.sync, event: daemon.ports.evaluation },
    bare: { pid: bare.pid, sync: bare.info.sync, event: bare.info.evaluation },
  };
  // Two load processes: syncLoad holds the SyncFlags streams and writes the flag files,
  // eventLoad holds the EventStream streams.
  const syncLoad = track(forkLoad('sync-load'));
  const eventLoad = track(forkLoad('event-load'));
  const loads = { sync: syncLoad, event: eventLoad };

  // The two load processes and this one must share one monotonic clock.
  for (const l of [syncLoad, eventLoad]) {
    const before = nowMs();
    const theirs = await l.call('clock');
    const after = nowMs();
    if (!(before <= theirs && theirs <= after)) problem(`${l.name}'s monotonic clock is not this process's: ${before} <= ${theirs} <= ${after} fails`);
  }

  // Warm-up: a few streams of each kind on each server, opened and closed, so code loaded
  // lazily on the first stream is not charged to the 10,000.
  for (const target of ['daemon', 'bare']) {
    for (const kind of ['sync', 'event']) {
      await loads[kind].call('open', { key: `warm-${target}`, kind, port: servers[target][kind], streams: 20, channels: 2 });
      await loads[kind].call('close', { key: `warm-${target}` });
    }
  }

  const memory = {};
  const firstChecks = {};
  for (const target of ['daemon', 'bare']) {
    const before = await settledRssKb(servers[target].pid);
    const opened = await Promise.all(
      ['sync', 'event'].map((kind) =>
        loads[kind].call('open', { key: `many-${target}`, kind, port: servers[target][kind], streams: STREAMS_PER_KIND, channels: CHANNELS_PER_KIND }),
      ),
    );
    const after = await settledRssKb(servers[target].pid);
    const n = 2 * STREAMS_PER_KIND;
    memory[target] = { rssBeforeKb: before, rssAfterKb: after, streams: n, kbPerStream: (after - before) / n, openMs: Math.max(...opened.map((o) => o.openMs)) };
    firstChecks[target] = opened.map((o) => o.firstCheck);
    console.log(
      `${target}: ${n} streams open in ${fmtMs(memory[target].openMs)}; RSS ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MB = ${fmtKb(memory[target].kbPerStream)} per stream` +
        ` (first messages: ${opened.map((o) => o.firstCheck).join(' / ')})`,
    );
  }

  let rev = 0;
  /** One flag-file write on `target`, timed from just before the write to each stream's update. */
  const change = async (target, key, kinds, timeoutMs) => {
    const marker = `rev-${String(++rev).padStart(6, '0')}-${target}`;
    await Promise.all(kinds.map((k) => loads[k].call('arm', { key, marker })));
    const cpu0 = cpuMs(servers[target].pid);
    const { t0 } = await syncLoad.call('write', { path: files[target], text: streamFlagText(marker) });
    const got = await Promise.all(kinds.map((k) => loads[k].call('collect', { key, timeoutMs })));
    const out = { serverCpuMs: cpuMs(servers[target].pid) - cpu0 };
    kinds.forEach((k, i) => {
      const lat = got[i].arrivals.filter((a) => !Number.isNaN(a)).map((a) => a - t0);
      const missing = got[i].arrivals.length - lat.length;
      if (missing > 0) problem(`${target} ${k}: ${missing} of ${got[i].arrivals.length} streams got no update within ${timeoutMs} ms (${marker})`);
      if (got[i].errorCount > 0) problem(`${target} ${k}: ${got[i].errorCount} stream errors: ${got[i].errors.join('; ')}`);
      out[k] = { latencies: lat, missing };
    });
    return out;
  };

  // 10,000 streams per server: the write-to-update time of every stream, MANY_CHANGES changes per server, interleaved.
  const many = { daemon: [], bare: [] };
  for (let r = 0; r < MANY_CHANGES; r++) {
    for (const target of rotate(['daemon', 'bare'], r)) {
      const c = await change(target, `many-${target}`, ['sync', 'event'], 15_000);
      const all = [...c.sync.latencies, ...c.event.latencies].sort((a, b) => a - b);
      const per = (xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: maxOf(xs) });
      many[target].push({
        p50: quantile(all, 0.5),
        p99: quantile(all, 0.99),
        max: all[all.length - 1],
        min: all[0],
        sync: per(c.sync.latencies),
        event: per(c.event.latencies),
        missing: c.sync.missing + c.event.missing,
        serverCpuMs: c.serverCpuMs,
      });
      await sleep(400);
    }
    process.stdout.write(
      `${2 * STREAMS_PER_KIND}-stream change ${r + 1}/${MANY_CHANGES}: ${['daemon', 'bare'].map((t) => `${t} p50 ${fmtMs(many[t][r].p50)} p99 ${fmtMs(many[t][r].p99)} max ${fmtMs(many[t][r].max)}, server CPU ${fmtMs(many[t][r].serverCpuMs)}`).join('; ')}\n`,
    );
  }
  for (const target of ['daemon', 'bare']) memory[target].rssAfterChangesKb = rssKb(servers[target].pid);
  for (const target of ['daemon', 'bare']) for (const kind of ['sync', 'event']) await loads[kind].call('close', { key: `many-${target}` });

  // One subscriber: SINGLE_CHANGES changes per server, first with one SyncFlags stream, then with one EventStream.
  const single = {};
  for (const kind of ['sync', 'event']) {
    single[kind] = { daemon: [], bare: [] };
    for (const target of ['daemon', 'bare']) await loads[kind].call('open', { key: `one-${target}`, kind, port: servers[target][kind], streams: 1, channels: 1 });
    for (let i = 0; i < SINGLE_CHANGES; i++) {
      for (const target of rotate(['daemon', 'bare'], i)) {
        const c = await change(target, `one-${target}`, [kind], 5_000);
        if (c[kind].latencies.length === 1) single[kind][target].push(c[kind].latencies[0]);
        // A varying pause, so writes do not fall into step with the daemon's 1 s re-stat timer.
        await sleep(60 + ((i * 37) % 90));
      }
    }
    for (const target of ['daemon', 'bare']) await loads[kind].call('close', { key: `one-${target}` });
    console.log(
      `1 ${kind === 'sync' ? 'SyncFlags' : 'EventStream'} subscriber, ${SINGLE_CHANGES} changes: ` +
        ['daemon', 'bare'].map((t) => `${t} p50 ${fmtMs(quantile(single[kind][t], 0.5))} p99 ${fmtMs(quantile(single[kind][t], 0.99))}`).join('; '),
    );
  }

  syncLoad.child.disconnect();
  eventLoad.child.disconnect();
  await stop(bare.child);
  await stop(daemon.child);

  results.streams = {
    memory,
    firstMessages: firstChecks,
    many: {
      perChange: many,
      p50: summarize(many.daemon.map((c) => c.p50), many.bare.map((c) => c.p50), false),
      p99: summarize(many.daemon.map((c) => c.p99), many.bare.map((c) => c.p99), false),
      first: summarize(many.daemon.map((c) => c.min), many.bare.map((c) => c.min), false),
      max: { daemon: maxOf(many.daemon.map((c) => c.max)), bare: maxOf(many.bare.map((c) => c.max)) },
      serverCpuMs: summarize(many.daemon.map((c) => c.serverCpuMs), many.bare.map((c) => c.serverCpuMs), false),
    },
    single: Object.fromEntries(
      ['sync', 'event'].map((kind) => [
        kind,
        {
          latenciesMs: single[kind],
          daemon: { p50: quantile(single[kind].daemon, 0.5), p99: quantile(single[kind].daemon, 0.99), min: minOf(single[kind].daemon), max: maxOf(single[kind].daemon) },
          bare: { p50: quantile(single[kind].bare, 0.5), p99: quantile(single[kind].bare, 0.99), min: minOf(single[kind].bare), max: maxOf(single[kind].bare) },
        },
      ]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// 4: cold start.

/** Spawns a server process and polls GET /readyz on `port` every 5 ms; ms from spawn to the first 200. */
async function coldStart(args, port) {
  const start = nowMs();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  track(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    for (;;) {
      const status = await new Promise((resolve) => {
        const req = httpGet({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', () => resolve(0));
        req.setTimeout(1_000, () => req.destroy());
      });
      if (status === 200) return nowMs() - start;
      if (exited) throw new Error(`${args.join(' ')} exited before /readyz was 200:\n${err}`);
      if (nowMs() - start > 20_000) throw new Error(`${args.join(' ')}: /readyz not 200 within 20 s`);
      await sleep(5);
    }
  } finally {
    await stop(child);
  }
}

async function runColdStart() {
  console.log(`\nCold start: spawn → /readyz 200 with a ${COLD_FLAGS}-flag file (${(readFileSync(evalFile).length / 1e3).toFixed(0)} KB), polled every 5 ms`);
  const starts = {
    daemon: (port) => [DAEMON_BIN, 'start', '-f', `file:${evalFile}`, '--host', '127.0.0.1', '-p', '0', '-m', String(port), '-g', '0', '-r', '0', '-z', 'json'],
    bare: (port) => [fileURLToPath(new URL('./bare-cold-start.js', import.meta.url)), evalFile, String(port)],
  };
  const runs = { daemon: [], bare: [] };
  // One unmeasured run of each warms the OS file cache.
  for (const t of ['daemon', 'bare']) {
    const port = await freePort();
    await coldStart(starts[t](port), port);
  }
  for (let r = 0; r < COLD_RUNS; r++) {
    for (const t of rotate(['daemon', 'bare'], r)) {
      const port = await freePort();
      runs[t].push(await coldStart(starts[t](port), port));
    }
  }
  console.log(`daemon: ${runs.daemon.map(fmtMs).join(', ')}\nbare:   ${runs.bare.map(fmtMs).join(', ')}`);
  results.coldStart = { ...summarize(runs.daemon, runs.bare, false), flags: COLD_FLAGS, fileBytes: readFileSync(evalFile).length };
}

// ---------------------------------------------------------------------------------------------
// Report.

function report() {
  const pad = (s, w) => String(s).padEnd(w);
  const lpad = (s, w) => String(s).padStart(w);
  const rows = [];
  const verdicts = [];
  const row = (title, fmt, s, target, met) => {
    rows.push([
      title,
      fmt(s.ours),
      fmt(s.ceiling),
      fmtRatio(s.ratio),
      s.minRatio === undefined ? '—' : `${fmtRatio(s.minRatio)} – ${fmtRatio(s.maxRatio)}`,
      s.oursMin === undefined ? '—' : `${fmt(s.oursMin)} – ${fmt(s.oursMax)}`,
      target,
      met === undefined ? 'info' : met ? 'met' : 'NOT MET',
    ]);
    if (met !== undefined) verdicts.push({ name: title, target, met, value: s.ours, ratio: s.ratio });
  };
  for (const s of [...(results.grpc ?? []), ...(results.ofrep ?? [])]) row(s.title, fmtRate, s, `ratio >= ${s.target.ratioAtLeast}`, s.ratio >= s.target.ratioAtLeast);

  const st = results.streams;
  if (st) reportStreams(st, row);
  if (results.coldStart) {
    row(`cold start, ${COLD_FLAGS} flags → /readyz 200`, fmtMs, results.coldStart, `< ${TARGETS.coldStartMs} ms`, results.coldStart.ours < TARGETS.coldStartMs);
  }

  const head = ['case', 'ours (median)', 'ceiling', 'ratio', 'ratio min – max', 'ours min – max', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  console.log('\nResults (ratio: ours ÷ ceiling for throughput, ceiling ÷ ours for times and memory: > 1 is better for us)');
  console.log(head.map((h, i) => (i === 0 ? pad(h, widths[i]) : lpad(h, widths[i]))).join(''));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? pad(c, widths[i]) : lpad(c, widths[i]))).join(''));
  if (st) {
    console.log(
      `(streams: p50/p99 are medians over ${MANY_CHANGES} changes of each change's percentile over all ${2 * STREAMS_PER_KIND} streams; worst single update: ` +
        `daemon ${fmtMs(st.many.max.daemon)}, bare ${fmtMs(st.many.max.bare)}. Memory is one measurement per server: RSS after opening ÷ streams.)`,
    );
  }
  conclude(verdicts);
}

function reportStreams(st, row) {
  const mem = { ours: st.memory.daemon.kbPerStream, ceiling: st.memory.bare.kbPerStream };
  mem.ratio = mem.ceiling / mem.ours;
  row(`${2 * STREAMS_PER_KIND} streams: RSS per stream`, fmtKb, mem, `<= ${TARGETS.kbPerStream} KB`, mem.ours <= TARGETS.kbPerStream);
  row(`${2 * STREAMS_PER_KIND} streams: write → update p50`, fmtMs, st.many.p50, `< ${TARGETS.p50ManyMs} ms`, st.many.p50.ours < TARGETS.p50ManyMs);
  row(`${2 * STREAMS_PER_KIND} streams: write → update p99`, fmtMs, st.many.p99, `< ${TARGETS.p99ManyMs} ms`, st.many.p99.ours < TARGETS.p99ManyMs);
  row(`${2 * STREAMS_PER_KIND} streams: write → first stream updated`, fmtMs, st.many.first, '', undefined);
  row(`${2 * STREAMS_PER_KIND} streams: server CPU per update`, fmtMs, st.many.serverCpuMs, '', undefined);
  for (const kind of ['sync', 'event']) {
    const s = st.single[kind];
    const label = kind === 'sync' ? '1 SyncFlags subscriber' : '1 EventStream subscriber';
    row(`${label}: p50 (${SINGLE_CHANGES} changes)`, fmtMs, { ours: s.daemon.p50, ceiling: s.bare.p50, ratio: s.bare.p50 / s.daemon.p50, oursMin: s.daemon.min, oursMax: s.daemon.max }, '', undefined);
    row(`${label}: p99 (${SINGLE_CHANGES} changes)`, fmtMs, { ours: s.daemon.p99, ceiling: s.bare.p99, ratio: s.bare.p99 / s.daemon.p99 }, `< ${TARGETS.p99OneMs} ms`, s.daemon.p99 < TARGETS.p99OneMs);
  }
}

/** Verdicts, warnings, and the results file. */
function conclude(verdicts) {
  const missed = verdicts.filter((v) => !v.met);
  console.log(`\nTargets: ${verdicts.length - missed.length} of ${verdicts.length} met${missed.length ? `; NOT MET: ${missed.map((v) => v.name).join('; ')}` : ''}`);
  // A partial run (BENCH_ONLY) or an experiment (BARE_FANOUT) does not replace the full results.
  finishRun({
    t0,
    problems,
    file: ONLY.size === 3 && !process.env.BARE_FANOUT ? 'daemon-latest.json' : 'daemon-partial.json',
    results: {
      env,
      note: 'Medians of interleaved rounds on a possibly noisy shared machine: ratios against the same-run ceiling matter more than absolute numbers.',
      sanity: { ok: problems.length === 0, problems, notes },
      targets: TARGETS,
      grpc: results.grpc,
      ofrep: results.ofrep,
      streams: results.streams,
      coldStart: results.coldStart,
      verdicts,
    },
  });
}
