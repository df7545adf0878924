/**
 * Helpers for daemon-bench.js: spawning the daemon and the bare "ceiling" servers as real
 * processes, reading the ports they announce, polling readiness, reading a process's RSS, making
 * sure the Debian load generators are installed, and running h2load / wrk and parsing their output.
 */
import { execFileSync, execSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DAEMON_BIN = fileURLToPath(new URL('../../daemon/bin/vexil.js', import.meta.url));

/**
 * `require` as the daemon package resolves it: the bare servers load the very same copies of
 * @grpc/grpc-js and fastify that the daemon runs on, so the ceiling is the same library version.
 */
export const daemonRequire = createRequire(new URL('../../daemon/package.json', import.meta.url));

/** The grpc-js service-definition helper the daemon itself uses (compiled by `tsc -b`). */
export const DEFINITIONS_JS = new URL('../../daemon/dist/grpc/definitions.js', import.meta.url);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Monotonic milliseconds (CLOCK_MONOTONIC: one clock for every process on the machine). */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// ---------------------------------------------------------------------------------------------
// Tools.

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs h2load (nghttp2-client) and wrk with apt-get when missing. Returns their versions. */
export function ensureTools() {
  const missing = [];
  if (!has('h2load')) missing.push('nghttp2-client');
  if (!has('wrk')) missing.push('wrk');
  if (missing.length > 0) {
    console.log(`installing ${missing.join(', ')} with apt-get (needed for the load generators) ...`);
    const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
    const run = (args) => {
      const r = spawnSync(sudo.length ? 'sudo' : args[0], sudo.length ? args : args.slice(1), {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (r.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${r.status})`);
    };
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', ...missing]);
  }
  const h2load = execFileSync('h2load', ['--version']).toString().trim();
  const wrk = spawnSync('wrk', ['-v']).stdout.toString().split('\n')[0].trim();
  return { h2load, wrk };
}

// ---------------------------------------------------------------------------------------------
// Processes.

/** A port that was free a moment ago (for the cold-start runs, which poll a known port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `node [nodeArgs] script [args]` and resolves once a stdout line is a JSON object for
 * which `isReady(obj)` is true, with `{ child, pid, info: obj, stderr() }`. Rejects when the
 * process exits first or `timeoutMs` passes.
 */
export function spawnNode(script, args, { nodeArgs = [], isReady, timeoutMs = 15_000, env = process.env, cwd = REPO_ROOT } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${script}: no ready line within ${timeoutMs} ms\n${err}`)), timeoutMs);
    const finish = (error, info) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else {
        // Keep draining stdout so the child never blocks on a full pipe.
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, pid: child.pid, info, stderr: () => err });
      }
    };
    child.once('exit', (code, signal) => finish(new Error(`${script} exited (${code ?? signal}) before it was ready\n${err}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let obj;
        try {
          obj = JSON.parse(line);
        } catch {
          continue;
        }
        if (isReady(obj)) finish(undefined, obj);
      }
    });
  });
}

/** Starts the daemon on free ports (everything 0) and resolves once it logged its ports and /readyz is 200. */
export async function startDaemon(flagFile, { nodeArgs = [], extraArgs = [] } = {}) {
  const proc = await spawnNode(DAEMON_BIN, ['start', '-f', `file:${flagFile}`, '--host', '127.0.0.1', '-p', '0', '-m', '0', '-g', '0', '-r', '0', '-z', 'json', ...extraArgs], {
    nodeArgs,
    isReady: (o) => o.msg === 'vexil listening',
  });
  const ports = { evaluation: proc.info.evaluation, management: proc.info.management, sync: proc.info.sync, ofrep: proc.info.ofrep };
  const t = nowMs();
  while (!(await readyzOk(ports.management))) {
    if (nowMs() - t > 15_000) throw new Error('daemon /readyz did not turn 200 within 15 s');
    await sleep(10);
  }
  return { ...proc, ports };
}

export async function readyzOk(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stop(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resident set size of a process, KB (VmRSS from /proc/<pid>/status). */
export function rssKb(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/**
 * RSS after it settles: samples every 250 ms until three consecutive samples are within 1% (or
 * `maxMs` passes) and returns the last. V8 frees and the allocator returns pages lazily, so a
 * single early sample can be off by megabytes.
 */
export async function settledRssKb(pid, maxMs = 4_000) {
  const samples = [rssKb(pid)];
  const t = nowMs();
  while (nowMs() - t < maxMs) {
    await sleep(250);
    samples.push(rssKb(pid));
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= Math.max(...last) * 0.01) break;
  }
  return samples[samples.length - 1];
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process has used so far, all threads, user + system, ms (/proc/<pid>/stat; 1/CLK_TCK resolution). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

// ---------------------------------------------------------------------------------------------
// Load generators.

/** Runs a command to completion and returns stdout (stderr is appended on failure). */
function run(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${out}\n${err}`));
      else resolve(out);
    });
  });
}

