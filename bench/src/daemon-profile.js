/**
 * Where the daemon's time goes under one of daemon-bench.js's loads: runs the daemon with
 * `node --cpu-prof`, drives it, stops it (the profile is written at exit), and prints the profile
 * summarised three ways: by area (daemon/src file, core, each npm package, Node internals, GC),
 * the top functions by self time, and the daemon's own functions by inclusive time.
 *
 *   npm run --workspace @vexil/bench profile:daemon -- grpc|grpc-targeted|ofrep|ofrep-targeted|streams [seconds] [--bare]
 *
 * `--bare` profiles the ceiling server instead (grpc and ofrep modes), under the same load.
 *
 * The .cpuprofile file is kept in bench/results/profiles/ (open it in Chrome DevTools or speedscope).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { evaluationV2 } from '@vexil/proto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTEXT, FLAG_CASES, evalFlagDoc, forkLoad, grpcFrame, streamFlagText } from './daemon-fixtures.js';
import { REPO_ROOT, ensureTools, h2loadGrpc, sleep, spawnNode, startDaemon, stop, wrkPost } from './daemon-lib.js';
import { toText } from './fixtures.js';

/** Source maps of daemon/dist and core/dist files, so lines are reported in the .ts sources. */
const maps = new Map();

const args = process.argv.slice(2);
/** `--bare`: profile the ceiling (bare-grpc-server.js / bare-fastify-server.js) instead of the daemon. */
const BARE = args.includes('--bare');
const [mode = 'grpc', secondsArg = '10'] = args.filter((a) => a !== '--bare');
const seconds = Number(secondsArg);
const MODES = ['grpc', 'grpc-targeted', 'ofrep', 'ofrep-targeted', 'streams'];
if (!MODES.includes(mode) || (BARE && mode === 'streams')) throw new Error(`mode must be one of ${MODES.join(', ')} (--bare: not streams)`);

ensureTools();
const work = mkdtempSync(join(os.tmpdir(), 'vexil-daemon-profile-'));
const profDir = join(work, 'prof');
mkdirSync(profDir);
const flagCase = FLAG_CASES.find((c) => c.id === (mode.endsWith('-targeted') ? 'targeted' : 'static'));

let file = join(work, 'flags.json');
if (mode === 'streams') {
  mkdirSync(join(work, 's'));
  file = join(work, 's', 'flags.json');
  writeFileSync(file, streamFlagText('rev-initial'));
} else {
  writeFileSync(file, toText(evalFlagDoc()));
}

const profArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
let daemon;
if (BARE) {
  // The ceiling under the same load, for comparison: the bare server is the profiled process.
  let proc;
  if (mode.startsWith('grpc')) {
    proc = await spawnNode(fileURLToPath(new URL('./bare-grpc-server.js', import.meta.url)), [file], { nodeArgs: profArgs, isReady: (o) => o.msg === 'bare grpc listening' });
  } else {
    const body = JSON.stringify({ value: true, key: flagCase.flag, reason: 'STATIC', variant: 'on', metadata: { flagSetId: 'vexil-bench', version: '2024.11.3', environment: 'production' } });
    proc = await spawnNode(fileURLToPath(new URL('./bare-fastify-server.js', import.meta.url)), [body], { nodeArgs: profArgs, isReady: (o) => o.msg === 'bare fastify listening' });
  }
  daemon = { ...proc, ports: { evaluation: proc.info.evaluation, sync: proc.info.sync, ofrep: proc.info.ofrep } };
} else {
  daemon = await startDaemon(file, { nodeArgs: profArgs });
}
console.log(`profiling the ${BARE ? 'bare server' : 'daemon'} (pid ${daemon.pid}) under ${mode} for ~${seconds} s ...`);
try {
  if (mode.startsWith('grpc')) {
    const msg = Buffer.from(toBinary(evaluationV2.ResolveBooleanRequestSchema, create(evaluationV2.ResolveBooleanRequestSchema, { flagKey: flagCase.flag, context: CONTEXT })));
    const bodyFile = join(work, 'req.bin');
    writeFileSync(bodyFile, grpcFrame(msg));
    const r = await h2loadGrpc({ port: daemon.ports.evaluation, path: '/flagd.evaluation.v2.Service/ResolveBoolean', bodyFile, clients: 8, streams: 32, seconds, warmupSeconds: 0.5 });
    console.log(`h2load: ${r.reqPerSec.toFixed(0)} req/s (under the profiler), ${r.failed + r.errored} failed/errored`);
  } else if (mode.startsWith('ofrep')) {
    const lua = join(work, 'ofrep.lua');
    writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify({ context: CONTEXT }))}\nwrk.headers["Content-Type"] = "application/json"\n`);
    const r = await wrkPost({ url: `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/${flagCase.flag}`, luaFile: lua, connections: 32, seconds: Math.round(seconds) });
    console.log(`wrk: ${r.reqPerSec.toFixed(0)} req/s (under the profiler), ${r.non2xx} non-2xx`);
  } else {
    const sync = forkLoad('sync-load');
    const event = forkLoad('event-load');
    await Promise.all([
      sync.call('open', { key: 's', kind: 'sync', port: daemon.ports.sync, streams: 5000, channels: 50 }),
      event.call('open', { key: 'e', kind: 'event', port: daemon.ports.evaluation, streams: 5000, channels: 50 }),
    ]);
    const changes = Math.max(3, Math.round(seconds / 2));
    for (let i = 0; i < changes; i++) {
      const marker = `rev-profile-${i}`;
      await sync.call('arm', { key: 's', marker });
      await event.call('arm', { key: 'e', marker });
      const { t0 } = await sync.call('write', { path: file, text: streamFlagText(marker) });
      const [a, b] = await Promise.all([sync.call('collect', { key: 's', timeoutMs: 15_000 }), event.call('collect', { key: 'e', timeoutMs: 15_000 })]);
      const all = [...a.arrivals, ...b.arrivals].map((x) => x - t0).sort((x, y) => x - y);
      console.log(`change ${i + 1}/${changes}: p50 ${all[all.length >> 1].toFixed(0)} ms, max ${all[all.length - 1].toFixed(0)} ms (under the profiler)`);
      await sleep(500);
    }
    sync.child.disconnect();
    event.child.disconnect();
  }
} finally {
  await stop(daemon.child, 15_000);
}

const name = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!name) throw new Error('the daemon wrote no .cpuprofile');
const outDir = fileURLToPath(new URL('../results/profiles/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const kept = join(outDir, `${BARE ? 'bare' : 'daemon'}-${mode}.cpuprofile`);
renameSync(join(profDir, name), kept);
rmSync(work, { recursive: true, force: true });
summarize(JSON.parse(readFileSync(kept, 'utf8')));
console.log(`\nprofile kept in ${relative(REPO_ROOT, kept)}`);

// ---------------------------------------------------------------------------------------------

function sourceLine(cf) {
  const url = cf.url ?? '';
  if (!/\/(daemon|providers\/core)\/dist\/.*\.js$/.test(url)) return cf.lineNumber + 1;
  const path = url.replace(/^file:\/\//, '');
  if (!maps.has(path)) {
    try {
      maps.set(path, new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8'))));
    } catch {
      maps.set(path, undefined);
    }
  }
  const entry = maps.get(path)?.findEntry(cf.lineNumber, cf.columnNumber);
  return entry && entry.originalLine !== undefined ? entry.originalLine + 1 : `${cf.lineNumber + 1} (dist)`;
}

/** The area a call frame belongs to: a daemon/src file, core, an npm package, Node, or V8 itself. */
function areaOf(cf) {
  const url = cf.url ?? '';
  if (url === '') return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(1, 3).join('/') : url.slice(5)}`;
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const rel = relative(REPO_ROOT, p);
  const m = /^daemon\/dist\/(.*)\.js$/.exec(rel);
  if (m) return `daemon/src/${m[1]}.ts`;
  const c = /^providers\/core\/dist\/(.*)\.js$/.exec(rel);
  if (c) return `core/src/${c[1]}.ts`;
  return rel;
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fnKey = (cf) => `${cf.functionName || '(anonymous)'}  ${areaOf(cf)}:${sourceLine(cf)}`;
  let idle = 0;
  let busy = 0;
  const areaSelf = new Map();
  const fnSelf = new Map();
  const fnTotal = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const area = areaOf(cf);
    areaSelf.set(area, (areaSelf.get(area) ?? 0) + us);
    const k = fnKey(cf);
    fnSelf.set(k, (fnSelf.get(k) ?? 0) + us);
    // Inclusive time of the daemon's and core's own functions: once per function per stack.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      const a = areaOf(f);
      if (!a.startsWith('daemon/src') && !a.startsWith('core/src')) continue;
      const fk = fnKey(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      fnTotal.set(fk, (fnTotal.get(fk) ?? 0) + us);
    }
  }
  const pctOf = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const top = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nCPU profile: ${(busy / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle (percentages are of busy time)`);
  console.log('\nBy area (self time):');
  for (const [k, us] of top(areaSelf, 25)) console.log(`  ${pctOf(us)}  ${k}`);
  console.log('\nTop functions (self time):');
  for (const [k, us] of top(fnSelf, 30)) console.log(`  ${pctOf(us)}  ${k}`);
  console.log('\ndaemon/src and core functions (inclusive time):');
  for (const [k, us] of top(fnTotal, 30)) console.log(`  ${pctOf(us)}  ${k}`);
}
