/** Small timing helpers for the benchmarks: a hand-written loop timer, calibration, statistics, and the end of a run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const collect = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};

/**
 * Seconds taken by `fn(n)`. The heap is collected first (when --expose-gc is on), so garbage left
 * by the previous measurement is not charged to this one. The result goes to `consume`, so the JIT
 * cannot treat the work as dead.
 */
export function timeIt(fn, n, consume) {
  collect();
  const start = process.hrtime.bigint();
  const result = fn(n);
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  consume(result);
  return elapsed;
}

/**
 * How many operations (a multiple of `unit`, at least `minOps`) make `fn` take about `targetSec`.
 * Doubles from `unit` until a run is long enough to time reliably, then scales.
 */
export function calibrate(fn, targetSec, unit, minOps, consume) {
  let n = unit;
  let t = timeIt(fn, n, consume);
  while (t < Math.min(0.02, targetSec / 2)) {
    n *= 2;
    t = timeIt(fn, n, consume);
  }
  const scaled = Math.round((n * targetSec) / t / unit) * unit;
  return Math.max(minOps, unit, scaled);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) of numbers in any order, by nearest rank. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function geomean(xs) {
  return Math.exp(xs.reduce((acc, x) => acc + Math.log(x), 0) / xs.length);
}

export function fmtRate(opsPerSec) {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k/s`;
  return `${opsPerSec.toFixed(1)} /s`;
}

export function fmtMs(secPerOp) {
  const ms = secPerOp * 1000;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 0.1) return `${ms.toFixed(2)} ms`;
  if (ms >= 0.001) return `${ms.toFixed(4)} ms`;
  return `${(ms * 1e3).toFixed(3)} µs`;
}

export function fmtRatio(r) {
  if (r >= 1000) return `${Math.round(r).toLocaleString('en-US')}x`;
  if (r >= 100) return `${r.toFixed(0)}x`;
  if (r >= 10) return `${r.toFixed(1)}x`;
  return `${r.toFixed(2)}x`;
}

/**
 * The end of a benchmark run: prints its wall time and any sanity problems (which make the numbers
 * suspect and the exit code 1), then writes `results` (given `benchSeconds`) as
 * bench/results/<file>. Returns the seconds.
 */
export function finishRun({ t0, problems, file, results }) {
  const seconds = (performance.now() - t0) / 1000;
  console.log(`bench time ${seconds.toFixed(1)} s`);
  if (problems.length > 0) {
    const bar = '!'.repeat(100);
    console.error(`\n${bar}\n!!! WARNING: sanity problems during the run; the numbers above are suspect:`);
    for (const p of problems) console.error(`!!!   ${p}`);
    console.error(bar);
    process.exitCode = 1;
  }
  const outDir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${outDir}${file}`, `${JSON.stringify({ ...results, benchSeconds: seconds }, null, 2)}\n`);
  console.log(`results written to bench/results/${file}`);
  return seconds;
}

/** The machine a run measured on, first in every benchmark's `env`. */
export function machine() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    platform: `${process.platform}-${process.arch}`,
  };
}
