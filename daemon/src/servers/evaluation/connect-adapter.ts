/**
 * flagd.evaluation v1 and v2 over Connect (JSON and binary, HTTP/1.1) and gRPC-web, served by
 * connect-node: what browsers (the official flagd web provider) call.
 */
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import type { JsonObject } from '@vexil/core';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import type { Logger } from '../../telemetry/logger.js';
import { EvaluationError, type EvaluationService } from './evaluation-service.js';
import type { EventHub } from './event-hub.js';
import { METHOD_KINDS, eventResponse, resolveAllResponse, resolveResponse, type ApiVersion } from './messages.js';

function headerOf(ctx: HandlerContext): (name: string) => string | undefined {
  return (name) => ctx.requestHeader.get(name) ?? undefined;
}

function toConnectError(err: unknown): ConnectError {
  if (err instanceof EvaluationError) return new ConnectError(err.message, err.status as Code);
  return new ConnectError('internal error', Code.Internal);
}

/** An async queue fed by the event hub and drained by the server-streaming handler. */
function eventStream(hub: EventHub, svc: EvaluationService, serviceName: string, version: ApiVersion, ctx: HandlerContext): AsyncIterable<never> {
  return {
    [Symbol.asyncIterator]() {
      const closeStream = svc.streamOpened(serviceName);
      const queue: unknown[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      let expired = false;
      const deadline = svc.streamDeadlineMs
        ? setTimeout(() => {
            expired = true;
            stop();
          }, svc.streamDeadlineMs)
        : undefined;
      const unsubscribe = hub.subscribe(ctx.requestHeader.get(FLAGD_SELECTOR_HEADER) ?? undefined, (event) => {
        queue.push(event.encoded(`message-${version}`, (e) => eventResponse(version, e.type, e.data)));
        if (event.type === 'provider_shutdown') finished = true;
        wake?.();
      });
      const stop = () => {
        finished = true;
        clearTimeout(deadline);
        unsubscribe();
        closeStream();
        wake?.();
      };
      ctx.signal.addEventListener('abort', stop, { once: true });
      return {
        async next(): Promise<IteratorResult<never>> {
          for (;;) {
            if (queue.length > 0) return { value: queue.shift() as never, done: false };
            if (finished) {
              clearTimeout(deadline);
              unsubscribe();
              closeStream();
              if (expired) throw new ConnectError('stream closed due to server-side timeout', Code.DeadlineExceeded);
              return { value: undefined as never, done: true };
            }
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<never>> {
          stop();
          return { value: undefined as never, done: true };
        },
      };
    },
  };
}

export function evaluationRoutes(svc: EvaluationService, hub: EventHub, logger: Logger): (router: ConnectRouter) => void {
  return (router) => {
    for (const [version, desc] of [
      ['v1', evaluationV1.Service],
      ['v2', evaluationV2.Service],
    ] as const) {
      const serviceName = desc.typeName;
      const impl: Record<string, unknown> = {};
      for (const [method, kind] of Object.entries(METHOD_KINDS)) {
        const localName = method.charAt(0).toLowerCase() + method.slice(1);
        impl[localName] = (req: { flagKey: string; context?: JsonObject }, ctx: HandlerContext) => {
          try {
            return resolveResponse(version, kind, svc.resolve(serviceName, method, kind, req.flagKey, req.context, headerOf(ctx)));
          } catch (err) {
            if (!(err instanceof EvaluationError)) logger.error({ err, method }, 'evaluation failed');
            throw toConnectError(err);
          }
        };
      }
      impl['resolveAll'] = (req: { context?: JsonObject }, ctx: HandlerContext) => {
        try {
          return resolveAllResponse(version, svc.resolveAll(serviceName, req.context, headerOf(ctx)));
        } catch (err) {
          logger.error({ err }, 'ResolveAll failed');
          throw toConnectError(err);
        }
      };
      impl['eventStream'] = (_req: unknown, ctx: HandlerContext) => eventStream(hub, svc, serviceName, version, ctx);
      router.service(desc, impl as never);
    }
  };
}
