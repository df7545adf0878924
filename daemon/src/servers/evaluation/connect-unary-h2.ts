/**
 * Connect unary Resolve* calls in the binary codec over HTTP/2, answered on the raw HTTP/2 stream.
 * connect-node serves them through Node's compatibility request/response objects, WHATWG headers,
 * an AbortController (whose abort builds a DOMException) and async iterables per call: under load
 * that is about eight times what a bare HTTP/2 server spends on the same call (bench:shapes). This
 * path does what connect-node does for such a call and nothing else: read the body, decode the
 * request, resolve, answer the encoded response or the Connect error JSON, with the same status,
 * headers and bytes (connect's own error encoder and code → HTTP status table).
 *
 * Anything outside the common case goes to connect-node as before: another method or codec
 * (JSON, gRPC-web), a compressed body, a `connect-timeout-ms` or unknown protocol version to
 * validate, a body without a declared length or longer than the read limit, a query string.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { fromBinary, type DescMessage } from '@bufbuild/protobuf';
import type { JsonObject } from '@vexil/core';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Logger } from '../../telemetry/logger.js';
import { EvaluationError, type EvaluationService, type ResolveKind } from './evaluation-service.js';
import { METHOD_KINDS, resolveResponseBytes, type ApiVersion } from './messages.js';

interface Procedure {
  version: ApiVersion;
  service: string;
  method: string;
  kind: ResolveKind;
  input: DescMessage;
}

/** Handles the stream and returns true, or returns false and leaves it untouched for connect-node. */
export type ConnectUnaryFastPath = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

export function connectUnaryFastPath(
  svc: EvaluationService,
  logger: Logger,
  maxBytes: number,
  corsHeaders: (origin: string | undefined) => Record<string, string> | undefined,
): ConnectUnaryFastPath {
  const procedures = new Map<string, Procedure>();
  for (const [version, desc] of [
    ['v1', evaluationV1.Service],
    ['v2', evaluationV2.Service],
  ] as const) {
    for (const m of desc.methods) {
      const kind = METHOD_KINDS[m.name];
      if (kind !== undefined) procedures.set(`/${desc.typeName}/${m.name}`, { version, service: desc.typeName, method: m.name, kind, input: m.input as DescMessage });
    }
  }

  const answer = (stream: ServerHttp2Stream, status: number, type: string, body: Uint8Array, cors: Record<string, string> | undefined) => {
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': status, ...cors, 'content-length': body.length, 'content-type': type });
    stream.end(body);
  };
  const fail = (stream: ServerHttp2Stream, err: ConnectError, cors: Record<string, string> | undefined): number => {
    const status = codeToHttpStatus(err.code);
    answer(stream, status, 'application/json', errorToJsonBytes(err, {}), cors);
    return status;
  };

  return (stream, headers) => {
    if (headers[':method'] !== 'POST' || headers['content-type'] !== 'application/proto') return false;
    const path = headers[':path'] ?? '';
    const p = procedures.get(path);
    if (p === undefined) return false;
    if (headers['content-encoding'] !== undefined || headers['connect-timeout-ms'] !== undefined) return false;
    const version = headers['connect-protocol-version'];
    if (version !== undefined && version !== '1') return false;
    const declared = headers['content-length'] === undefined ? NaN : Number(headers['content-length']);
    if (!Number.isInteger(declared) || declared < 0 || declared > maxBytes) return false;

    // Recorded when the stream closes, answered or not, as the compatibility path records on 'finish' or 'close'.
    const done = svc.startCall(path);
    let status = 200;
    stream.once('close', () => done(status));
    const cors = corsHeaders(headers.origin);
    const chunks: Buffer[] = [];
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // More DATA than the declared content-length is a malformed HTTP/2 request (RFC 9113 §8.1.1).
      if (received > declared) stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
      else chunks.push(chunk);
    });
    stream.once('end', () => {
      if (received > declared) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      let req: { flagKey: string; context?: JsonObject };
      try {
        req = fromBinary(p.input, body) as never;
      } catch (e) {
        // connect-node's binary serialization says the same, with the same code.
        status = fail(stream, new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal), cors);
        return;
      }
      try {
        const r = svc.resolve(p.service, p.method, p.kind, req.flagKey, req.context, (name) => headers[name] as string | undefined);
        answer(stream, 200, 'application/proto', resolveResponseBytes(p.version, p.kind, r), cors);
      } catch (err) {
        if (!(err instanceof EvaluationError)) logger.error({ err, method: p.method }, 'evaluation failed');
        status = fail(stream, err instanceof EvaluationError ? new ConnectError(err.message, err.status as Code) : new ConnectError('internal error', Code.Internal), cors);
      }
    });
    stream.on('error', () => {});
    return true;
  };
}
