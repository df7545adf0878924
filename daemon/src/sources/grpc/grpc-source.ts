/**
 * `grpc://host:port` (and `grpcs://`): subscribe to another daemon's flagd.sync.v1 SyncFlags, so
 * daemons chain into a fan-out tier. Every message carries the whole flag set; a broken stream is
 * reported and re-opened with exponential backoff and full jitter, and never clears flags.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { syncV1 } from '@vexil/proto';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import { grpcServiceDefinition } from '../../grpc/definitions.js';
import { SourceFailureReason, type Source, type SourceConfig, type SourceListener } from '../source.js';

export interface GrpcSourceDeps {
  readonly logger?: Logger;
}

const SyncClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(syncV1.FlagSyncService), 'FlagSyncService');

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/** Parses `grpc://host:port` / `grpcs://host:port` into a grpc-js target and whether TLS is on. */
export function grpcTarget(uri: string): { target: string; tls: boolean } {
  const m = /^(grpcs?):\/\/([^/]+)\/?$/.exec(uri);
  if (!m) throw new Error(`source ${uri}: expected grpc://host:port or grpcs://host:port`);
  return { target: m[2], tls: m[1] === 'grpcs' };
}

export class GrpcSource implements Source {
  readonly uri: string;
  private client: grpc.Client | undefined;
  private call: grpc.ClientReadableStream<syncV1.SyncFlagsResponse> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(
    private readonly config: SourceConfig,
    private readonly deps: GrpcSourceDeps = {},
  ) {
    this.uri = config.uri;
  }

  start(listener: SourceListener): Promise<void> {
    const { target, tls } = grpcTarget(this.uri);
    const useTls = tls || this.config.tls === true;
    const creds = useTls
      ? grpc.credentials.createSsl(this.config.certPath ? readFileSync(this.config.certPath) : undefined)
      : grpc.credentials.createInsecure();
    this.client = new SyncClient(target, creds, { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_permit_without_calls': 1 });
    return new Promise((resolveFirst) => {
      let first = true;
      const settle = () => {
        if (first) {
          first = false;
          resolveFirst();
        }
      };
      const open = () => {
        if (this.stopped || !this.client) return settle();
        const md = new grpc.Metadata();
        if (this.config.selector) md.set(FLAGD_SELECTOR_HEADER, this.config.selector);
        const call = (this.client as unknown as {
          SyncFlags(req: unknown, md: grpc.Metadata): grpc.ClientReadableStream<syncV1.SyncFlagsResponse>;
        }).SyncFlags({ providerId: 'vexil', selector: this.config.selector ?? '' }, md);
        this.call = call;
        let failed = false;
        const fail = (reason: SourceFailureReason, message: string, cause?: unknown) => {
          if (failed || this.stopped) return;
          failed = true;
          listener.error({ source: this.uri, reason, message, cause });
          settle();
          const delay = Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt++);
          this.deps.logger?.debug({ source: this.uri, delayMs: Math.round(delay) }, 'reconnecting to upstream');
          this.timer = setTimeout(open, delay);
        };
        call.on('data', (msg: syncV1.SyncFlagsResponse) => {
          this.attempt = 0;
          listener.data({ source: this.uri, data: msg.flagConfiguration });
          settle();
        });
        call.on('error', (err: grpc.ServiceError) => {
          if (this.stopped && err.code === grpc.status.CANCELLED) return;
          const reason = err.code === grpc.status.UNAVAILABLE ? SourceFailureReason.NETWORK : SourceFailureReason.STREAM_ERROR;
          fail(reason, `sync stream from ${this.uri} failed: ${err.details || err.message}`, err);
        });
        call.on('end', () => fail(SourceFailureReason.STREAM_ERROR, `sync stream from ${this.uri} ended`));
      };
      open();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.call?.cancel();
    this.client?.close();
    this.call = undefined;
    this.client = undefined;
  }
}