/** The request headers of a gRPC call, h2load's default for h2loadGrpc. */
export const GRPC_HEADERS = ['content-type: application/grpc', 'te: trailers'];

/**
 * h2load in timing mode against a gRPC unary method: POSTs `bodyFile` (a length-prefixed gRPC
 * message) with the gRPC headers. Returns req/s and the counters needed to check that every
 * request succeeded and carried a response message. `headers` replaces the gRPC headers, for
 * other protocols over the same HTTP/2 load (a Connect unary call is a POST of the bare message).
 */
export async function h2loadGrpc({ port, path, bodyFile, clients, streams, seconds, warmupSeconds, requests, headers = GRPC_HEADERS }) {
  // Timing mode (-D) for measurements; count mode (-n) for the exact per-request checks.
  const mode = requests !== undefined ? ['-n', String(requests)] : ['-D', `${Math.round(seconds * 1000)}ms`, '--warm-up-time', `${Math.round(warmupSeconds * 1000)}ms`];
  const out = await run(
    'h2load',
    [
      '-c', String(clients),
      '-m', String(streams),
      '-t', '1',
      ...mode,
      '-d', bodyFile,
      ...headers.flatMap((h) => ['-H', h]),
      `http://127.0.0.1:${port}${path}`,
    ],
    ((seconds ?? 0) + (warmupSeconds ?? 0) + 60) * 1000,
  );
  const num = (re) => {
    const m = re.exec(out);
    if (!m) throw new Error(`cannot parse h2load output (${re}):\n${out}`);
    return Number(m[1]);
  };
  return {
    reqPerSec: num(/finished in [\d.]+\w*, ([\d.]+) req\/s/),
    done: num(/requests: \d+ total, \d+ started, (\d+) done/),
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/),
    errored: num(/(\d+) errored/),
    timeout: num(/(\d+) timeout/),
    status2xx: num(/status codes: (\d+) 2xx/),
    nonOk: num(/status codes: \d+ 2xx, (\d+) 3xx/) + num(/(\d+) 4xx/) + num(/(\d+) 5xx/),
    dataBytes: num(/traffic: .*\((\d+)\) data/),
    meanLatencyUs: parseLatency(/time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1]),
  };
}

function parseLatency(s) {
  if (!s) return undefined;
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1e3 : 1e6);
}

/** wrk with a Lua script (POST body + headers). Returns req/s and the error counters. */
export async function wrkPost({ url, luaFile, connections, seconds }) {
  const out = await run('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '-s', luaFile, url], (seconds + 30) * 1000);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  if (!rps || !total) throw new Error(`cannot parse wrk output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    reqPerSec: Number(rps[1]),
    requests: Number(total[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
  };
}

/**
 * The commit a run measured, as `abc1234`, with a note when `paths` (the code under test) have
 * uncommitted changes; `unknown` outside a git checkout.
 */
export function commitLabel(paths) {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync(`git status --porcelain -- ${paths.join(' ')}`, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head} (+ uncommitted changes in ${paths.join(', ')})` : head;
  } catch {
    return 'unknown';
  }
}

/** A package's version, read from node_modules (some packages do not export their package.json). */
export const packageVersion = (name) => JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

/**
 * A run's scratch directory and child processes: `track` registers a child (or a spawnNode
 * result) and returns it; `children` are those still running; `cleanup` kills what is left and
 * removes the directory, also on Ctrl-C.
 */
export function scratchRun(prefix) {
  const work = mkdtempSync(join(os.tmpdir(), prefix));
  const children = new Set();
  const track = (tracked) => {
    const child = tracked.child ?? tracked;
    children.add(child);
    child.once('exit', () => children.delete(child));
    return tracked;
  };
  const cleanup = () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  return { work, children, track, cleanup };
}

/** One unary gRPC call with raw bytes in and out (grpc-js, a fresh channel), for checking a target before load. */
export function grpcUnary(port, path, msg) {
  const grpc = daemonRequire('@grpc/grpc-js');
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, (b) => b, (b) => b, msg, (err, res) => {
      client.close();
      if (err) reject(new Error(`gRPC ${path} on ${port}: status ${err.code} ${err.details}`));
      else resolve(res);
    });
  });
}
