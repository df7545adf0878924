/**
 * `Idempotency-Key` on POST: the same key (per caller) with the same body within the TTL gets the
 * first response again, without a second write; the same key with another body is refused. In
 * memory, bounded: the oldest keys go first once `maxEntries` are held.
 */
import { AdminError, AdminErrorCode } from './errors.js';

export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

interface Entry {
  readonly fingerprint: string;
  readonly expires: number;
  response: Promise<StoredResponse>;
}

export interface IdempotencyCacheOptions {
  /** Default 24 h. */
  readonly ttlMs?: number;
  /** Default 10,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: IdempotencyCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 24 * 3600_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `fn` once per (scope, key): a repeat with the same fingerprint gets the stored response
   * (also while the first is still running); errors are not stored, so a failed call may be retried.
   */
  async run(scope: string, key: string, fingerprint: string, fn: () => Promise<StoredResponse>): Promise<StoredResponse & { replayed: boolean }> {
    const id = `${scope}\u0000${key}`;
    const now = this.now();
    const existing = this.entries.get(id);
    if (existing !== undefined && existing.expires > now) {
      if (existing.fingerprint !== fingerprint) {
        throw new AdminError(AdminErrorCode.IDEMPOTENCY_KEY_REUSED, 'this Idempotency-Key was used with a different request');
      }
      return { ...(await existing.response), replayed: true };
    }
    this.entries.delete(id);
    const response = fn();
    this.entries.set(id, { fingerprint, expires: now + this.ttlMs, response });
    this.evict(now);
    try {
      return { ...(await response), replayed: false };
    } catch (err) {
      if (this.entries.get(id)?.response === response) this.entries.delete(id);
      throw err;
    }
  }

  private evict(now: number): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && e.expires > now) break;
      this.entries.delete(id);
    }
  }
}
