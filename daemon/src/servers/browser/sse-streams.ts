/**
 * Server-Sent Events streams of `GET /vexil/v1/stream`, grouped by selector: one store
 * subscription per selector, each event's text built once per change and written to every
 * stream of the group through a Fanout (slices, so 10,000 streams do not stall the server).
 *
 * - rules mode: `event: rules` with the whole flag set (id = its ETag) after every change; if a
 *   change leaves the flag set no longer exposed, the rules streams end (a reconnect gets 403);
 * - changes mode: `event: change` with the changed keys;
 * - `: keep-alive` comments every `keepAliveMs` on every stream (one timer for all);
 * - shutdown: `event: shutdown`, then the response ends.
 *
 * A stream never goes backwards: each remembers the store version it has seen and skips older
 * changes still queued in the fanout. A client that stops reading is not buffered for without
 * bound: once more than `maxBufferedBytes` wait in its response when an event is due, it is
 * dropped with a log line.
 */
import type { ServerResponse } from 'node:http';
import type { FlagStore, StoreChange } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { Fanout } from '../fanout.js';
import type { RuleSet, RuleSets } from './rule-sets.js';

export type StreamMode = 'rules' | 'changes';

/** The label of `vexil_event_streams_active` for these streams. */
export const SSE_SERVICE = 'sse';

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  // nginx buffers proxied responses unless told not to.
  'x-accel-buffering': 'no',
});

const READY_EVENT = 'event: ready\ndata: {}\n\n';
const SHUTDOWN_EVENT = 'event: shutdown\ndata: {}\n\n';
const KEEP_ALIVE_COMMENT = ': keep-alive\n\n';

export interface SseStreamsOptions {
  store: Pick<FlagStore, 'subscribe' | 'currentVersion'>;
  ruleSets: RuleSets;
  logger: Logger;
  metrics: Pick<Metrics, 'eventStreamOpened' | 'eventStreamClosed'>;
  keepAliveMs: number;
  maxBufferedBytes: number;
  /** How long shutdown waits for ended responses to flush before destroying them. */
  shutdownGraceMs: number;
}

/** One message for a group; `version` undefined is unordered (keep-alive). */
interface Message {
  readonly version: number | undefined;
  readonly text: string;
  /** End the stream after writing `text` (rules no longer exposed). */
  readonly end?: boolean;
}

interface Group {
  readonly selector: string;
  readonly rules: Fanout<Message>;
  readonly changes: Fanout<Message>;
  unsubscribeStore: () => void;
}

interface Stream {
  readonly res: ServerResponse;
  readonly selector: string;
  /** The store version this stream's state reflects; older changes are skipped. */
  version: number;
}

const KEEP_ALIVE: Message = Object.freeze({ version: undefined, text: KEEP_ALIVE_COMMENT });

export class SseStreams {
  private readonly groups = new Map<string, Group>();
  private readonly streams = new Set<Stream>();
  private timer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: SseStreamsOptions) {}

  /** Open streams. */
  get size(): number {
    return this.streams.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Starts an event stream on `res` (headers not yet sent). `initial` is the rules snapshot for
   * rules mode (already checked as exposed by the caller).
   */
  open(res: ServerResponse, selector: string, mode: StreamMode, headers: Readonly<Record<string, string>>, initial?: RuleSet): void {
    const { metrics } = this.options;
    // Gone already: its 'close' has fired and would never clean up after us.
    if (res.destroyed) return;
    const group = this.group(selector);
    const stream: Stream = { res, selector, version: this.options.store.currentVersion };
    const remove = (mode === 'rules' ? group.rules : group.changes).add((m) => this.deliver(stream, m));
    this.streams.add(stream);
    metrics.eventStreamOpened(SSE_SERVICE);
    this.ensureTimer();

    let closed = false;
    res.once('close', () => {
      if (closed) return;
      closed = true;
      remove();
      this.streams.delete(stream);
      metrics.eventStreamClosed(SSE_SERVICE);
      this.release(group);
    });
    res.on('error', () => {
      // A reset connection; 'close' follows and cleans up.
    });

    res.writeHead(200, { ...SSE_HEADERS, ...headers });
    this.write(stream, mode === 'rules' ? (initial as RuleSet).event : READY_EVENT);
  }

  /** Sends `event: shutdown` to every stream and ends it; resolves once all have closed (or the grace period ran out). */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.stopTimer();
    for (const g of this.groups.values()) g.unsubscribeStore();
    this.groups.clear();
    const open = [...this.streams];
    const closed = open.map((s) =>
      s.res.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.res.once('close', () => resolve())),
    );
    for (const s of open) {
      if (s.res.destroyed || s.res.writableEnded) continue;
      s.res.end(SHUTDOWN_EVENT);
    }
    if (open.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.options.shutdownGraceMs)));
    const outcome = await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    if (outcome === 'late') {
      // Clients that do not read their last bytes must not hold the server open.
      for (const s of this.streams) s.res.destroy();
      await Promise.all(closed);
    }
  }

  private group(selector: string): Group {
    const existing = this.groups.get(selector);
    if (existing !== undefined) return existing;
    const group: Group = { selector, rules: new Fanout<Message>(), changes: new Fanout<Message>(), unsubscribeStore: () => {} };
    group.unsubscribeStore = this.options.store.subscribe((change) => this.changed(group, change), selector);
    this.groups.set(selector, group);
    return group;
  }

  /** Builds each mode's event once for the whole group. */
  private changed(group: Group, change: StoreChange): void {
    if (group.rules.size > 0) {
      const set = this.options.ruleSets.get(group.selector);
      if (set.exposed) {
        group.rules.publish({ version: change.version, text: set.event });
      } else {
        this.options.logger.warn(
          { selector: group.selector, streams: group.rules.size },
          'flag set no longer exposed to browsers: ending its rules streams',
        );
        group.rules.publish({ version: change.version, text: '', end: true });
      }
    }
    if (group.changes.size > 0) {
      const keys = [...new Set(change.changes.map((c) => c.key))];
      group.changes.publish({ version: change.version, text: `event: change\ndata: ${JSON.stringify({ flags: keys })}\n\n` });
    }
  }

  private deliver(stream: Stream, m: Message): void {
    if (m.version !== undefined) {
      if (m.version <= stream.version) return;
      stream.version = m.version;
    }
    if (m.end === true) {
      stream.res.end();
      return;
    }
    this.write(stream, m.text);
  }

  private write(stream: Stream, text: string): void {
    const { res } = stream;
    if (res.destroyed || res.writableEnded) return;
    const buffered = res.writableLength;
    if (buffered > this.options.maxBufferedBytes) {
      this.options.logger.warn(
        { selector: stream.selector, bufferedBytes: buffered, limit: this.options.maxBufferedBytes, remote: res.socket?.remoteAddress },
        'dropping a slow event stream client: it is not reading its events',
      );
      res.destroy();
      return;
    }
    res.write(text);
  }

  /** Drops a group nobody listens to any more, and the timer when no stream is left. */
  private release(group: Group): void {
    if (group.rules.size === 0 && group.changes.size === 0 && this.groups.get(group.selector) === group) {
      group.unsubscribeStore();
      this.groups.delete(group.selector);
    }
    if (this.streams.size === 0) this.stopTimer();
  }

  private ensureTimer(): void {
    if (this.timer !== undefined || this.closing) return;
    this.timer = setInterval(() => {
      for (const g of this.groups.values()) {
        g.rules.publish(KEEP_ALIVE);
        g.changes.publish(KEEP_ALIVE);
      }
    }, this.options.keepAliveMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
