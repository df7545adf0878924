/**
 * What the web provider's tests share: an event log on a provider or client, polling, and an
 * in-memory localStorage for Node (which has none).
 */
import { ProviderEvents } from '@openfeature/web-sdk';

export type Logged = { type: ProviderEvents; flagsChanged?: string[]; message?: string; errorCode?: string; at: number };

const WATCHED = [
  ProviderEvents.Ready,
  ProviderEvents.Stale,
  ProviderEvents.Error,
  ProviderEvents.ConfigurationChanged,
  ProviderEvents.Reconciling,
  ProviderEvents.ContextChanged,
] as const;

/** Records every provider event a provider (its `events`) or a client emits, in order. */
export function logEvents(target: { addHandler(type: ProviderEvents, handler: (details?: unknown) => void): void }): Logged[] {
  const log: Logged[] = [];
  for (const type of WATCHED) target.addHandler(type, (d) => log.push({ type, ...(d as object), at: performance.now() }));
  return log;
}

/** Polls `check` until it returns something truthy (or stops throwing); fails after `timeoutMs`. */
export async function eventually<T>(check: () => T, timeoutMs = 5000): Promise<NonNullable<T>> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const v = check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (performance.now() > until) throw last ?? new Error(`not true within ${timeoutMs} ms: ${check.toString()}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The part of the Web Storage API the provider uses, in memory. */
export class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}
