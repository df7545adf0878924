/**
 * An experiment, not part of `npm run bench:daemon`: what each piece of the daemon's OFREP request
 * path costs on a bare fastify server. It starts bare-fastify-server.js several times, each with a
 * different BARE_OFREP mix: CORS, a raw-buffer body parser, three async route hooks, the daemon's
 * per-request prom-client updates, and the same updates aggregated outside prom-client. Then it
 * measures each with wrk in interleaved rounds and reports medians and ratios against the plain
 * server.
 *
 *   node bench/src/ofrep-breakdown.js            (after `npm run build`; about 1.5 minutes)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTEXT } from './daemon-fixtures.js';
import { ensureTools, spawnNode, stop, wrkPost } from './daemon-lib.js';
import { median } from './harness.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const VARIANTS = [
  '',
  'cors',
  'buffer',
  'hooks',
  'hooks,metrics',
  'hooks,metrics,aggregated',
  'cors,buffer,hooks,metrics',
  'cors,buffer,hooks,metrics,aggregated',
];

ensureTools();
const work = mkdtempSync(join(os.tmpdir(), 'vexil-ofrep-breakdown-'));
const lua = join(work, 'ofrep.lua');
writeFileSync(lua, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify({ context: CONTEXT }))}\nwrk.headers["Content-Type"] = "application/json"\n`);
const body = JSON.stringify({ value: true, key: 'bench-static', reason: 'STATIC', variant: 'on', metadata: { flagSetId: 'vexil-bench', version: '2024.11.3', environment: 'production' } });

const servers = [];
try {
  for (const v of VARIANTS) {
    servers.push(
      await spawnNode(fileURLToPath(new URL('./bare-fastify-server.js', import.meta.url)), [body], {
        env: { ...process.env, BARE_OFREP: v },
        isReady: (o) => o.msg === 'bare fastify listening',
      }),
    );
  }
  const url = (i) => `http://127.0.0.1:${servers[i].info.ofrep}/ofrep/v1/evaluate/flags/bench-static`;
  for (let i = 0; i < VARIANTS.length; i++) await wrkPost({ url: url(i), luaFile: lua, connections: 32, seconds: 1 });
  const rates = VARIANTS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < VARIANTS.length; j++) {
      const i = (j + r) % VARIANTS.length;
      const res = await wrkPost({ url: url(i), luaFile: lua, connections: 32, seconds: 2 });
      if (res.non2xx > 0 || res.socketErrors > 0) console.error(`!!! ${VARIANTS[i] || 'plain'}: ${JSON.stringify(res)}`);
      rates[i].push(res.reqPerSec);
    }
  }
  const plain = median(rates[0]);
  console.log(`bare fastify OFREP route, wrk 32 connections, ${ROUNDS} interleaved rounds of 2 s; ratio = median ÷ plain median`);
  for (let i = 0; i < VARIANTS.length; i++) {
    const m = median(rates[i]);
    console.log(`${(VARIANTS[i] || 'plain').padEnd(40)}${`${(m / 1e3).toFixed(1)} k/s`.padStart(12)}${`${(m / plain).toFixed(2)}x`.padStart(8)}   1 ÷ throughput ${(1e6 / m).toFixed(1)} µs`);
  }
} finally {
  for (const s of servers) await stop(s.child);
  rmSync(work, { recursive: true, force: true });
}
