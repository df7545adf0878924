/**
 * Periodic polling with exponential backoff and full jitter, shared by the http and s3 sources.
 *
 * After a successful attempt the next one runs `intervalMs` later. After the n-th consecutive failure
 * the next attempt runs after a random delay in [floor, min(cap, base * 2^(n-1))], with base = the
 * interval, cap = max(interval, min(60 s, 10 × interval)) and floor = base / 10 (so a run of failures
 * never turns into a busy loop). The first success resets the count.
 */

export type PollOutcome = 'ok' | 'failed';

export interface BackoffOptions {
  /** The backoff base: the poll interval. */
  readonly baseMs: number;
  /** The longest delay between attempts while failing. */
  readonly capMs: number;
  /** Random source in [0, 1); injectable so tests can be deterministic. */
  readonly random: () => number;
}

/** The delay before the next attempt after `failures` consecutive failures (>= 1). */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  const floor = Math.min(options.baseMs / 10, ceiling);
  return Math.max(floor, options.random() * ceiling);
}

/** The default backoff cap for a poll interval. */
export function defaultBackoffCapMs(intervalMs: number): number {
  return Math.max(intervalMs, Math.min(60_000, 10 * intervalMs));
}

/** Reads `interval` (seconds, fractions allowed) from a source config; flagd's default is 5 s. */
export function intervalMsOf(interval: number | undefined, uri: string): number {
  if (interval === undefined) return 5_000;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
    throw new Error(`source ${uri}: interval must be a positive number of seconds, got ${String(interval)}`);
  }
  return interval * 1000;
}

export interface PollerOptions {
  readonly intervalMs: number;
  readonly backoffCapMs?: number;
  readonly random?: () => number;
}

/**
 * Runs `attempt` now and then forever, until stopped. `attempt` reports its own errors and must
 * not throw; it gets a signal that aborts when the poller stops (it must then return promptly and
 * report nothing).
 */
export class Poller {
  private readonly backoff: BackoffOptions;
  private readonly stopController = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private started = false;

  constructor(
    private readonly options: PollerOptions,
    private readonly attempt: (signal: AbortSignal) => Promise<PollOutcome>,
  ) {
    this.backoff = {
      baseMs: options.intervalMs,
      capMs: options.backoffCapMs ?? defaultBackoffCapMs(options.intervalMs),
      random: options.random ?? Math.random,
    };
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Consecutive failures so far (0 after a success). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Runs the first attempt; resolves when it has finished, with the next one scheduled. */
  async start(): Promise<void> {
    if (this.started) throw new Error('poller already started');
    this.started = true;
    await this.run();
  }

  /** Aborts a running attempt, clears the timer, and resolves once the attempt has returned. */
  async stop(): Promise<void> {
    this.stopController.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private run(): Promise<void> {
    this.timer = undefined;
    const running = this.runOnce();
    this.running = running;
    return running;
  }

  private async runOnce(): Promise<void> {
    if (this.stopped) return;
    let outcome: PollOutcome;
    try {
      outcome = await this.attempt(this.stopController.signal);
    } catch {
      outcome = 'failed';
    }
    if (this.stopped) return;
    let delay: number;
    if (outcome === 'ok') {
      this.failures = 0;
      delay = this.options.intervalMs;
    } else {
      this.failures += 1;
      delay = backoffDelay(this.failures, this.backoff);
    }
    this.timer = setTimeout(() => void this.run(), delay);
  }
}

/** The signal for one request: aborted by its timeout or when the source stops. */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** Whether the abort (if any) came from the timeout. */
  readonly timedOut: boolean;
  /** Clears the timer and the stop listener; call once the request has settled. */
  dispose(): void;
}

export function requestSignal(stopSignal: AbortSignal, timeoutMs: number): RequestSignal {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`request timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onStop = () => controller.abort(new Error('source stopped'));
  stopSignal.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      stopSignal.removeEventListener('abort', onStop);
    },
  };
}
