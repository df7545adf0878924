/**
 * flagd.sync.v1.FlagSyncService (flagd's 8015): the whole flag set for a selector as JSON, on
 * subscribe and after every change to it (SyncFlags), once (FetchAllFlags), plus the deprecated
 * GetMetadata. In-process providers and downstream daemons consume this.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { JsonObject } from '@vexil/core';
import { syncV1 } from '@vexil/proto';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { FlagStore } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import { Fanout } from '../fanout.js';
import { grpcServiceDefinition, malformedRequest, shutdownGracefully, STREAM_FRIENDLY_SERVER_OPTIONS } from '../../grpc/definitions.js';
import { capConnections, DEFAULT_TIMEOUTS, grpcIdleOptions, limitGrpcStreams, type ServerLimits } from '../connection-limits.js';
import { listenNet, sniffHttp2 } from '../net-listen.js';

/** The label of this port in `vexil_streams_rejected_total` and `vexil_connections_rejected_total`. */
const SERVICE = 'sync';

type CloseReason = 'normal_close' | 'client_disconnect' | 'deadline_exceeded' | 'error';

/** What the sync server reports about its streams (telemetry/metrics.ts implements it). */
export interface SyncRecorder {
  syncStreamOpened(attrs: { selector: string; providerId: string }): void;
  syncStreamClosed(
    attrs: { selector: string; providerId: string },
    end: { durationSeconds: number; reason: CloseReason },
  ): void;
}

export interface SyncServerOptions {
  store: FlagStore;
  logger: Logger;
  metrics?: SyncRecorder;
  host: string;
  port: number;
  /** `-X` values, sent as `sync_context` so in-process providers enrich contexts as flagd does. */
  contextValues: Readonly<Record<string, string>>;
  /** `-c/-k`: serve TLS. */
  tls?: { cert: Buffer; key: Buffer };
  /** `-e/--sync-socket-path`: listen on this unix socket instead of host:port. */
  socketPath?: string;
  /** `--stream-deadline`: end each SyncFlags stream after this long with DEADLINE_EXCEEDED, as flagd does; 0 or absent: never. */
  streamDeadlineMs?: number;
  /** `--disable-sync-metadata`: GetMetadata answers UNIMPLEMENTED, as flagd's does. */
  disableSyncMetadata?: boolean;
  /** SyncFlags stream caps, the port's connection cap and its timeouts. */
  limits?: ServerLimits;
}

export interface SyncServer {
  start(): Promise<{ port: number }>;
  close(): Promise<void>;
  readonly activeStreams: number;
}

/** The selector of a sync request: the `flagd-selector` header wins over the deprecated field. */
function selectorOf(md: grpc.Metadata, field: string | undefined): string | undefined {
  const h = md.get(FLAGD_SELECTOR_HEADER)[0];
  if (h !== undefined && String(h).trim() !== '') return String(h);
  return field && field.trim() !== '' ? field : undefined;
}

