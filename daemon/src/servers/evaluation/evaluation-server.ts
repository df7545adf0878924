/**
 * The evaluation port (flagd's 8013): gRPC for the official providers, Connect and gRPC-web for
 * browsers, on one TCP port as flagd serves them. A connection that opens with the HTTP/2 preface
 * (h2c, prior knowledge: what gRPC clients send) goes to grpc-js; anything else is HTTP/1.1 and
 * goes to connect-node, with CORS for the origins given by `-C`.
 */
import * as grpc from '@grpc/grpc-js';
import { Code, ConnectError, createContextKey, createContextValues, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import { createCors } from '../cors.js';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { FlagStore } from '../../store/flag-store.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ContextOptions } from '../context.js';
import { shutdownGracefully, STREAM_FRIENDLY_SERVER_OPTIONS } from '../../grpc/definitions.js';
import { evaluationRoutes } from './connect-adapter.js';
import { connectUnaryFastPath, type ConnectUnaryFastPath } from './connect-unary-h2.js';
import { EvaluationService, type EvaluationRecorder } from './evaluation-service.js';
import { EventHub } from './event-hub.js';
import { addEvaluationServices } from './grpc-adapter.js';
import { capConnections, DEFAULT_TIMEOUTS, grpcIdleOptions, httpTimeoutOptions, StreamLimiter, trackHandedOverConnections, type ServerLimits } from '../connection-limits.js';
import { listenNet, sniffHttp2 } from '../net-listen.js';

export interface EvaluationServerOptions extends ContextOptions {
  store: FlagStore;
  logger: Logger;
  metrics?: EvaluationRecorder;
  host: string;
  port: number;
  corsOrigins: readonly string[];
  /** `-d/--socket-path`: listen on this unix socket instead of host:port. */
  socketPath?: string;
  /** `-c/-k`: serve TLS; HTTP/2 and HTTP/1.1 are told apart by ALPN. */
  tls?: { cert: Buffer; key: Buffer };
  /** `--stream-deadline`: event streams end after this long with DEADLINE_EXCEEDED; 0 or absent: never. */
  streamDeadlineMs?: number;
  /** Largest request body, bytes (gRPC message or HTTP body). */
  maxRequestBytes?: number;
  /** EventStream caps (gRPC, Connect, gRPC-web), the port's connection cap and its timeouts. */
  limits?: ServerLimits;
}

export interface EvaluationServer {
  readonly hub: EventHub;
  start(): Promise<{ port: number }>;
  /** Tells event streams provider_shutdown, lets in-flight calls finish, then closes. */
  close(): Promise<void>;
}

/** The label of this port's streams in `vexil_streams_rejected_total` and its connections in `vexil_connections_rejected_total`. */
const SERVICE = 'evaluation';
const CORS_HEADERS =
  `content-type,connect-protocol-version,connect-timeout-ms,connect-accept-encoding,connect-content-encoding,grpc-timeout,x-grpc-web,x-user-agent,${FLAGD_SELECTOR_HEADER},authorization`;
const CORS_EXPOSE = 'grpc-status,grpc-message,grpc-status-details-bin,connect-content-encoding';

export function createEvaluationServer(options: EvaluationServerOptions): EvaluationServer {
  const { store, logger } = options;
  const maxBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  const svc = new EvaluationService({
    store,
    metrics: options.metrics,
    contextValues: options.contextValues,
    contextFromHeaders: options.contextFromHeaders,
    scheme: options.tls ? 'https' : 'http',
    streamDeadlineMs: options.streamDeadlineMs,
  });
  // Connect and gRPC-web calls are measured per procedure path; other paths are not, so a client
  // cannot grow the metrics' label set.
  const procedures = new Set<string>();
  for (const desc of [evaluationV1.Service, evaluationV2.Service]) for (const m of desc.methods) procedures.add(`/${desc.typeName}/${m.name}`);
  const hub = new EventHub(store);
  const limits = options.limits;
  const timeouts = limits?.timeouts ?? DEFAULT_TIMEOUTS;
  const eventStreams = new Set([evaluationV1.Service, evaluationV2.Service].map((d) => `/${d.typeName}/EventStream`));

  const grpcServer = new grpc.Server({
    ...STREAM_FRIENDLY_SERVER_OPTIONS,
    'grpc.max_receive_message_length': maxBytes,
    ...grpcIdleOptions(timeouts),
  });
  addEvaluationServices(grpcServer, svc, hub, logger);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  // A Connect or gRPC-web EventStream past a stream cap is counted where the request arrives (its
  // socket's address, its response's 'close'); the interceptor turns the refusal into each
  // protocol's RESOURCE_EXHAUSTED, which Connect answers as HTTP 429.
  const refused = new WeakSet<object>();
  const REFUSED = createContextKey(false, { description: 'refused by a stream cap' });
  const refuseCapped: Interceptor = (next) => async (req) => {
    if (req.contextValues.get(REFUSED)) throw new ConnectError(StreamLimiter.refusal(SERVICE), Code.ResourceExhausted);
    return next(req);
  };
  const connectHandler = connectNodeAdapter({
    routes: evaluationRoutes(svc, hub, logger),
    readMaxBytes: maxBytes,
    contextValues: (req) => createContextValues().set(REFUSED, refused.has(req)),
    interceptors: [refuseCapped],
  });
  // As flagd's rs/cors setup: no -C origins (or `*`) allows any origin; `*` inside one is a wildcard.
  const cors = createCors(options.corsOrigins);
  // Connect, gRPC-web and CORS, for HTTP/1.1 requests and for non-gRPC streams of HTTP/2 connections.
  // The same CORS response headers for the Connect unary calls answered on the raw HTTP/2 stream.
  const corsHeaders = (origin: string | undefined): Record<string, string> | undefined => {
    const allowed = cors.allowedOrigin(origin);
    if (allowed === undefined) return undefined;
    const h: Record<string, string> = { 'access-control-allow-origin': allowed };
    if (allowed !== '*') h['vary'] = 'Origin';
    h['access-control-expose-headers'] = CORS_EXPOSE;
    return h;
  };
  const handleHttp = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    const origin = req.headers.origin;
    const allowed = cors.allowedOrigin(origin);
    if (allowed !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', allowed);
      if (allowed !== '*') res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE);
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? CORS_HEADERS);
        res.setHeader('Access-Control-Max-Age', '7200');
        res.writeHead(204).end();
        return;
      }
    }
    const path = req.url === undefined ? '' : req.url.split('?', 1)[0];
    if (procedures.has(path)) {
      // A stream ends with 'close' when the client goes away first, without 'finish'.
      const done = svc.startCall(path);
      const end = () => done(res.statusCode);
      res.once('finish', end);
      res.once('close', end);
    }
    if (limits?.streams !== undefined && eventStreams.has(path)) {
      const release = limits.streams.tryOpen(SERVICE, req.socket.remoteAddress);
      if (release === undefined) refused.add(req);
      else res.once('close', release);
    }
    connectHandler(req, res);
  };
  const http1 = createHttpServer(httpTimeoutOptions(timeouts), handleHttp);
  http1.keepAliveTimeout = 65_000;
  trackHandedOverConnections(http1);
  // gRPC EventStreams are counted as their HTTP/2 stream arrives, before grpc-js sees it: a grpc-js
  // interceptor would wrap every unary call too, on the hot path.
  const streamLimiter = limits?.streams;
  const admitGrpc =
    streamLimiter === undefined
      ? undefined
      : (stream: ServerHttp2Stream, path: string): boolean => {
          if (!eventStreams.has(path)) return true;
          const release = streamLimiter.tryOpen(SERVICE, stream.session?.socket?.remoteAddress);
          if (release === undefined) {
            // A trailers-only response: what grpc-js itself sends for a call refused before its handler.
            stream.respond(
              { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': String(grpc.status.RESOURCE_EXHAUSTED), 'grpc-message': encodeURIComponent(StreamLimiter.refusal(SERVICE)) },
              { endStream: true },
            );
            return false;
          }
          stream.once('close', release);
          return true;
        };
  shareHttp2Connections(grpcServer, handleHttp, logger, admitGrpc, connectUnaryFastPath(svc, logger, maxBytes, corsHeaders));

  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const toHttp1 = (socket: Socket) => {
    http1.emit('connection', socket);
    socket.resume();
  };
  const net = options.tls
    ? createTlsServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ALPNProtocols: ['h2', 'http/1.1'],
          // A client that never finishes its handshake is one that never sends a request head.
          ...(timeouts.headersTimeoutMs > 0 ? { handshakeTimeout: timeouts.headersTimeoutMs } : {}),
        },
        (socket: TLSSocket) => {
        track(socket);
          if (socket.alpnProtocol === 'h2') injector.injectConnection(socket);
          else toHttp1(socket);
        },
      )
    : createNetServer((socket) => {
        track(socket);
        const onTimeout = () => limits?.recorder?.connectionRejected(SERVICE, 'no_request');
        sniffHttp2(socket, { timeoutMs: timeouts.headersTimeoutMs, onTimeout }, (http2) => {
          // The HTTP/2 session reads what is buffered on the next tick; resuming first would lose it.
          if (http2) injector.injectConnection(socket);
          else toHttp1(socket);
        });
      });
  capConnections(net, SERVICE, limits, logger);

  return {
    hub,
    start: () =>
      listenNet(net, options).then((port) => ({ port })),
    close: async () => {
      hub.shutdown();
      const closed = new Promise<void>((resolve) => net.close(() => resolve()));
      http1.closeIdleConnections();
      // In-flight calls get a grace period; clients that keep connections open do not hold us up.
      await shutdownGracefully(grpcServer);
      http1.closeAllConnections();
      // Never listening, but close() also stops the timeout checks trackHandedOverConnections started.
      http1.close(() => {});
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/**
 * HTTP/2 connections go to grpc-js, which answers anything but `application/grpc` with 415. flagd
 * (connect-go) serves Connect and gRPC-web on those connections too, and browsers talking to a TLS
 * daemon negotiate h2, so the streams grpc-js would refuse are handed to the Connect handler
 * instead: the 'stream' listeners grpc-js put on its injector's HTTP/2 server are wrapped by a
 * dispatcher on the content type. The server object is grpc-js's private `http2Servers` map; if a
 * grpc-js release moves it, Connect over HTTP/2 is off (with a warning) and gRPC is unaffected. A
 * test drives Connect over h2c and over TLS h2 so such a release is noticed.
 */
function shareHttp2Connections(
  grpcServer: grpc.Server,
  handleHttp: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  logger: Logger,
  admitGrpc?: (stream: ServerHttp2Stream, path: string) => boolean,
  connectUnary?: ConnectUnaryFastPath,
): void {
  const servers = (grpcServer as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  const h2 = servers instanceof Map ? [...servers.keys()].at(-1) : undefined;
  const grpcListeners = h2?.listeners('stream') ?? [];
  if (h2 === undefined || grpcListeners.length === 0) {
    logger.warn('this grpc-js version hides its HTTP/2 server: Connect and gRPC-web over HTTP/2 are not served (HTTP/1.1 is), and gRPC EventStreams are not capped');
    return;
  }
  const onStreamOpened = (grpcServer as unknown as { onStreamOpened?: (s: ServerHttp2Stream) => void }).onStreamOpened;
  h2.removeAllListeners('stream');
  h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    const type = headers['content-type'] ?? '';
    if (type.startsWith('application/grpc') && !type.startsWith('application/grpc-web')) {
      if (admitGrpc !== undefined && !admitGrpc(stream, headers[':path'] ?? '')) return;
      for (const listener of grpcListeners) listener.call(h2, stream, headers, flags, rawHeaders);
      return;
    }
    if (connectUnary?.(stream, headers)) {
      onStreamOpened?.call(grpcServer, stream);
      return;
    }
    // Node's own compatibility objects, as its HTTP/2 server builds them for a 'request' listener.
    const Req = Http2ServerRequest as unknown as new (s: ServerHttp2Stream, h: IncomingHttpHeaders, o: undefined, r: string[]) => Http2ServerRequest;
    const Res = Http2ServerResponse as unknown as new (s: ServerHttp2Stream) => Http2ServerResponse;
    // grpc-js counts its own streams to close idle sessions (grpc.max_connection_idle_ms); a
    // Connect stream must count too, or a long Connect EventStream over h2 would get a GOAWAY.
    onStreamOpened?.call(grpcServer, stream);
    handleHttp(new Req(stream, headers, undefined, rawHeaders), new Res(stream));
  });
}
