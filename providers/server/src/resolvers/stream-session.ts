/**
 * The part in-process and rpc modes share: a resilient stream whose first "current" message
 * completes `connect()`, whose losses and recoveries become resolver events, and whose first
 * attempt may fail fast (GeneralError) or for good (ProviderFatalError, a fatal status code).
 */
import * as grpc from '@grpc/grpc-js';
import { GeneralError, ProviderFatalError } from '@openfeature/server-sdk';
import { Backoff } from '../grpc/backoff.js';
import { ResilientStream } from '../grpc/resilient-stream.js';
import type { ResolverEvents } from './resolver.js';

/** What a message means: `current` when it proves the flags up to date; the flags it changed. */
export interface MessageOutcome {
  current: boolean;
  changed: readonly string[];
}

export interface SessionOptions<T> {
  /** For messages: "sync stream to 127.0.0.1:8015". */
  label: string;
  open(deadline: Date | undefined): grpc.ClientReadableStream<T>;
  settings: { deadlineMs: number; streamDeadlineMs: number; retryBackoffMs: number; retryBackoffMaxMs: number; fatalStatusCodes: ReadonlySet<number> };
  /** Undefined: the message changes nothing (a keep-alive, a refused document). */
  handle(msg: T): MessageOutcome | undefined;
  /** Called when the stream is current again after an outage, before `reconnected` is announced. */
  recovered?(): void;
}

export interface Session {
  /** Resolves on the first current message; rejects on a failed first attempt or after `deadlineMs`. */
  ready: Promise<void>;
  /**
   * Stops the stream and, if `ready` is still pending, rejects it now: its `deadlineMs` timer would
   * otherwise keep a closed provider's process alive until it fired.
   */
  stop(): void;
}

/** Starts the stream; resolves on the first current message. */
export function startSession<T>(options: SessionOptions<T>, events: ResolverEvents): Session {
  const s = options.settings;
  // Whether the stream broke (or never worked) since the flags were last known to be current.
  let down = false;
  let settled = false;
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const settle = (err?: Error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (err) {
      down = true;
      rejectReady(err);
    } else resolveReady();
  };
  const timer = setTimeout(() => settle(new GeneralError(`nothing on the ${options.label} within ${s.deadlineMs} ms`)), s.deadlineMs);

  const stream = new ResilientStream<T>(
    {
      open: options.open,
      backoff: new Backoff(s.retryBackoffMs, s.retryBackoffMaxMs),
      fatalCodes: s.fatalStatusCodes,
      streamDeadlineMs: s.streamDeadlineMs,
    },
    {
      connected: () => {},
      message: (msg) => {
        const r = options.handle(msg);
        if (r === undefined) return;
        if (r.current) {
          if (!settled) return settle();
          if (down) {
            // Back after an outage (or after a failed start): READY, with what changed meanwhile.
            down = false;
            options.recovered?.();
            return events.reconnected([...r.changed]);
          }
        }
        if (settled && !down && r.changed.length > 0) events.changed([...r.changed]);
      },
      lost: (error) => {
        const message = `lost the ${options.label}: ${error.details || error.message}`;
        if (!settled) return settle(new GeneralError(message));
        down = true;
        events.lost(message);
      },
      fatal: (error) => {
        const message = `the ${options.label} was refused with ${grpc.status[error.code]}: ${error.details || error.message}`;
        settle(new ProviderFatalError(message));
        events.fatal(message);
      },
    },
  );
  stream.start();
  return {
    ready,
    stop: () => {
      stream.stop();
      settle(new GeneralError(`closed before the ${options.label} delivered anything`));
    },
  };
}
