/**
 * The standing abuse soak of the daemon (the hardening issue: "bounded, loopback only: random admin
 * requests with and without tokens, random OFREP contexts, stream open/abandon churn, and flag file
 * churn, 10 minutes, reporting crashes (must be 0), lost acknowledged writes (0), RSS at start and
 * end"). One real `vexil start` on 127.0.0.1, two file sources: the management API's own file and a
 * second, read-only file that abuse-churn.js rewrites, breaks and removes. Workers, each with its own
 * seeded PRNG:
 *  - admin fuzz: random methods, paths, tokens, If-Match, content types and hostile bodies;
 *  - ledger writer: the only client that writes the `abuse-ledger-*` flags, sequentially with
 *    If-Match; every acknowledged write is remembered and read back (see "Lost writes" below);
 *  - OFREP fuzz: random contexts against known, unknown and hostile keys;
 *  - SSE churn: streams opened, read a little or not at all, and abandoned;
 *  - raw sockets: half-sent requests, half-closed and dropped connections, wire-level garbage;
 *  - probe: /healthz every second (2 s limit), RSS, and the daemon's own event-loop lag metrics.
 *
 * Lost writes: an acknowledged (2xx) ledger write is lost when a later read of that flag (after a
 * 412, after a daemon restart, every 30 s, and at the end once the churn has stopped) does not show
 * it, and no later write to that flag was acknowledged or left in doubt (a timeout, a reset, a 500).
 *
 * Not a test: `npm run bench:abuse` (ABUSE_SECONDS, ABUSE_SEED, ABUSE_CONCURRENCY). The seed fixes
 * every worker's sequence of inputs; the interleaving of the workers still depends on timing.
 */
import { fork, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DAEMON_BIN, commitLabel, nowMs, rssKb, scratchRun, settledRssKb, sleep, startDaemon, stop } from './daemon-lib.js';
import { prng } from './fixtures.js';
import { badAuthorization, chance, enc, hostileBodyText, int, malformedRequest, partialRequest, pick, randomContext, randomFlag, randomJson, randomString } from './abuse-inputs.js';
import { finishRun, machine, quantile } from './harness.js';

const SECONDS = Number(process.env.ABUSE_SECONDS ?? 600);
const SEED = process.env.ABUSE_SEED !== undefined ? Number(process.env.ABUSE_SEED) >>> 0 : randomInt(2 ** 32);
const CONCURRENCY = Number(process.env.ABUSE_CONCURRENCY ?? 32);
const SSE_STREAMS = 12;
const RAW_SOCKETS = 8;
const LEDGER_FLAGS = 8;
const FUZZ_FLAGS = 24;
const MAX_RESTARTS = 5;
/** Management API body limit (docs/management-api.md): some fuzz bodies go just over it. */
const ADMIN_BODY_LIMIT = 256 * 1024;
const RATE_LIMIT = 6000;
const TOKENS = { viewer: 'abuse-viewer-token-0', editor: 'abuse-editor-token-0', admin: 'abuse-admin-token-0' };
const WRITER_TOKEN = 'abuse-ledger-writer-token';

const t0 = performance.now();
const sinceStart = () => Number(((performance.now() - t0) / 1000).toFixed(1));
const problems = [];
const { work, track, cleanup } = scratchRun('vexil-abuse-bench-');
// Also when the bench itself dies of an error: the daemon and the churn process must not outlive it.
process.once('exit', cleanup);
const adminFile = join(work, 'admin-flags.json');
const churnFile = join(work, 'churn-flags.json');
const auditLog = join(work, 'audit.jsonl');
console.log(`abuse soak: ${SECONDS} s, seed ${SEED} (reproduce the inputs with ABUSE_SEED=${SEED}), ≤ ${CONCURRENCY} requests in flight, ≤ ${SSE_STREAMS} streams, ≤ ${RAW_SOCKETS} raw sockets`);

// ---------------------------------------------------------------------------------------------
// Bookkeeping.

const counts = {}; // kind → outcome → n
const statuses = {}; // kind → status → n
const latencies = {}; // kind → ms[] (capped)
const findings = {}; // name → { n, samples }
function count(kind, outcome, status, ms) {
  (counts[kind] ??= {})[outcome] = (counts[kind][outcome] ?? 0) + 1;
  if (status !== undefined) (statuses[kind] ??= {})[status] = (statuses[kind][status] ?? 0) + 1;
  if (ms !== undefined && (latencies[kind] ??= []).length < 200_000) latencies[kind].push(ms);
}
function finding(name, detail) {
  const f = (findings[name] ??= { n: 0, samples: [] });
  f.n += 1;
  if (f.samples.length < 5) f.samples.push(typeof detail === 'string' ? detail.slice(0, 400) : detail);
}
const outcomeOf = (status) => `${Math.floor(status / 100)}xx`;

// ---------------------------------------------------------------------------------------------
// The daemon, restarted when it dies (each death is a crash).

