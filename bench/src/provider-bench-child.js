/**
 * One OpenFeature server provider in its own process, for provider-bench.js.
 *
 *   node --expose-gc provider-bench-child.js <ours|official|ceiling> <sync port> worker
 *   node --expose-gc provider-bench-child.js <ours|official> <sync port> memory <keys.json>
 *
 * worker: connects through `OpenFeature.setProviderAndWait`, then answers the parent over the IPC
 * channel (fork): `check` resolves flags for given contexts through the client and returns the
 * details; `run` evaluates one case for a fixed time, through the client or straight on the
 * provider, and returns the operation count and the elapsed time.
 *
 * memory: imports everything, collects the heap, takes a baseline, creates and connects the
 * provider, waits for the flags, collects again and prints one JSON line with heapUsed and RSS
 * minus the baseline; then once more after evaluating every flag once (a lazy engine pays then).
 * One provider per process, so neither is charged for the other's heap or code.
 */
import { readFileSync } from 'node:fs';

import { OpenFeature } from '@openfeature/server-sdk';

import { makeContexts } from './fixtures.js';

const [which, portArg, mode, keysFile] = process.argv.slice(2);
const port = Number(portArg);
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('provider-bench-child.js needs --expose-gc');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * The ceiling: the least a provider can do. Returns a constant frozen result, synchronously (the
 * SDK awaits whatever it gets), with no hooks. What the client costs on top of this is the SDK's.
 */
class ConstantProvider {
  metadata = { name: 'constant' };
  runsOn = 'server';
  static BOOL = Object.freeze({ value: true, variant: 'on', reason: 'STATIC' });
  static STR = Object.freeze({ value: 'new', variant: 'new', reason: 'STATIC' });
  resolveBooleanEvaluation() {
    return ConstantProvider.BOOL;
  }
  resolveStringEvaluation() {
    return ConstantProvider.STR;
  }
  resolveNumberEvaluation() {
    return { value: 0, reason: 'STATIC' };
  }
  resolveObjectEvaluation() {
    return { value: {}, reason: 'STATIC' };
  }
}

// Options identical for both real providers: in-process over flagd.sync on the daemon's sync port.
const OPTIONS = { resolverType: 'in-process', host: '127.0.0.1', port };

async function providerClass() {
  if (which === 'ours') return (await import('@vexil/server-provider')).VexilProvider;
  if (which === 'official') return (await import('@openfeature/flagd-provider')).FlagdProvider;
  if (which === 'ceiling') return ConstantProvider;
  throw new Error(`unknown provider ${which}`);
}

const memory = () => {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
};

/** Full collections with pauses, so V8 finishes sweeping and the allocator can return pages. */
async function settle() {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(60);
  }
}

// ---------------------------------------------------------------------------------------------
// memory

async function measureMemory() {
  const Provider = await providerClass();
  const client = OpenFeature.getClient();
  // [key, 'boolean' | 'string'] for every flag the daemon serves, from a small file the parent
  // wrote: building the 1.8 MB set here would touch heap pages the provider then reuses for free.
  const keys = JSON.parse(readFileSync(keysFile, 'utf8'));
  // Warm what the SDK and Node load lazily (timers, promise machinery), outside the figure.
  await client.getBooleanValue('warm', false, { targetingKey: 'x' });
  await settle();
  const before = memory();

  const provider = new Provider(OPTIONS);
  await OpenFeature.setProviderAndWait(provider);
  // The ready signal can come before the last bytes of the first message are released.
  await sleep(200);
  await settle();
  const loaded = memory();

  // Every flag once, each with its own type's method.
  const ctx = makeContexts(1)[0];
  let errors = 0;
  for (const [key, type] of keys) {
    const d = type === 'boolean' ? await client.getBooleanDetails(key, false, ctx) : await client.getStringDetails(key, '', ctx);
    if (d.errorCode) errors++;
  }
  await settle();
  const evaluated = memory();

  const diff = (a) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - before[k]]));
  console.log(JSON.stringify({ which, before, loaded: diff(loaded), evaluated: diff(evaluated), evaluatedFlags: keys.length, errors }));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// worker

