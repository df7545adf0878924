/**
 * One message to many stream subscribers. Delivery goes in slices with a turn of the event loop
 * between them, so the first streams are written (and flushed to their sockets) while later
 * slices are still queued, and requests keep being served during a 10,000-stream update.
 * Messages are delivered in publish order.
 */
const SLICE = 500;

export class Fanout<M> {
  private readonly subs = new Set<(message: M) => void>();
  private readonly queue: M[] = [];
  private draining = false;

  get size(): number {
    return this.subs.size;
  }

  add(deliver: (message: M) => void): () => void {
    this.subs.add(deliver);
    return () => {
      this.subs.delete(deliver);
    };
  }

  publish(message: M): void {
    this.queue.push(message);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const message = this.queue.shift() as M;
        const targets = [...this.subs];
        for (let i = 0; i < targets.length; i++) {
          if (i > 0 && i % SLICE === 0) await new Promise((r) => setImmediate(r));
          const deliver = targets[i];
          if (!this.subs.has(deliver)) continue;
          try {
            deliver(message);
          } catch {
            // A broken stream is cleaned up by its transport's close/error events.
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
