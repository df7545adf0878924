/**
 * The gRPC ceiling for daemon-bench.js: a bare @grpc/grpc-js server (the daemon's own copy of the
 * library, and the daemon's own protobuf-es service-definition helper) that does the least a
 * server can do for the same wire calls:
 *
 * - evaluation port: flagd.evaluation.v2.Service/ResolveBoolean decodes the request and answers
 *   one constant ResolveBooleanResponse; EventStream sends provider_ready, then a constant
 *   configuration_change whenever the watched file's content changes;
 * - sync port: flagd.sync.v1.FlagSyncService/SyncFlags sends the file's text at once and again
 *   on every change.
 *
 * Change detection is one fs.watch on the file's directory and a re-read, with no debounce; the
 * text is only re-serialised compact (JSON.parse + JSON.stringify), as the daemon sends it, so both
 * put the same bytes on the wire: a floor for "file written → stream message", not a flag daemon.
 *
 * With a third argument, flagd.evaluation.v1.Service/ResolveBoolean answers that constant too
 * (shapes-bench.js measures v1 and v2 against it).
 *
 *   node bare-grpc-server.js <flag-file> [base64 of the v2 ResolveBooleanResponse] [base64 of the v1 one]
 *
 * Prints one JSON line `{"msg":"bare grpc listening","evaluation":P,"sync":P}`; SIGTERM stops it.
 */
import { create, fromBinary } from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2, syncV1 } from '@vexil/proto';
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DEFINITIONS_JS, daemonRequire } from './daemon-lib.js';

const grpc = daemonRequire('@grpc/grpc-js');
const { grpcServiceDefinition, STREAM_FRIENDLY_SERVER_OPTIONS } = await import(DEFINITIONS_JS.href);

const file = process.argv[2];
if (!file) throw new Error('usage: bare-grpc-server.js <flag-file> [response-base64]');

// Sent compact, as the daemon sends it, so both put the same number of bytes on the wire.
const compact = (t) => JSON.stringify(JSON.parse(t));
let text = await readFile(file, 'utf8');
let flagConfiguration = compact(text);

// The daemon's own answer (base64 of the message) when given, so both send the same bytes.
const RESOLVE_RESPONSE = process.argv[3]
  ? fromBinary(evaluationV2.ResolveBooleanResponseSchema, Buffer.from(process.argv[3], 'base64'))
  : create(evaluationV2.ResolveBooleanResponseSchema, { value: true, reason: 'STATIC', variant: 'on', metadata: {} });
// The v1 ResolveBoolean answer, only when given: daemon-bench.js measures v2 alone.
const RESOLVE_RESPONSE_V1 = process.argv[4] ? fromBinary(evaluationV1.ResolveBooleanResponseSchema, Buffer.from(process.argv[4], 'base64')) : undefined;
const READY = create(evaluationV2.EventStreamResponseSchema, { type: 'provider_ready' });
const CHANGED = create(evaluationV2.EventStreamResponseSchema, { type: 'configuration_change', data: { flags: {} } });

const syncStreams = new Set();
const eventStreams = new Set();

function track(set, call) {
  set.add(call);
  const drop = () => set.delete(call);
  call.on('cancelled', drop);
  call.on('close', drop);
  call.on('error', drop);
}

/**
 * BARE_FANOUT=preserialized (an experiment, not the default ceiling): the streaming methods accept
 * ready-made bytes, and an update is serialised once for all streams instead of once per stream.
 * BARE_FANOUT=preserialized,chunked adds a yield to the event loop every 500 writes.
 */
const FANOUT = new Set((process.env.BARE_FANOUT ?? '').split(','));
const PRESERIALIZED = FANOUT.has('preserialized');
/** BARE_FANOUT=chunked (experiment): yield to the event loop every CHUNK writes, so early streams flush sooner. */
const CHUNK = FANOUT.has('chunked') ? 500 : Infinity;
const yieldLoop = () => new Promise((resolve) => setImmediate(resolve));
function definition(desc, streamingMethod) {
  const def = grpcServiceDefinition(desc);
  if (PRESERIALIZED) {
    const m = def[streamingMethod];
    const serialize = m.responseSerialize;
    def[streamingMethod] = { ...m, responseSerialize: (v) => (Buffer.isBuffer(v) ? v : serialize(v)) };
  }
  return def;
}
const evalDef = definition(evaluationV2.Service, 'EventStream');
const syncDef = definition(syncV1.FlagSyncService, 'SyncFlags');
const changedOut = PRESERIALIZED ? evalDef.EventStream.responseSerialize(CHANGED) : CHANGED;

const evaluation = new grpc.Server(STREAM_FRIENDLY_SERVER_OPTIONS);
evaluation.addService(evalDef, {
  ResolveBoolean: (_call, callback) => callback(null, RESOLVE_RESPONSE),
  EventStream: (call) => {
    track(eventStreams, call);
    call.write(READY);
  },
});

if (RESOLVE_RESPONSE_V1 !== undefined) {
  // The v1 methods not given here answer UNIMPLEMENTED, as grpc-js does for a missing handler.
  evaluation.addService(grpcServiceDefinition(evaluationV1.Service), { ResolveBoolean: (_call, callback) => callback(null, RESOLVE_RESPONSE_V1) });
}

const sync = new grpc.Server(STREAM_FRIENDLY_SERVER_OPTIONS);
sync.addService(syncDef, {
  SyncFlags: (call) => {
    track(syncStreams, call);
    call.write(create(syncV1.SyncFlagsResponseSchema, { flagConfiguration }));
  },
});

// Re-read on any event for the file's name (an atomic rename shows up as one), coalescing events
// that arrive while a read is in flight; push only when the text really changed.
let reading = false;
let again = false;
async function reread() {
  if (reading) {
    again = true;
    return;
  }
  reading = true;
  do {
    again = false;
    let next;
    try {
      next = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    if (next === text) continue;
    try {
      flagConfiguration = compact(next);
    } catch {
      continue; // caught mid-write: the next event re-reads
    }
    text = next;
    let msg = create(syncV1.SyncFlagsResponseSchema, { flagConfiguration });
    if (PRESERIALIZED) msg = syncDef.SyncFlags.responseSerialize(msg);
    let n = 0;
    for (const call of [...syncStreams]) {
      call.write(msg);
      if (++n % CHUNK === 0) await yieldLoop();
    }
    for (const call of [...eventStreams]) {
      call.write(changedOut);
      if (++n % CHUNK === 0) await yieldLoop();
    }
  } while (again);
  reading = false;
}
const name = basename(file);
const watcher = watch(dirname(file), (_event, f) => {
  if (f === null || f === name) void reread();
});

function bind(server) {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}
const [evalPort, syncPort] = await Promise.all([bind(evaluation), bind(sync)]);
process.stdout.write(`${JSON.stringify({ msg: 'bare grpc listening', evaluation: evalPort, sync: syncPort })}\n`);

process.once('SIGTERM', () => {
  watcher.close();
  evaluation.forceShutdown();
  sync.forceShutdown();
  process.exit(0);
});