const contexts = makeContexts(1000).map((c) => Object.freeze(c));
const NC = contexts.length;
// The logger a direct provider call gets (the SDK passes its own; neither provider logs here).
const noopLogger = { error() {}, warn() {}, info() {}, debug() {} };
let client;
let provider;

// One loop per (level, type), each its own function literal; every loop walks the contexts so
// no provider sees one context over and over, and consumes the value so nothing is dead code.
// The clock is read every 64 evaluations; the run stops at the first check past `ms`.
const LOOPS = {
  async clientBoolean(key, ms) {
    let n = 0;
    let s = 0;
    let j = 0;
    const start = nowMs();
    const end = start + ms;
    do {
      for (let k = 0; k < 64; k++) {
        if ((await client.getBooleanValue(key, false, contexts[j])) === true) s++;
        if (++j === NC) j = 0;
      }
      n += 64;
    } while (nowMs() < end);
    return { n, ms: nowMs() - start, s };
  },
  async clientString(key, ms) {
    let n = 0;
    let s = 0;
    let j = 0;
    const start = nowMs();
    const end = start + ms;
    do {
      for (let k = 0; k < 64; k++) {
        s += (await client.getStringValue(key, 'x', contexts[j])).length;
        if (++j === NC) j = 0;
      }
      n += 64;
    } while (nowMs() < end);
    return { n, ms: nowMs() - start, s };
  },
  async providerBoolean(key, ms) {
    let n = 0;
    let s = 0;
    let j = 0;
    const start = nowMs();
    const end = start + ms;
    do {
      for (let k = 0; k < 64; k++) {
        if ((await provider.resolveBooleanEvaluation(key, false, contexts[j], noopLogger)).value === true) s++;
        if (++j === NC) j = 0;
      }
      n += 64;
    } while (nowMs() < end);
    return { n, ms: nowMs() - start, s };
  },
  async providerString(key, ms) {
    let n = 0;
    let s = 0;
    let j = 0;
    const start = nowMs();
    const end = start + ms;
    do {
      for (let k = 0; k < 64; k++) {
        s += (await provider.resolveStringEvaluation(key, 'x', contexts[j], noopLogger)).value.length;
        if (++j === NC) j = 0;
      }
      n += 64;
    } while (nowMs() < end);
    return { n, ms: nowMs() - start, s };
  },
};

async function check({ flags, contextIndexes }) {
  const out = [];
  for (const [key, type] of flags) {
    const row = [];
    for (const i of contextIndexes) {
      const d = type === 'boolean' ? await client.getBooleanDetails(key, false, contexts[i]) : await client.getStringDetails(key, '<default>', contexts[i]);
      row.push([d.value, d.variant, d.reason, d.errorCode]);
    }
    out.push(row);
  }
  return out;
}

async function worker() {
  const Provider = await providerClass();
  provider = new Provider(OPTIONS);
  const t = nowMs();
  await OpenFeature.setProviderAndWait(provider);
  client = OpenFeature.getClient();
  const readyMs = nowMs() - t;
  process.on('message', async (msg) => {
    try {
      let result;
      if (msg.cmd === 'check') result = await check(msg);
      else if (msg.cmd === 'run') {
        gc(); // garbage left by the previous run is not charged to this one
        result = await LOOPS[`${msg.level}${msg.type === 'boolean' ? 'Boolean' : 'String'}`](msg.flag, msg.ms);
      } else if (msg.cmd === 'exit') {
        // The official provider's sync stream can keep the loop alive after close; do not wait for it.
        await Promise.race([OpenFeature.close(), sleep(1000)]);
        process.exit(0);
      }
      process.send({ id: msg.id, result });
    } catch (err) {
      process.send({ id: msg.id, error: String(err?.stack ?? err) });
    }
  });
  process.send({ ready: true, readyMs, status: client.providerStatus });
}

if (mode === 'memory') await measureMemory();
else await worker();
