/**
 * A load process for daemon-bench.js's stream cases, forked with an IPC channel. It holds many
 * server-streaming gRPC calls (flagd.sync.v1 SyncFlags or flagd.evaluation.v2 EventStream) spread
 * over several channels, each channel its own HTTP/2 connection, and notes, per stream, the
 * monotonic time (process.hrtime, CLOCK_MONOTONIC: the same clock in every process on the
 * machine) at which the stream first receives the message an update is expected to produce.
 * The writer process also rewrites the flag file itself, noting the time just before the write,
 * so the write and the arrivals it causes are timed on one clock.
 *
 * Requests: `{ seq, cmd, ...args }`; answers: `{ seq, ok: true, result }` or `{ seq, ok: false, error }`.
 *   open    { key, kind: 'sync'|'event', port, streams, channels }  → every stream got its first message
 *   arm     { key, marker }       → from now on, note the first matching message per stream
 *   write   { path, text }        → atomic rewrite (temp file + rename); result { t0 }
 *   collect { key, timeoutMs }    → result { arrivals: ms[] (NaN = none), errors }
 *   close   { key }
 *   clock   {}                    → result nowMs()
 */
import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { evaluationV2, syncV1 } from '@vexil/proto';
import { renameSync, writeFileSync } from 'node:fs';
import { daemonRequire, nowMs, sleep } from './daemon-lib.js';

const grpc = daemonRequire('@grpc/grpc-js');

const identity = (b) => b;
const PATHS = { sync: '/flagd.sync.v1.FlagSyncService/SyncFlags', event: '/flagd.evaluation.v2.Service/EventStream' };
const REQUESTS = {
  sync: Buffer.from(toBinary(syncV1.SyncFlagsRequestSchema, create(syncV1.SyncFlagsRequestSchema, { providerId: 'vexil-bench' }))),
  event: Buffer.from(toBinary(evaluationV2.EventStreamRequestSchema, create(evaluationV2.EventStreamRequestSchema, {}))),
};
const CONFIGURATION_CHANGE = Buffer.from('configuration_change');

/** key → { kind, clients, calls, first: number[] (first-message times), arrivals: number[], marker, errors, closing } */
const groups = new Map();

/** Fully decodes a stream's first message and checks it is what the protocol promises. */
function checkFirst(kind, buf) {
  if (kind === 'sync') {
    const m = fromBinary(syncV1.SyncFlagsResponseSchema, buf);
    const doc = JSON.parse(m.flagConfiguration);
    if (typeof doc.flags !== 'object' || doc.flags === null) throw new Error('first SyncFlags message has no flags object');
    return `flag_configuration with ${Object.keys(doc.flags).length} flags, ${m.flagConfiguration.length} chars`;
  }
  const m = fromBinary(evaluationV2.EventStreamResponseSchema, buf);
  if (m.type !== 'provider_ready') throw new Error(`first EventStream message is ${m.type}, not provider_ready`);
  return 'provider_ready';
}

async function open({ key, kind, port, streams, channels }) {
  if (groups.has(key)) throw new Error(`stream group ${key} already open`);
  const g = { kind, clients: [], calls: [], first: new Array(streams).fill(NaN), arrivals: new Array(streams).fill(NaN), marker: undefined, errors: [], closing: false, firstCheck: undefined };
  groups.set(key, g);
  for (let c = 0; c < channels; c++) {
    // A local subchannel pool: every client is its own HTTP/2 connection.
    g.clients.push(new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  }
  const t0 = nowMs();
  let firstErr;
  for (let i = 0; i < streams; i++) {
    const client = g.clients[i % channels];
    const call = client.makeServerStreamRequest(PATHS[kind], identity, identity, REQUESTS[kind], new grpc.Metadata(), {});
    call.on('data', (buf) => {
      const t = nowMs();
      if (Number.isNaN(g.first[i])) {
        g.first[i] = t;
        try {
          const what = checkFirst(kind, buf);
          g.firstCheck ??= what;
        } catch (err) {
          firstErr ??= err;
        }
        return;
      }
      if (g.marker !== undefined && Number.isNaN(g.arrivals[i]) && buf.includes(g.marker)) g.arrivals[i] = t;
    });
    call.on('error', (err) => {
      if (!g.closing) g.errors.push(`${err.code}: ${err.details ?? err.message}`);
    });
    call.on('end', () => {
      if (!g.closing) g.errors.push('stream ended by the server');
    });
    g.calls.push(call);
  }
  for (;;) {
    if (firstErr) throw firstErr;
    if (g.errors.length > 0) throw new Error(`stream errors while opening: ${g.errors.slice(0, 3).join('; ')}`);
    const pending = g.first.reduce((n, t) => n + (Number.isNaN(t) ? 1 : 0), 0);
    if (pending === 0) break;
    if (nowMs() - t0 > 60_000) throw new Error(`${pending} of ${streams} streams got no first message within 60 s`);
    await sleep(20);
  }
  return { openMs: nowMs() - t0, lastFirstMessageMs: Math.max(...g.first) - t0, firstCheck: g.firstCheck };
}

function arm({ key, marker }) {
  const g = groups.get(key);
  g.arrivals.fill(NaN);
  g.marker = g.kind === 'event' ? CONFIGURATION_CHANGE : Buffer.from(marker);
  return null;
}

function write({ path, text }) {
  const tmp = `${path}.tmp`;
  const t0 = nowMs();
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return { t0 };
}

async function collect({ key, timeoutMs }) {
  const g = groups.get(key);
  const t = nowMs();
  while (g.arrivals.some(Number.isNaN) && nowMs() - t < timeoutMs) await sleep(5);
  g.marker = undefined;
  return { arrivals: g.arrivals, errors: g.errors.slice(0, 5), errorCount: g.errors.length };
}

async function close({ key }) {
  const g = groups.get(key);
  if (!g) return null;
  g.closing = true;
  for (const call of g.calls) call.cancel();
  await sleep(50);
  for (const c of g.clients) c.close();
  groups.delete(key);
  return null;
}

const handlers = { open, arm, write, collect, close, clock: () => nowMs() };

process.on('message', async (msg) => {
  try {
    const result = await handlers[msg.cmd](msg);
    process.send({ seq: msg.seq, ok: true, result });
  } catch (err) {
    process.send({ seq: msg.seq, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
