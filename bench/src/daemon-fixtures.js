/**
 * Inputs shared by daemon-bench.js and daemon-profile.js: the flag files, the evaluation context,
 * the gRPC request framing, and the IPC client for the stream-load.js processes.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CASE_FLAGS, makeFlagSet, toText } from './fixtures.js';

/** Flags in the throughput and cold-start file. */
export const COLD_FLAGS = 1000;
/** Flags in the stream cases' file (a SyncFlags message carries all of them). */
export const STREAM_FLAGS = 20;

/** A boolean flag whose answer needs a rule (ends_with + in, else sem_ver) to be evaluated. */
export const TARGETED_FLAG = {
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: {
    if: [
      { and: [{ ends_with: [{ var: 'email' }, '@example.com'] }, { in: [{ var: 'country' }, ['US', 'CA', 'GB']] }] },
      'on',
      { if: [{ sem_ver: [{ var: 'appVersion' }, '>=', '2.1.0'] }, 'on', 'off'] },
    ],
  },
};
/** One context for every request: the targeted flag walks the whole rule (country misses, sem_ver matches). */
export const CONTEXT = { targetingKey: 'user-7@example.com', email: 'user-7@example.com', country: 'DE', appVersion: '2.4.0', plan: 'pro' };
export const FLAG_CASES = [
  { id: 'static', flag: 'bench-static', title: 'static flag', expect: { value: true, reason: 'STATIC', variant: 'on' } },
  { id: 'targeted', flag: 'bench-targeted', title: 'targeted flag', expect: { value: true, reason: 'TARGETING_MATCH', variant: 'on' } },
];

export function evalFlagDoc() {
  const extra = { ...CASE_FLAGS, 'bench-targeted': TARGETED_FLAG };
  const doc = makeFlagSet(COLD_FLAGS - Object.keys(extra).length);
  Object.assign(doc.flags, extra);
  return doc;
}

export function streamFlagText(rev) {
  const doc = makeFlagSet(STREAM_FLAGS - 1, 11);
  doc.flags['bench-rev'] = { state: 'ENABLED', variants: { current: rev, previous: 'none' }, defaultVariant: 'current' };
  return toText(doc);
}

export const grpcFrame = (msg) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
};

/** Forks a stream-load.js process; `call(cmd, args)` sends one request and resolves with its answer. */
export function forkLoad(name) {
  const child = fork(fileURLToPath(new URL('./stream-load.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map();
  child.on('message', (m) => {
    const p = pending.get(m.seq);
    pending.delete(m.seq);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`${name}: ${m.error}`));
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited (${code})`));
    pending.clear();
  });
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      const s = ++seq;
      pending.set(s, { resolve, reject });
      child.send({ seq: s, cmd, ...args });
    });
  return { child, call, name };
}
