/**
 * EventStream subscribers, flagd-style: `provider_ready` on subscribe, `configuration_change` with
 * `{flags: {key: {type}}}` for every change to the subscriber's selector, `keep_alive` every 20 s,
 * `provider_shutdown` when the daemon stops. Subscribers are grouped by selector: one store
 * subscription per group, each event built once (and encoded once per API version) and fanned
 * out in slices. One timer serves every stream.
 */
import type { JsonObject } from '@vexil/core';
import type { FlagStore } from '../../store/flag-store.js';
import { Fanout } from '../fanout.js';

export const EventType = {
  READY: 'provider_ready',
  CONFIGURATION_CHANGE: 'configuration_change',
  KEEP_ALIVE: 'keep_alive',
  SHUTDOWN: 'provider_shutdown',
} as const;

/** An event for every subscriber of a group; `encoded` memoises each protocol's bytes. */
export class HubEvent {
  private readonly cache = new Map<string, unknown>();
  constructor(
    readonly type: string,
    readonly data?: JsonObject,
  ) {}

  /** The encoding for one wire format, built by the first subscriber that needs it. */
  encoded<T>(format: string, build: (e: HubEvent) => T): T {
    let v = this.cache.get(format) as T | undefined;
    if (v === undefined) {
      v = build(this);
      this.cache.set(format, v);
    }
    return v;
  }
}

export type EventSink = (event: HubEvent) => void;

interface Group {
  fanout: Fanout<HubEvent>;
  unsubscribeStore: () => void;
}

const KEEP_ALIVE = new HubEvent(EventType.KEEP_ALIVE);
const SHUTDOWN = new HubEvent(EventType.SHUTDOWN);

export class EventHub {
  private readonly groups = new Map<string, Group>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: FlagStore,
    private readonly keepAliveMs = 20_000,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Registers a stream; it gets `provider_ready` at once. Returns the unsubscribe function. */
  subscribe(selector: string | undefined, sink: EventSink): () => void {
    const key = selector?.trim() ?? '';
    let g = this.groups.get(key);
    if (g === undefined) {
      const group: Group = { fanout: new Fanout<HubEvent>(), unsubscribeStore: () => {} };
      group.unsubscribeStore = this.store.subscribe((change) => {
        const flags: JsonObject = {};
        for (const c of change.changes) Object.defineProperty(flags, c.key, { value: { type: c.kind }, enumerable: true });
        group.fanout.publish(new HubEvent(EventType.CONFIGURATION_CHANGE, { flags }));
      }, selector);
      this.groups.set(key, group);
      g = group;
    }
    const group = g;
    const remove = group.fanout.add(sink);
    this.count++;
    this.ensureTimer();
    safeSend(sink, new HubEvent(EventType.READY));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      remove();
      this.count--;
      if (group.fanout.size === 0 && this.groups.get(key) === group) {
        group.unsubscribeStore();
        this.groups.delete(key);
      }
      if (this.count === 0) this.stopTimer();
    };
  }

  /** Tells every stream the provider is going away; the adapters then end their streams. */
  shutdown(): void {
    for (const g of this.groups.values()) {
      g.fanout.publish(SHUTDOWN);
      g.unsubscribeStore();
    }
    this.groups.clear();
    this.stopTimer();
  }

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      for (const g of this.groups.values()) g.fanout.publish(KEEP_ALIVE);
    }, this.keepAliveMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function safeSend(sink: EventSink, event: HubEvent): void {
  try {
    sink(event);
  } catch {
    // A broken stream is cleaned up by its adapter when the transport reports it closed.
  }
}
