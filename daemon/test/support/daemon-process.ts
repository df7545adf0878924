/**
 * Runs the real `vexil` process for tests: port 0 everywhere, JSON logs, the bound ports read from
 * the "vexil listening" log line. Every line is kept so tests can assert on logs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/vexil.js', import.meta.url));

export interface Ports {
  evaluation: number;
  management: number;
  sync: number;
  ofrep: number;
}

export interface DaemonProcess {
  readonly ports: Ports;
  readonly child: ChildProcessWithoutNullStreams;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line matching, waiting up to `ms`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export async function startDaemon(
  args: string[],
  options: { env?: Record<string, string>; ports?: Partial<Ports>; /** Wait for /readyz 200 (default true). */ ready?: boolean } = {},
): Promise<DaemonProcess> {
  const p = options.ports ?? {};
  const child = spawn(
    process.execPath,
    [BIN, 'start', '-z', 'json', '-p', String(p.evaluation ?? 0), '-m', String(p.management ?? 0), '-g', String(p.sync ?? 0), '-r', String(p.ofrep ?? 0), ...args],
    { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }>();
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { raw: line };
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.match(parsed)) {
          waiters.delete(w);
          w.resolve(parsed);
        }
      }
    }
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (match: (l: Record<string, unknown>) => boolean, ms = 10_000) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const w = { match, resolve: (l: Record<string, unknown>) => (clearTimeout(t), resolve(l)) };
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no matching log line within ${ms} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`));
      }, ms);
      waiters.add(w);
      void exited.then((code) => {
        if (waiters.has(w)) {
          waiters.delete(w);
          clearTimeout(t);
          reject(new Error(`vexil exited with ${code} before the expected log line; stderr: ${stderr}`));
        }
      });
    });
  };

  const listening = await waitForLog((l) => l['msg'] === 'vexil listening');
  const ports: Ports = {
    evaluation: listening['evaluation'] as number,
    management: listening['management'] as number,
    sync: listening['sync'] as number,
    ofrep: listening['ofrep'] as number,
  };
  if (options.ready ?? true) {
    await eventually(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${ports.management}/readyz`)).status === 200;
      } catch {
        return false;
      }
    }, 10_000);
  }
  return {
    ports,
    child,
    logs,
    waitForLog,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Polls until `check` returns true (or throws after `ms`). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000, stepMs = 20): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
