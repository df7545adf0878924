/**
 * EventStream subscribers, flagd-style: `provider_ready` on subscribe, `configuration_change` with
 * `{flags: {key: {type}}}` for every change to the subscriber's selector, `keep_alive` every 20 s,
 * `provider_shutdown` when the daemon stops. One timer serves every stream (10,000 streams must
 * not mean 10,000 timers).
 */
import type { JsonObject } from '@vexil/core';
import type { FlagStore } from '../../store/flag-store.js';

export const EventType = {
  READY: 'provider_ready',
  CONFIGURATION_CHANGE: 'configuration_change',
  KEEP_ALIVE: 'keep_alive',
  SHUTDOWN: 'provider_shutdown',
} as const;

export type EventSink = (type: string, data?: JsonObject) => void;

interface Subscription {
  sink: EventSink;
  unsubscribeStore: () => void;
}

export class EventHub {
  private readonly subs = new Set<Subscription>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: FlagStore,
    private readonly keepAliveMs = 20_000,
  ) {}

  get size(): number {
    return this.subs.size;
  }

  /** Registers a stream; it gets `provider_ready` at once. Returns the unsubscribe function. */
  subscribe(selector: string | undefined, sink: EventSink): () => void {
    const sub: Subscription = {
      sink,
      unsubscribeStore: this.store.subscribe((change) => {
        const flags: JsonObject = {};
        for (const c of change.changes) Object.defineProperty(flags, c.key, { value: { type: c.kind }, enumerable: true });
        safeSend(sink, EventType.CONFIGURATION_CHANGE, { flags });
      }, selector),
    };
    this.subs.add(sub);
    this.ensureTimer();
    safeSend(sink, EventType.READY);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      sub.unsubscribeStore();
      this.subs.delete(sub);
      if (this.subs.size === 0) this.stopTimer();
    };
  }

  /** Tells every stream the provider is going away; the adapters then end their streams. */
  shutdown(): void {
    for (const s of [...this.subs]) {
      safeSend(s.sink, EventType.SHUTDOWN);
      s.unsubscribeStore();
    }
    this.subs.clear();
    this.stopTimer();
  }

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      for (const s of this.subs) safeSend(s.sink, EventType.KEEP_ALIVE);
    }, this.keepAliveMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function safeSend(sink: EventSink, type: string, data?: JsonObject): void {
  try {
    sink(type, data);
  } catch {
    // A broken stream is cleaned up by its adapter when the transport reports it closed.
  }
}
