/**
 * flagd.evaluation v1 and v2 over gRPC (HTTP/2), served by grpc-js: what the official flagd
 * provider's rpc mode calls.
 */
import * as grpc from '@grpc/grpc-js';
import type { JsonObject } from '@vexil/core';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import type { Logger } from '../../telemetry/logger.js';
import { grpcServiceDefinition, malformedRequest } from '../../grpc/definitions.js';
import { EvaluationError, type EvaluationService } from './evaluation-service.js';
import type { EventHub } from './event-hub.js';
import { METHOD_KINDS, encodeEvent, resolveAllResponse, resolveResponseBytes, type ApiVersion } from './messages.js';

function headerOf(md: grpc.Metadata): (name: string) => string | undefined {
  return (name) => {
    const v = md.get(name)[0];
    return v === undefined ? undefined : String(v);
  };
}

function toServiceError(err: unknown): grpc.ServiceError {
  if (err instanceof EvaluationError) return Object.assign(new Error(err.message), { code: err.status, details: err.message, metadata: new grpc.Metadata() });
  return Object.assign(new Error('internal error'), { code: grpc.status.INTERNAL, details: 'internal error', metadata: new grpc.Metadata() });
}

export function addEvaluationServices(server: grpc.Server, svc: EvaluationService, hub: EventHub, logger: Logger): void {
  for (const [version, desc] of [
    ['v1', evaluationV1.Service],
    ['v2', evaluationV2.Service],
  ] as const) {
    const serviceName = desc.typeName;
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, kind] of Object.entries(METHOD_KINDS)) {
      const path = `/${serviceName}/${method}`;
      impl[method] = (call: grpc.ServerUnaryCall<{ flagKey: string; context?: JsonObject }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        // gRPC answers HTTP 200 whatever its status, as flagd's metrics record it.
        const done = svc.startCall(path);
        const bad = malformedRequest(call.request);
        if (bad) return callback(bad), done(200);
        try {
          const r = svc.resolve(serviceName, method, kind, call.request.flagKey, call.request.context, headerOf(call.metadata));
          // Bytes: grpc-js's responseSerialize (grpcServiceDefinition) passes them through as they are.
          callback(null, resolveResponseBytes(version as ApiVersion, kind, r));
        } catch (err) {
          if (!(err instanceof EvaluationError)) logger.error({ err, method }, 'evaluation failed');
          callback(toServiceError(err));
        }
        done(200);
      };
    }
    const resolveAllPath = `/${serviceName}/ResolveAll`;
    impl['ResolveAll'] = (call: grpc.ServerUnaryCall<{ context?: JsonObject }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const done = svc.startCall(resolveAllPath);
      const bad = malformedRequest(call.request);
      if (bad) return callback(bad), done(200);
      try {
        callback(null, resolveAllResponse(version as ApiVersion, svc.resolveAll(serviceName, call.request.context, headerOf(call.metadata))));
      } catch (err) {
        logger.error({ err }, 'ResolveAll failed');
        callback(toServiceError(err));
      }
      done(200);
    };
    const eventStreamPath = `/${serviceName}/EventStream`;
    impl['EventStream'] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
      const done = svc.startCall(eventStreamPath);
      const bad = malformedRequest(call.request);
      // grpc-js ends a server stream with the status of an emitted error.
      if (bad) return void (call.emit('error', bad), done(200));
      const closeStream = svc.streamOpened(serviceName);
      let unsubscribe: () => void = () => {};
      const deadline = svc.streamDeadlineMs
        ? setTimeout(() => {
            end();
            call.emit('error', { code: grpc.status.DEADLINE_EXCEEDED, details: 'stream closed due to server-side timeout', metadata: new grpc.Metadata() });
          }, svc.streamDeadlineMs)
        : undefined;
      const end = () => {
        clearTimeout(deadline);
        unsubscribe();
        closeStream();
        done(200);
      };
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
      const format = `grpc-${version}`;
      unsubscribe = hub.subscribe(headerOf(call.metadata)(FLAGD_SELECTOR_HEADER), (event) => {
        if (call.cancelled || call.destroyed) return;
        call.write(event.encoded(format, (e) => encodeEvent(version as ApiVersion, e.type, e.data)));
        if (event.type === 'provider_shutdown') call.end();
      });
    };
    server.addService(grpcServiceDefinition(desc), impl);
  }
}