writeFileSync(adminFile, JSON.stringify({ flags: { 'abuse-seed-flag': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' } } }, null, 2));
const daemonArgs = [
  '-f', `file:${churnFile}`,
  '--admin-source', `file:${adminFile}`,
  '--audit-log', auditLog,
  '--admin-token', `${TOKENS.viewer}:viewer:abuse-viewer`,
  '--admin-token', `${TOKENS.editor}:editor:abuse-editor`,
  '--admin-token', `${TOKENS.admin}:admin:abuse-admin`,
  '--admin-token', `${WRITER_TOKEN}:admin:ledger`,
  '--admin-rate-limit', String(RATE_LIMIT),
  '--browser-rules', 'all,*',
];

const churn = track(fork(fileURLToPath(new URL('./abuse-churn.js', import.meta.url)), [churnFile, String(SEED ^ 0x5eed)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
const churnReplies = [];
let churnWaiter;
/** The churn's latest actions, to name what the file looked like when the daemon misbehaved. */
const churnRecent = [];
churn.on('message', (m) => {
  if (m.error) return finding('churn loop could not write', m.error);
  if (m.action) {
    churnRecent.push(`${m.action}@${sinceStart()}s`);
    if (churnRecent.length > 5) churnRecent.shift();
    return;
  }
  if (churnWaiter) {
    const w = churnWaiter;
    churnWaiter = undefined;
    w(m);
  } else churnReplies.push(m);
});
const churnAsk = (msg) =>
  new Promise((resolve) => {
    churnWaiter = resolve;
    if (msg) churn.send(msg);
  });
await (churnReplies.length > 0 ? churnReplies.shift() : churnAsk());

const crashes = { exits: [], probeFailures: 0 };
const logErrors = {};
const state = { daemon: undefined, ports: undefined, pid: undefined, down: true, stopping: false, restarts: 0, startedAt: 0 };

async function launch() {
  const d = track(await startDaemon(adminFile, { extraArgs: daemonArgs }));
  let buf = '';
  d.lastLines = [];
  d.child.stdout.setEncoding('utf8');
  d.child.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      d.lastLines.push(line.slice(0, 500));
      if (d.lastLines.length > 10) d.lastLines.shift();
      if (!line.includes('"level":5') && !line.includes('"level":6')) continue;
      try {
        const o = JSON.parse(line);
        const msg = `${o.msg}${o.err?.message ? `: ${o.err.message}` : ''}`.slice(0, 200);
        logErrors[msg] = (logErrors[msg] ?? 0) + 1;
      } catch {
        logErrors[line.slice(0, 200)] = (logErrors[line.slice(0, 200)] ?? 0) + 1;
      }
    }
  });
  d.child.once('exit', (code, signal) => void onExit(d, code, signal));
  Object.assign(state, { daemon: d, ports: d.ports, pid: d.pid, down: false, startedAt: nowMs() });
  console.log(`daemon pid ${d.pid}, ports ${JSON.stringify(d.ports)}`);
}

async function onExit(d, code, signal) {
  if (state.stopping || state.daemon !== d) return;
  state.down = true;
  const at = ((performance.now() - t0) / 1000).toFixed(1);
  // ajv's strict-mode notes at start-up are noise here.
  const stderrTail = d.stderr().split('\n').filter((l) => l !== '' && !l.startsWith('strict mode:')).join('\n').slice(-2000);
  crashes.exits.push({ atSec: Number(at), code, signal, stderrTail, lastLogLines: d.lastLines });
  console.log(`!!! daemon exited at ${at} s (code ${code}, signal ${signal}); stderr tail:\n${stderrTail}\nlast log lines:\n${d.lastLines.join('\n')}`);
  if (state.restarts >= MAX_RESTARTS) {
    console.log(`!!! ${MAX_RESTARTS} restarts used up: ending the soak early`);
    deadline = nowMs();
    return;
  }
  state.restarts += 1;
  // A restart needs every source valid to become ready: hold the churn meanwhile.
  await churnAsk('pause');
  try {
    await launch();
    await verifyLedger('after restart');
  } catch (err) {
    console.log(`!!! restart failed: ${err.message}`);
    deadline = nowMs();
  }
  churn.send('resume');
}

// ---------------------------------------------------------------------------------------------
// HTTP: one keep-alive agent, a bound on requests in flight, every outcome counted.

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
let inFlight = 0;
const queue = [];
const acquire = () => (inFlight < CONCURRENCY ? (inFlight++, Promise.resolve()) : new Promise((r) => queue.push(r)));
const release = () => {
  const next = queue.shift();
  if (next) next();
  else inFlight--;
};

/** One request; resolves `{ status, headers, text }` or `{ error }` (never rejects). */
function send({ port, method, path, headers = {}, body, timeoutMs = 10_000, useAgent = agent, localAddress }) {
  return new Promise((resolve) => {
    let req;
    const timer = setTimeout(() => {
      req?.destroy();
      resolve({ error: 'timeout' });
    }, timeoutMs);
    const done = (r) => {
      clearTimeout(timer);
      resolve(r);
    };
    try {
      req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: useAgent, localAddress }, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (c) => {
          if (size < 65_536) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => done({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => done({ error: err.code ?? err.message }));
      });
    } catch (err) {
      // The client library refused to send it (an invalid header or path): not a daemon outcome.
      return done({ error: 'client-refused', refused: err.code ?? err.message });
    }
    req.on('error', (err) => done({ error: err.code ?? err.message }));
    req.end(body);
  });
}

/**
 * A connection the server closed while the client still sent: what Node does after it answers a
 * request early (413, 414, 431, a 4xx before the body was read), so counted apart from errors.
 */
const RESETS = ['ECONNRESET', 'EPIPE'];

/** `send` under the in-flight bound, counted under `kind`. */
async function call(kind, opts) {
  await acquire();
  const start = nowMs();
  try {
    const r = await send(opts);
    if (r.error === 'client-refused') count(kind, 'client-refused');
    else if (r.error) count(kind, r.error === 'timeout' ? 'timeout' : RESETS.includes(r.error) ? 'reset' : 'error', r.error);
    else {
      count(kind, outcomeOf(r.status), r.status, nowMs() - start);
      if (r.status >= 500 && !(kind === 'admin' && r.status === 503)) finding(`${kind}: HTTP ${r.status}`, `${opts.method} ${opts.path.slice(0, 120)} → ${r.text.slice(0, 200)}`);
    }
    return r;
  } finally {
    release();
  }
}

const json = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const bearer = (token) => ({ authorization: `Bearer ${token}` });

let deadline = nowMs() + SECONDS * 1000;
const running = () => nowMs() < deadline;
/** Waits while the daemon is down (between a crash and its restart). */
const whileDown = async () => {
  while (state.down && running()) await sleep(100);
};

// ---------------------------------------------------------------------------------------------
// Ledger writer: the only writer of abuse-ledger-*, so their final state is known exactly.

const ledger = Array.from({ length: LEDGER_FLAGS }, (_, i) => ({
  key: `abuse-ledger-${i}`,
  exists: false,
  value: undefined,
  version: undefined,
  lastAckSec: undefined,
  /** Writes whose outcome is unknown (timeout, reset, 500) since the last acknowledged one. */
  doubtful: [],
  /** Writes refused with a status that promises nothing was written, since the last acknowledged one. */
  refused: [],
  needsSync: false,
}));
const ledgerStats = { acked: 0, byOp: {}, lost: 0, lostDetails: [], syncs: 0 };

function ack(e, op, r, value) {
  ledgerStats.acked += 1;
  ledgerStats.byOp[op] = (ledgerStats.byOp[op] ?? 0) + 1;
  if (op === 'delete') Object.assign(e, { exists: false, value: undefined, version: undefined });
  else {
    const body = json(r.text);
    if (body?.variants?.value !== value || r.headers.etag === undefined || body?.version !== r.headers.etag) {
      finding('ledger: a 2xx answer does not carry the written value and its version', `${op} ${e.key}: ${r.text.slice(0, 200)}`);
    }
    Object.assign(e, { exists: true, value, version: r.headers.etag });
  }
  Object.assign(e, { lastAckSec: sinceStart(), doubtful: [], refused: [], needsSync: false });
}

/** Reads one ledger flag back and checks it against the last acknowledged write; adopts what it reads. */
async function syncLedger(e, why) {
  ledgerStats.syncs += 1;
  let r;
  for (let i = 0; i < 10; i++) {
    r = await call('ledger', { port: state.ports.management, method: 'GET', path: `/api/v1/flags/${e.key}`, headers: bearer(WRITER_TOKEN) });
    if (r.status === 200 || r.status === 404) break;
    await sleep(200);
  }
  if (r.status !== 200 && r.status !== 404) {
    finding('ledger: a flag could not be read back', `${e.key} (${why}): ${r.error ?? `HTTP ${r.status} ${r.text.slice(0, 200)}`}`);
    return false;
  }
  const seen = r.status === 200 ? json(r.text)?.variants?.value : undefined;
  const explained =
    (r.status === 200 ? e.exists && seen === e.value : !e.exists) ||
    e.doubtful.some((d) => (d.op === 'delete' ? r.status === 404 : r.status === 200 && d.value === seen));
  if (!explained) {
    const refusedApplied = e.refused.find((d) => (d.op === 'delete' ? r.status === 404 : d.value === seen));
    if (refusedApplied) {
      finding('ledger: a write answered with an error was applied anyway', `${e.key}: ${refusedApplied.op} answered ${refusedApplied.status}, yet the flag shows it (${why})`);
    } else {
      ledgerStats.lost += 1;
      const detail = { key: e.key, why, expected: e.exists ? e.value : '(deleted)', found: r.status === 200 ? seen : '(absent)', lastAckSec: e.lastAckSec };
      if (ledgerStats.lostDetails.length < 20) ledgerStats.lostDetails.push(detail);
      console.log(`!!! lost acknowledged write: ${JSON.stringify(detail)}`);
    }
  } else if (r.status === 200 && e.doubtful.length === 0 && r.headers.etag !== e.version) {
    finding('ledger: a flag changed version without a write', `${e.key} (${why}): acknowledged ${e.version}, now ${r.headers.etag}`);
  }
  Object.assign(e, r.status === 200 ? { exists: true, value: seen, version: r.headers.etag } : { exists: false, value: undefined, version: undefined });
  Object.assign(e, { doubtful: [], refused: [], needsSync: false });
  return true;
}

/** Reads every ledger flag back; returns how many could not be read. */
async function verifyLedger(why) {
  let unreadable = 0;
  for (const e of ledger) if (!(await syncLedger(e, why))) unreadable += 1;
  return unreadable;
}

async function ledgerWriter() {
  const rnd = prng(SEED ^ 0x1ed9e7);
  let n = 0;
  let nextVerify = nowMs() + 30_000;
  while (running()) {
    await whileDown();
    if (!running()) break;
    if (nowMs() > nextVerify) {
      await verifyLedger('periodic');
      nextVerify = nowMs() + 30_000;
    }
    const e = pick(rnd, ledger);
    if (e.needsSync && !(await syncLedger(e, 'after a doubtful write'))) {
      await sleep(200);
      continue;
    }
    const value = `w-${SEED}-${++n}`;
    const roll = rnd();
    const port = state.ports.management;
    const headers = { ...bearer(WRITER_TOKEN), 'content-type': 'application/json', 'x-vexil-request': 'abuse-ledger' };
    let op;
    let r;
    if (!e.exists) {
      op = 'create';
      r = await call('ledger', { port, method: 'POST', path: '/api/v1/flags', headers, body: JSON.stringify({ key: e.key, state: 'ENABLED', variants: { value, other: 'o' }, defaultVariant: 'value', metadata: { owner: 'ledger' } }) });
    } else {
      op = roll < 0.8 ? 'patch' : roll < 0.93 ? 'replace' : 'delete';
      const h = { ...headers, 'if-match': e.version };
      if (op === 'patch') r = await call('ledger', { port, method: 'PATCH', path: `/api/v1/flags/${e.key}`, headers: { ...h, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ variants: { value } }) });
      else if (op === 'replace') r = await call('ledger', { port, method: 'PUT', path: `/api/v1/flags/${e.key}`, headers: h, body: JSON.stringify({ state: 'ENABLED', variants: { value, other: 'o' }, defaultVariant: 'value', metadata: { owner: 'ledger' } }) });
      else r = await call('ledger', { port, method: 'DELETE', path: `/api/v1/flags/${e.key}`, headers: { ...bearer(WRITER_TOKEN), 'if-match': e.version, 'x-vexil-request': 'abuse-ledger' } });
    }
    if (r.error || r.status === 500) {
      e.doubtful.push({ op, value });
      e.needsSync = true;
    } else if (r.status >= 200 && r.status < 300) {
      ack(e, op, r, value);
    } else if (r.status === 412 || r.status === 409 || r.status === 404) {
      // Only this writer touches the flag: a stale version, an existing or a missing flag means
      // the flag is not as the last acknowledged write left it, unless a write was in doubt.
      const code = json(r.text)?.error?.code;
      if (!(r.status === 409 && code === 'UNSUPPORTED_SOURCE')) {
        e.refused.push({ op, value, status: r.status });
        await syncLedger(e, `${op} answered ${r.status} ${code}`);
      }
    } else {
      // 429, 503 and other refusals promise that nothing was written.
      e.refused.push({ op, value, status: r.status });
      if (r.status !== 429 && r.status !== 503) finding(`ledger: a well-formed ${op} was refused with ${r.status}`, r.text.slice(0, 300));
    }
    await sleep(int(rnd, 2, 15));
  }
}

// ---------------------------------------------------------------------------------------------
// Admin fuzz.

const fuzzVersions = new Map();
const CONTENT_TYPES = ['application/json', 'application/json', 'application/merge-patch+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', undefined, 'application/json-patch+json', '*/*'];
/** Routes that need a token; OPTIONS and the odd methods are left out, as they never reach a route's handler. */
const PROTECTED = (method, path) => ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method) && path.startsWith('/api/v1/') && !path.startsWith('/api/v1/openapi.json');
const WRITE_ROLE = { POST: 'editor', PUT: 'editor', PATCH: 'editor', DELETE: 'admin' };

function fuzzRequest(rnd) {
  const ledgerKey = chance(rnd, 0.1);
  const key = ledgerKey
    ? pick(rnd, ledger).key
    : chance(rnd, 0.75)
      ? `abuse-fuzz-${int(rnd, 0, FUZZ_FLAGS - 1)}`
      : pick(rnd, ['abuse-seed-flag', 'no-such-flag', '__proto__', 'constructor', encodeURIComponent('ключ-🏁'), 'k'.repeat(int(rnd, 200, 3000)), '%ZZ', '..%2F..%2Fetc', '%00', 'a%2Fb']);
  let method;
  let path;
  if (ledgerKey) {
    // Ledger flags get only writes that must be refused (no or a made-up If-Match) and reads.
    method = pick(rnd, ['GET', 'PUT', 'PATCH', 'DELETE']);
    path = `/api/v1/flags/${key}`;
  } else {
    method = chance(rnd, 0.93) ? pick(rnd, ['GET', 'GET', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE']) : pick(rnd, ['HEAD', 'OPTIONS', 'PROPFIND', 'TRACE', 'CONNECT', 'M-SEARCH']);
    path = pick(rnd, [
      `/api/v1/flags/${key}`,
      `/api/v1/flags/${key}`,
      '/api/v1/flags',
      `/api/v1/flags?state=${pick(rnd, ['ENABLED', 'DISABLED', 'ARCHIVED', 'BOGUS', ''])}&q=${enc(randomString(rnd, 30))}&flagSet=${enc(randomString(rnd, 10))}`,
      `/api/v1/flags/${key}/${pick(rnd, ['kill', 'archive', 'restore', 'nope'])}`,
      `/api/v1/audit?limit=${pick(rnd, ['1', '1000', '1001', '-1', 'abc', '1e9'])}&since=${enc(randomString(rnd, 20))}&flag=${key}`,
      `/api/v1/stale?days=${pick(rnd, ['0', '30', '-5', '1e308', 'x', '99999999999'])}`,
      '/api/v1/whoami',
      '/api/v1/openapi.json',
      `/api/v1/${enc(randomString(rnd, 20))}`,
      `/api/v2/flags`,
      pick(rnd, ['/', '/healthz', '/readyz', '/metrics', '/index.html', '/api/v1/flags/', '/api/v1//flags', '/api/v1/flags/a/b/c']),
    ]);
  }
  const headers = {};
  const who = ledgerKey ? pick(rnd, ['none', 'viewer', 'editor', 'admin']) : pick(rnd, ['none', 'bad', 'viewer', 'editor', 'editor', 'admin', 'admin']);
  if (who === 'bad') {
    const a = badAuthorization(rnd);
    if (a !== undefined) headers.authorization = a;
  } else if (who !== 'none') headers.authorization = `Bearer ${TOKENS[who]}`;
  if (ledgerKey) {
    if (method !== 'GET' && chance(rnd, 0.7)) headers['if-match'] = pick(rnd, ['"stale"', `"${'0'.repeat(64)}"`, 'W/"x"', 'garbage', '""']);
  } else if (chance(rnd, 0.7)) {
    // Both drawn every time, so the sequence of draws does not depend on the daemon's answers.
    const useKnown = chance(rnd, 0.7);
    const made = pick(rnd, ['*', '"stale"', 'W/"weak"', '', 'a, b', '"unterminated', randomString(rnd, 30).replace(/[^\x20-\x7e]/g, '')]);
    const known = fuzzVersions.get(key);
    headers['if-match'] = known !== undefined && useKnown ? known : made;
  }
  if (chance(rnd, 0.5)) headers['x-vexil-request'] = pick(rnd, ['1', 'abuse', ' ']);
  const crossSite = chance(rnd, 0.08);
  if (crossSite) Object.assign(headers, pick(rnd, [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'http://evil.example' }, { origin: 'null' }]));
  if (chance(rnd, 0.15)) headers['idempotency-key'] = pick(rnd, ['k1', 'k2', `k-${int(rnd, 0, 20)}`, 'i'.repeat(300), '']);
  let body;
  if (method !== 'GET' && method !== 'HEAD' && chance(rnd, 0.9)) {
    const type = pick(rnd, CONTENT_TYPES);
    if (type !== undefined) headers['content-type'] = type;
    body = chance(rnd, 0.45) ? JSON.stringify(method === 'PATCH' && chance(rnd, 0.5) ? { variants: { [`v${int(rnd, 1, 5)}`]: randomJson(rnd, 1) } } : randomFlag(rnd, method === 'POST' ? key : undefined)) : hostileBodyText(rnd, ADMIN_BODY_LIMIT);
    if (chance(rnd, 0.05)) body = 'x'.repeat(ADMIN_BODY_LIMIT + int(rnd, 1, 100_000));
  }
  // Guessed tokens come from addresses of their own (127.0.0.0/8 is all loopback): the daemon locks
  // out an address after 20 failed authentications a minute, which would otherwise lock out the
  // ledger writer and the probe on 127.0.0.1 too. Spread over many addresses, they also fill the
  // daemon's per-address tables. One connection per guess, so no pool of idle sockets per address.
  const guess = who === 'bad' && headers.authorization !== undefined;
  const guesser = `127.${int(rnd, 1, 254)}.${int(rnd, 0, 255)}.${int(rnd, 1, 254)}`;
  const localAddress = guess ? guesser : `127.0.0.${int(rnd, 2, 31)}`;
  return { method, path, headers, body, who, ledgerKey, key, crossSite, localAddress, useAgent: guess ? false : agent };
}

async function adminFuzz(id) {
  const rnd = prng(SEED + 101 * id);
  while (running()) {
    await whileDown();
    const q = fuzzRequest(rnd);
    const r = await call('admin', { port: state.ports.management, method: q.method, path: q.path, headers: q.headers, body: q.body, localAddress: q.localAddress, useAgent: q.useAgent });
    if (r.error) continue;
    if (r.status >= 200 && r.status < 300) {
      const valid = q.who !== 'none' && q.who !== 'bad';
      if (PROTECTED(q.method, q.path) && !valid) finding('admin: a protected route answered 2xx without a valid token', `${q.method} ${q.path.slice(0, 100)} authorization=${String(q.headers.authorization).slice(0, 40)}`);
      if (PROTECTED(q.method, q.path) && q.crossSite && WRITE_ROLE[q.method]) finding('admin: a cross-origin write answered 2xx', `${q.method} ${q.path.slice(0, 100)} ${JSON.stringify(q.headers).slice(0, 200)}`);
      const needed = WRITE_ROLE[q.method];
      if (PROTECTED(q.method, q.path) && valid && needed && (q.who === 'viewer' || (needed === 'admin' && q.who === 'editor'))) {
        finding('admin: a write answered 2xx for a role below the one it needs', `${q.method} ${q.path.slice(0, 100)} as ${q.who}`);
      }
      if (q.ledgerKey && q.method !== 'GET') {
        finding('admin: a ledger write without the current If-Match was accepted', `${q.method} ${q.path} if-match=${q.headers['if-match']} → ${r.status}`);
        // The ledger cannot know this write: read the flag back before its next write.
        const e = ledger.find((l) => l.key === q.key);
        e.doubtful.push({ op: q.method === 'DELETE' ? 'delete' : 'fuzz', value: json(r.text)?.variants?.value });
        e.needsSync = true;
      }
    }
    if (!q.ledgerKey && typeof r.headers.etag === 'string' && q.path.startsWith(`/api/v1/flags/${q.key}`)) fuzzVersions.set(q.key, r.headers.etag);
  }
}

// ---------------------------------------------------------------------------------------------
// OFREP fuzz.

const OFREP_TYPES = ['application/json', 'application/json', 'text/plain', undefined, 'application/x-www-form-urlencoded', 'application/json; charset=latin1'];
let markerSeen = false;
/** The churn actions that leave a valid document (with churn-marker) in place. */
const VALID_WRITES = ['valid-rename', 'valid-in-place', 'symlink-swap'];
/** The churn action that began the current episode of churn-marker answering 404, if one is running. */
let missing;
let markerMissing404s = 0;

async function ofrepFuzz(id) {
  const rnd = prng(SEED + 7919 * id);
  while (running()) {
    await whileDown();
    const known = pick(rnd, ['churn-marker', 'churn-semver', 'churn-fractional', 'churn-in', `churn-${int(rnd, 1, 12)}`, 'abuse-seed-flag', pick(rnd, ledger).key, `abuse-fuzz-${int(rnd, 0, FUZZ_FLAGS - 1)}`]);
    const key = chance(rnd, 0.8) ? known : pick(rnd, ['no-such-flag', '__proto__', 'constructor', encodeURIComponent('🏁ключ'), 'k'.repeat(int(rnd, 100, 3000)), '%ZZ', '%00', '..%2F..']);
    const bulk = chance(rnd, 0.15);
    const headers = {};
    const type = pick(rnd, OFREP_TYPES);
    if (type !== undefined) headers['content-type'] = type;
    if (chance(rnd, 0.1)) headers['flagd-selector'] = pick(rnd, ['flagSetId=churn', 'source=nope', randomString(rnd, 30).replace(/[^\x20-\x7e]/g, '')]);
    if (bulk && chance(rnd, 0.3)) headers['if-none-match'] = pick(rnd, ['"x"', '*', 'W/"y"']);
    const shaped = chance(rnd, 0.8);
    const body = shaped ? JSON.stringify({ context: randomContext(rnd) }) : chance(rnd, 0.5) ? JSON.stringify(pick(rnd, [{ context: randomJson(rnd, 2) }, randomJson(rnd, 3), { context: null }, {}])) : hostileBodyText(rnd, 1024 * 1024);
    const path = bulk ? '/ofrep/v1/evaluate/flags' : `/ofrep/v1/evaluate/flags/${key}`;
    const method = chance(rnd, 0.95) ? 'POST' : pick(rnd, ['GET', 'PUT', 'DELETE', 'OPTIONS']);
    // The churn as it was when the request left: what the daemon can have loaded by then.
    const churnThen = churnRecent.join(' ');
    const r = await call('ofrep', { port: state.ports.ofrep, method, path, headers, body });
    if (r.error || method !== 'POST' || !shaped || bulk || key !== 'churn-marker' || headers['flagd-selector'] !== undefined) continue;
    // A failing source never takes flags away: once served, churn-marker stays served.
    // An episode runs from the first 404 to the next 200; it is named after the churn action just
    // before it began (the document that took the flags away), not the ones written meanwhile.
    if (r.status === 200) {
      markerSeen = true;
      missing = undefined;
    } else if (markerSeen && r.status === 404) {
      if (missing === undefined) {
        // Every valid document has churn-marker, so the cause is the latest action that wrote none
        // (the very latest may not be loaded yet: the file source debounces).
        const actions = churnThen.split(' ').map((a) => a.split('@')[0]);
        missing = actions.filter((a) => !VALID_WRITES.includes(a)).at(-1) ?? `none (only valid documents: ${actions.join(', ')})`;
        finding(`ofrep: churn-marker went missing after churn action ${missing}`, `at ${sinceStart()} s, churn actions before the request ${churnThen}: ${r.text.slice(0, 120)}`);
      }
      markerMissing404s += 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SSE stream churn: open, read a little (or nothing), abandon.

async function sseChurn(id) {
  const rnd = prng(SEED + 104729 * id);
  while (running()) {
    await whileDown();
    const query = pick(rnd, ['', '?rules=false', '?rules=true', '?selector=flagSetId%3Dchurn', `?selector=${enc(randomString(rnd, 40))}`, '?rules=maybe', '?selector=a&selector=b', `?selector=${'s'.repeat(int(rnd, 1000, 3000))}`]);
    const plan = pick(rnd, ['at-headers', 'first-chunk', 'read-a-while', 'never-read']);
    const holdMs = int(rnd, 50, 4000);
    const start = nowMs();
    let headersMs;
    const outcome = await new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: state.ports.ofrep, path: `/vexil/v1/stream${query}`, headers: { accept: 'text/event-stream', ...(chance(rnd, 0.2) ? { 'last-event-id': randomString(rnd, 20).replace(/[^\x20-\x7e]/g, '') } : {}) }, agent: false });
      const limit = setTimeout(() => (req.destroy(), resolve({ error: 'timeout' })), 10_000);
      const finish = (r) => (clearTimeout(limit), resolve(r));
      req.on('error', (err) => finish({ error: err.code ?? err.message }));
      req.on('response', (res) => {
        const status = res.statusCode;
        headersMs = nowMs() - start;
        if (status !== 200 || plan === 'at-headers') {
          res.resume();
          if (status !== 200) res.on('end', () => finish({ status }));
          else (req.destroy(), finish({ status }));
          return;
        }
        if (plan === 'never-read') {
          res.pause();
          setTimeout(() => (req.destroy(), finish({ status })), holdMs);
          return;
        }
        res.once('data', () => {
          if (plan === 'first-chunk') (req.destroy(), finish({ status }));
        });
        if (plan === 'read-a-while') setTimeout(() => (req.destroy(), finish({ status })), holdMs);
        res.on('end', () => finish({ status, ended: true }));
      });
    });
    if (outcome.error) count('sse', outcome.error === 'timeout' ? 'timeout' : 'error', outcome.error);
    else {
      // Latency to the response head: how long the stream is held afterwards is the plan's choice.
      count('sse', outcomeOf(outcome.status), outcome.status, headersMs);
      if (outcome.status >= 500) finding(`sse: HTTP ${outcome.status}`, query.slice(0, 100));
    }
    await sleep(int(rnd, 0, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// Raw sockets: half-sent requests, half-closed and dropped connections, garbage on the wire.

async function rawSockets(id) {
  const rnd = prng(SEED + 15485863 * id);
  while (running()) {
    await whileDown();
    const which = pick(rnd, ['management', 'ofrep', 'evaluation', 'sync']);
    const port = state.ports[which];
    const whole = chance(rnd, 0.35);
    const payload = whole ? malformedRequest(rnd, port) : partialRequest(rnd, port);
    const plan = whole ? 'await-answer' : pick(rnd, ['drop', 'hold-then-drop', 'half-close', 'drip']);
    const holdMs = int(rnd, 50, 3000);
    const dripMs = Array.from({ length: 40 }, () => int(rnd, 20, 150));
    const outcome = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let first = '';
      const limit = setTimeout(() => (s.destroy(), resolve(whole ? 'no-answer' : 'held')), plan === 'await-answer' ? 10_000 : holdMs + 5_000);
      const finish = (o) => (clearTimeout(limit), s.destroy(), resolve(o));
      s.on('error', (err) => finish(`error ${err.code ?? err.message}`));
      s.on('data', (d) => {
        if (first.length < 64) first += d.toString('latin1');
        if (plan === 'await-answer' && first.length >= 12) finish(/^HTTP\/1\.[01] (\d{3})/.exec(first)?.[1] ?? 'bytes');
      });
      s.on('end', () => finish(first.length > 0 ? (/^HTTP\/1\.[01] (\d{3})/.exec(first)?.[1] ?? 'bytes') : 'server-closed'));
      s.on('connect', async () => {
        if (plan === 'drip') {
          for (const [i, ch] of [...payload.slice(0, 40)].entries()) {
            if (s.destroyed) return;
            s.write(ch, 'latin1');
            await sleep(dripMs[i]);
          }
          return finish('dripped');
        }
        s.write(payload, 'latin1');
        if (plan === 'drop') finish('dropped');
        else if (plan === 'hold-then-drop') setTimeout(() => finish('held'), holdMs);
        else if (plan === 'half-close') s.end();
      });
    });
    const status = /^\d{3}$/.test(outcome) ? Number(outcome) : undefined;
    count('raw', status !== undefined ? outcomeOf(status) : outcome.startsWith('error') ? 'error' : outcome, `${which}:${outcome}`);
    if (status !== undefined && status >= 500) finding(`raw: HTTP ${status} on the ${which} port`, JSON.stringify(payload.slice(0, 120)));
    await sleep(int(rnd, 0, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// Probe: liveness every second, RSS and the daemon's own event-loop metrics every fifth.

const probe = { latencyMs: [], rssKb: [], lagP99Ms: [], lagMaxMs: 0, heapUsedMb: [], streamsActive: 0 };
/** The sum of a metric's samples over all its label sets; undefined when the metric is absent. */
const metric = (text, name) => {
  const ms = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))];
  return ms.length > 0 ? ms.reduce((n, m) => n + Number(m[1]), 0) : undefined;
};

async function probeLoop() {
  for (let i = 0; running(); i++) {
    const tick = nowMs();
    if (!state.down) {
      const r = await send({ port: state.ports.management, method: 'GET', path: '/healthz', timeoutMs: 2_000, useAgent: false });
      const ms = nowMs() - tick;
      if (r.status === 200) probe.latencyMs.push(ms);
      else if (!state.down) {
        crashes.probeFailures += 1;
        console.log(`!!! /healthz did not answer 200 within 2 s at ${sinceStart()} s: ${r.error ?? r.status}`);
      }
      if (i % 5 === 0 && !state.down) {
        try {
          probe.rssKb.push(rssKb(state.pid));
        } catch {
          // The process is gone; the exit handler counts it.
        }
        const m = await send({ port: state.ports.management, method: 'GET', path: '/metrics', timeoutMs: 5_000, useAgent: false });
        if (m.status === 200) {
          const p99 = metric(m.text, 'nodejs_eventloop_lag_p99_seconds');
          const max = metric(m.text, 'nodejs_eventloop_lag_max_seconds');
          if (p99 !== undefined) probe.lagP99Ms.push(p99 * 1000);
          if (max !== undefined) probe.lagMaxMs = Math.max(probe.lagMaxMs, max * 1000);
          const heap = metric(m.text, 'nodejs_heap_size_used_bytes');
          if (heap !== undefined) probe.heapUsedMb.push(heap / 1e6);
          probe.streamsActive = Math.max(probe.streamsActive, metric(m.text, 'vexil_event_streams_active') ?? 0);
        }
      }
      if (i % 30 === 0) console.log(`  ${sinceStart()} s: rss ${probe.rssKb.at(-1) ?? '?'} kB, healthz ${ms.toFixed(1)} ms, requests ${Object.values(counts).reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0)}, acked writes ${ledgerStats.acked}, crashes ${crashes.exits.length + crashes.probeFailures}`);
    }
    await sleep(Math.max(0, 1000 - (nowMs() - tick)));
  }
}

// ---------------------------------------------------------------------------------------------
// The run.

await launch();
const rssStartKb = await settledRssKb(state.pid);
deadline = nowMs() + SECONDS * 1000;
const benchLag = monitorEventLoopDelay({ resolution: 10 });
benchLag.enable();
churn.send('resume');
const workers = [
  probeLoop(),
  ledgerWriter(),
  ...Array.from({ length: 12 }, (_, i) => adminFuzz(i)),
  ...Array.from({ length: 12 }, (_, i) => ofrepFuzz(i)),
  ...Array.from({ length: SSE_STREAMS }, (_, i) => sseChurn(i)),
  ...Array.from({ length: RAW_SOCKETS }, (_, i) => rawSockets(i)),
];
await Promise.race([Promise.all(workers), sleep(SECONDS * 1000 + 30_000)]);
benchLag.disable();
const soakSeconds = (performance.now() - t0) / 1000;

// The churn stops on a valid document; the daemon must serve it (the churned source recovered).
const { counts: churnCounts, marker } = await churnAsk('stop');
let recovered = false;
for (const until = nowMs() + 10_000; nowMs() < until && !state.down; await sleep(100)) {
  const r = await send({ port: state.ports.ofrep, method: 'POST', path: '/ofrep/v1/evaluate/flags/churn-marker', headers: { 'content-type': 'application/json' }, body: '{"context":{}}' });
  if (r.status === 200 && json(r.text)?.value === marker) {
    recovered = true;
    break;
  }
}
if (!recovered) finding('churn: the daemon does not serve the last valid churned file 10 s after the churn stopped', `expected churn-marker = ${marker}`);

// Every acknowledged write must read back, and be what OFREP serves.
const unreadableAtEnd = state.down ? LEDGER_FLAGS : await verifyLedger('final');
if (unreadableAtEnd > 0) problems.push(`${unreadableAtEnd} ledger flag(s) could not be read back at the end: their acknowledged writes are unverified`);
let notServed = 0;
for (const e of ledger.filter((l) => l.exists)) {
  let served;
  for (const until = nowMs() + 5_000; nowMs() < until && !state.down; await sleep(100)) {
    const r = await send({ port: state.ports.ofrep, method: 'POST', path: `/ofrep/v1/evaluate/flags/${e.key}`, headers: { 'content-type': 'application/json' }, body: '{"context":{}}' });
    served = json(r.text)?.value;
    if (served === e.value) break;
  }
  if (served !== e.value) {
    notServed += 1;
    finding('ledger: OFREP does not serve the last acknowledged value 5 s after the soak', `${e.key}: ${e.value} written, ${served} served`);
  }
}

const rssEndKb = state.down ? undefined : await settledRssKb(state.pid);
state.stopping = true;
const exitCode = await new Promise((resolve) => {
  if (state.daemon.child.exitCode !== null) return resolve(state.daemon.child.exitCode);
  state.daemon.child.once('exit', (code, signal) => resolve(code ?? signal));
  void stop(state.daemon.child, 10_000);
});
if (exitCode !== 0) finding('daemon: SIGTERM after the soak did not exit 0', String(exitCode));
const audit = existsSync(auditLog) ? spawnSync(process.execPath, [DAEMON_BIN, 'audit', 'verify', '--audit-log', auditLog], { encoding: 'utf8' }) : undefined;
if (audit && audit.status !== 0) finding('audit: vexil audit verify fails on the soak audit log', `${audit.stdout}${audit.stderr}`);

// ---------------------------------------------------------------------------------------------
// Report.

const crashCount = crashes.exits.length + crashes.probeFailures;
const q = (xs, p) => (xs.length ? quantile(xs, p) : undefined);
const f1 = (x) => (x === undefined ? '–' : x.toFixed(1));
const allRss = [rssStartKb, ...probe.rssKb, ...(rssEndKb !== undefined ? [rssEndKb] : [])];
const summary = {
  durationSec: Number(soakSeconds.toFixed(1)),
  crashes: { total: crashCount, exits: crashes.exits, healthzProbeFailures: crashes.probeFailures, restarts: state.restarts },
  lostAcknowledgedWrites: ledgerStats.lost,
  lostDetails: ledgerStats.lostDetails,
  acknowledgedWrites: { total: ledgerStats.acked, byOp: ledgerStats.byOp, readBacks: ledgerStats.syncs, notServedByOfrepAtEnd: notServed },
  rssKb: { start: rssStartKb, end: rssEndKb, max: Math.max(...allRss) },
  healthzMs: { n: probe.latencyMs.length, p50: q(probe.latencyMs, 0.5), p99: q(probe.latencyMs, 0.99), max: probe.latencyMs.length ? Math.max(...probe.latencyMs) : undefined },
  daemonEventLoop: { lagP99MsMedianOfScrapes: q(probe.lagP99Ms, 0.5), lagP99MsWorstScrape: probe.lagP99Ms.length ? Math.max(...probe.lagP99Ms) : undefined, lagMaxMs: probe.lagMaxMs, heapUsedMbMax: probe.heapUsedMb.length ? Math.max(...probe.heapUsedMb) : undefined, sseStreamsActiveMax: probe.streamsActive },
  benchEventLoop: { p99Ms: benchLag.percentile(99) / 1e6, maxMs: benchLag.max / 1e6 },
  churnRecovered: recovered,
  churnMarker404s: markerMissing404s,
  churnActions: churnCounts,
  requests: counts,
  statuses,
  latencyMs: Object.fromEntries(Object.entries(latencies).map(([k, xs]) => [k, { p50: q(xs, 0.5), p99: q(xs, 0.99) }])),
  findings,
  daemonErrorLogs: logErrors,
  auditVerify: audit ? `${audit.stdout}${audit.stderr}`.trim() : 'no audit log',
};

console.log(`\nabuse soak, seed ${SEED}, ${summary.durationSec} s`);
const NAMED = ['2xx', '3xx', '4xx', '5xx', 'timeout', 'reset', 'error'];
console.log(`${'kind'.padEnd(8)}${['total', ...NAMED, 'other'].map((h) => h.padStart(9)).join('')}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`);
for (const [kind, c] of Object.entries(counts)) {
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  const other = total - NAMED.reduce((n, k) => n + (c[k] ?? 0), 0);
  const l = summary.latencyMs[kind] ?? {};
  console.log(`${kind.padEnd(8)}${[total, ...NAMED.map((k) => c[k] ?? 0), other].map((n) => String(n).padStart(9)).join('')}${f1(l.p50).padStart(9)}${f1(l.p99).padStart(9)}`);
}
console.log(`(raw "other": ${Object.entries(counts.raw ?? {}).filter(([k]) => !NAMED.includes(k)).map(([k, n]) => `${k} ${n}`).join(', ')})`);
console.log(`crashes: ${crashCount} (exits ${crashes.exits.length}, /healthz over 2 s ${crashes.probeFailures}) — must be 0`);
console.log(`lost acknowledged writes: ${ledgerStats.lost} of ${ledgerStats.acked} acknowledged (${Object.entries(ledgerStats.byOp).map(([k, n]) => `${k} ${n}`).join(', ')}) — must be 0; not served by OFREP at the end: ${notServed}`);
console.log(`daemon RSS: start ${(rssStartKb / 1024).toFixed(1)} MiB, end ${rssEndKb === undefined ? '–' : (rssEndKb / 1024).toFixed(1)} MiB, max ${(summary.rssKb.max / 1024).toFixed(1)} MiB`);
console.log(`/healthz: p50 ${f1(summary.healthzMs.p50)} ms, p99 ${f1(summary.healthzMs.p99)} ms, max ${f1(summary.healthzMs.max)} ms over ${summary.healthzMs.n} probes`);
console.log(`daemon event loop (its /metrics): lag p99 median ${f1(summary.daemonEventLoop.lagP99MsMedianOfScrapes)} ms, worst ${f1(summary.daemonEventLoop.lagP99MsWorstScrape)} ms, max ${f1(summary.daemonEventLoop.lagMaxMs)} ms; bench's own loop p99 ${f1(summary.benchEventLoop.p99Ms)} ms; heap used max ${f1(summary.daemonEventLoop.heapUsedMbMax)} MB; SSE streams open max ${summary.daemonEventLoop.sseStreamsActiveMax}`);
console.log(`churned source recovered after the churn: ${recovered ? 'yes' : 'NO'}; churn actions: ${Object.entries(churnCounts).map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`audit verify: ${summary.auditVerify}`);
const findingNames = Object.keys(findings);
console.log(`findings: ${findingNames.length === 0 ? 'none' : ''}`);
for (const [name, f] of Object.entries(findings)) console.log(`  ${name}: ${f.n}×, e.g. ${JSON.stringify(f.samples[0])}`);
const errorLogs = Object.entries(logErrors).sort((a, b) => b[1] - a[1]);
if (errorLogs.length > 0) console.log(`daemon error logs: ${errorLogs.slice(0, 8).map(([m, n]) => `${n}× ${m}`).join(' | ')}`);

if (crashCount > 0) problems.push(`${crashCount} crash(es): the daemon exited ${crashes.exits.length}×, /healthz failed ${crashes.probeFailures}×`);
if (ledgerStats.lost > 0) problems.push(`${ledgerStats.lost} lost acknowledged write(s)`);
for (const name of findingNames.filter((n) => n.includes('without a valid token') || n.includes('below the one') || n.includes('If-Match was accepted') || n.includes('cross-origin write'))) problems.push(name);

cleanup();
finishRun({
  t0,
  problems,
  file: 'abuse-latest.json',
  results: { env: { ...machine(), seed: SEED, seconds: SECONDS, concurrency: CONCURRENCY, commit: commitLabel(['daemon/src', 'providers/core/src']) }, summary },
});
agent.destroy();
process.exit(process.exitCode ?? 0);
