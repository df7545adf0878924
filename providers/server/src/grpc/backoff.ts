/**
 * Reconnect delays: exponential from `initialMs`, doubling per failed attempt up to `maxMs`, with
 * "full jitter" on the upper half (a delay lands in [d/2, d]) so a fleet of providers that lost
 * the same daemon does not come back in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
