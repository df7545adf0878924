/**
 * A server-streaming call that stays open: when it breaks it is opened again after a backoff
 * with jitter, until stopped. What the provider needs to know comes out as callbacks:
 *
 * - `message(msg)` for every message;
 * - `connected()` on the first message after (re)connecting: the stream is proven healthy only
 *   when data arrives (an open call to a proxy can still be refused a moment later);
 * - `lost(error)` when a healthy or connecting stream fails; the next attempt is already scheduled;
 * - `fatal(error)` when the very first attempt ends with a status in `fatalCodes` (as the official
 *   provider: only before the first success); nothing is retried after it.
 *
 * A stream the client itself ended at `streamDeadlineMs` (DEADLINE_EXCEEDED, an application-level
 * keepalive) is reopened at once and reported to nobody; if reopening fails, that is a loss.
 */
import * as grpc from '@grpc/grpc-js';
import { Backoff } from './backoff.js';

export interface StreamCallbacks<T> {
  message(msg: T): void;
  connected(): void;
  lost(error: grpc.ServiceError): void;
  fatal(error: grpc.ServiceError): void;
}

export interface ResilientStreamOptions<T> {
  /** Opens a new call; `deadline` is absent when streams have none. */
  open(deadline: Date | undefined): grpc.ClientReadableStream<T>;
  backoff: Backoff;
  fatalCodes: ReadonlySet<number>;
  /** 0: no deadline. */
  streamDeadlineMs: number;
}

export class ResilientStream<T> {
  private call: grpc.ClientReadableStream<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private healthy = false;
  private everHealthy = false;

  constructor(
    private readonly options: ResilientStreamOptions<T>,
    private readonly callbacks: StreamCallbacks<T>,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Cancels the call and every timer: nothing is left to keep the process alive. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.removeAllListeners('data');
      // A cancelled call still reports CANCELLED; swallow it.
      call.on('error', () => {});
      call.cancel();
    }
  }

  private open(): void {
    if (this.stopped) return;
    const deadline = this.options.streamDeadlineMs > 0 ? new Date(Date.now() + this.options.streamDeadlineMs) : undefined;
    const call = this.options.open(deadline);
    this.call = call;
    let settled = false;
    call.on('data', (msg: T) => {
      if (this.call !== call) return;
      if (!this.healthy) {
        this.healthy = true;
        this.everHealthy = true;
        this.options.backoff.reset();
        this.callbacks.connected();
      }
      this.callbacks.message(msg);
    });
    const ended = (error: grpc.ServiceError) => {
      if (settled || this.call !== call || this.stopped) return;
      settled = true;
      this.call = undefined;
      const wasHealthy = this.healthy;
      this.healthy = false;
      if (!this.everHealthy && this.options.fatalCodes.has(error.code)) {
        this.stopped = true;
        this.callbacks.fatal(error);
        return;
      }
      if (wasHealthy && error.code === grpc.status.DEADLINE_EXCEEDED && this.options.streamDeadlineMs > 0) {
        // Our own stream deadline: reopen at once; a failure to reopen is reported then.
        this.open();
        return;
      }
      this.callbacks.lost(error);
      this.timer = setTimeout(() => this.open(), this.options.backoff.next());
    };
    call.on('error', (err: grpc.ServiceError) => ended(err));
    // A server that ends the stream cleanly (a daemon shutting down) is a loss too.
    call.on('end', () => ended(Object.assign(new Error('the stream ended'), { code: grpc.status.UNAVAILABLE, details: 'the stream ended', metadata: new grpc.Metadata() })));
  }
}