export function createSyncServer(options: SyncServerOptions): SyncServer {
  const { store, logger } = options;
  const syncContext: JsonObject = { ...options.contextValues };
  const limits = options.limits;
  const timeouts = limits?.timeouts ?? DEFAULT_TIMEOUTS;
  const server = new grpc.Server({
    ...STREAM_FRIENDLY_SERVER_OPTIONS,
    ...grpcIdleOptions(timeouts),
    // Not a hot path (one SyncFlags per provider), so grpc-js's interceptor API is cheap enough here.
    ...(limits?.streams ? { interceptors: [limitGrpcStreams(limits.streams, SERVICE, new Set([`/${syncV1.FlagSyncService.typeName}/SyncFlags`]))] } : {}),
  });
  const streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  // One store subscription per selector; each change is encoded once and fanned out as bytes.
  interface Group {
    fanout: Fanout<Uint8Array>;
    unsubscribe: () => void;
    encoded?: { version: number; bytes: Uint8Array };
  }
  const groups = new Map<string, Group>();
  const encode = (selector: string | undefined, g: Group): Uint8Array => {
    const version = store.currentVersion;
    if (g.encoded?.version !== version) {
      const msg = create(syncV1.SyncFlagsResponseSchema, { flagConfiguration: store.flagSetJson(selector), syncContext });
      g.encoded = { version, bytes: toBinary(syncV1.SyncFlagsResponseSchema, msg) };
    }
    return g.encoded.bytes;
  };
  const groupFor = (selector: string | undefined): Group => {
    const key = selector ?? '';
    let g = groups.get(key);
    if (g === undefined) {
      const created: Group = { fanout: new Fanout<Uint8Array>(), unsubscribe: () => {} };
      created.unsubscribe = store.subscribe(() => created.fanout.publish(encode(selector, created)), selector);
      groups.set(key, created);
      g = created;
    }
    return g;
  };

  server.addService(grpcServiceDefinition(syncV1.FlagSyncService), {
    SyncFlags: (call: grpc.ServerWritableStream<syncV1.SyncFlagsRequest, unknown>) => {
      const bad = malformedRequest(call.request);
      // grpc-js ends a server stream with the status of an emitted error.
      if (bad) return void call.emit('error', bad);
      const selector = selectorOf(call.metadata, call.request.selector);
      const attrs = { selector: selector ?? '', providerId: call.request.providerId };
      const opened = performance.now();
      streams.add(call);
      options.metrics?.syncStreamOpened(attrs);
      const group = groupFor(selector);
      let closed = false;
      const remove = group.fanout.add((bytes) => {
        if (!closed && !call.cancelled && !call.destroyed) call.write(bytes);
      });
      // flagd's server-side deadline: the stream ends with DEADLINE_EXCEEDED and the client reconnects.
      const deadline = options.streamDeadlineMs
        ? setTimeout(() => {
            end('deadline_exceeded');
            call.emit('error', { code: grpc.status.DEADLINE_EXCEEDED, details: 'stream closed due to server-side timeout', metadata: new grpc.Metadata() });
          }, options.streamDeadlineMs)
        : undefined;
      const end = (reason: CloseReason) => {
        if (closed) return;
        closed = true;
        clearTimeout(deadline);
        remove();
        if (group.fanout.size === 0) {
          group.unsubscribe();
          groups.delete(selector ?? '');
        }
        streams.delete(call);
        options.metrics?.syncStreamClosed(attrs, { durationSeconds: (performance.now() - opened) / 1000, reason });
      };
      call.on('cancelled', () => end('client_disconnect'));
      call.on('error', () => end('error'));
      call.on('finish', () => end('normal_close'));
      call.on('close', () => end('client_disconnect'));
      logger.debug({ selector }, 'sync stream opened');
      call.write(encode(selector, group));
    },
    FetchAllFlags: (call: grpc.ServerUnaryCall<syncV1.FetchAllFlagsRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const bad = malformedRequest(call.request);
      if (bad) return callback(bad);
      const selector = selectorOf(call.metadata, call.request.selector);
      callback(null, create(syncV1.FetchAllFlagsResponseSchema, { flagConfiguration: store.flagSetJson(selector) }));
    },
    GetMetadata: (call: grpc.ServerUnaryCall<syncV1.GetMetadataRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void call;
      if (options.disableSyncMetadata) return callback({ code: grpc.status.UNIMPLEMENTED, details: 'metadata endpoint disabled' });
      callback(null, create(syncV1.GetMetadataResponseSchema, { metadata: syncContext }));
    },
  });

  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (options.tls) return void injector.injectConnection(socket);
    // A connection that has not sent the HTTP/2 preface within the headers timeout is closed;
    // anything else still goes to grpc-js, which answers it with a GOAWAY as before.
    const onTimeout = () => limits?.recorder?.connectionRejected(SERVICE, 'no_request');
    sniffHttp2(socket, { timeoutMs: timeouts.headersTimeoutMs, onTimeout }, () => injector.injectConnection(socket));
  };
  const tlsOptions = { ...(timeouts.headersTimeoutMs > 0 ? { handshakeTimeout: timeouts.headersTimeoutMs } : {}), ALPNProtocols: ['h2'] };
  const net = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, ...tlsOptions }, onSocket) : createNetServer(onSocket);
  capConnections(net, SERVICE, limits, logger);

  return {
    get activeStreams() {
      return streams.size;
    },
    start: () =>
      listenNet(net, options).then((port) => ({ port })),
    close: async () => {
      for (const s of streams) s.end();
      // Stop accepting now; the callback only fires once every connection is gone.
      const closed = new Promise<void>((resolve) => net.close(() => resolve()));
      await shutdownGracefully(server);
      // Clients keep HTTP/2 connections open after their streams end; they do not hold us up.
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
