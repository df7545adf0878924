/**
 * The testbed's `forbidden` provider target. Upstream points the provider at an envoy listener that
 * refuses every request with 403, which gRPC clients see as status PERMISSION_DENIED. We emulate it
 * with a plain @grpc/grpc-js server on an ephemeral loopback port that implements every method of
 * flagd's services (evaluation v1 and v2, sync v1), the event and sync streams included, and
 * answers each call with PERMISSION_DENIED and nothing else. The connection itself succeeds, as it
 * does through envoy, so a provider gets past `waitForReady` and meets the status on its first call.
 */
import { Server, ServerCredentials, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { DescService } from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2, syncV1 } from '@vexil/proto';
import { grpcServiceDefinition } from '@vexil/proto/grpc-js';

const SERVICES: DescService[] = [evaluationV1.Service, evaluationV2.Service, syncV1.FlagSyncService];
const DENIED = { code: status.PERMISSION_DENIED, details: 'forbidden (conformance harness emulating the testbed envoy 403)' };

export interface ForbiddenServer {
  port: number;
  close(): Promise<void>;
}

export async function startForbiddenServer(): Promise<ForbiddenServer> {
  const server = new Server();
  for (const service of SERVICES) {
    const implementation: UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const streams = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
      implementation[method.name] = streams
        ? (call: { emit(event: 'error', error: typeof DENIED): void }) => call.emit('error', DENIED)
        : (_call: unknown, callback: (error: typeof DENIED) => void) => callback(DENIED);
    }
    server.addService(grpcServiceDefinition(service), implementation);
  }
  const port = await new Promise<number>((resolvePort, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolvePort(bound))),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        // Every call was answered at once, so a graceful shutdown has nothing to wait for; the
        // forced one only covers a client that keeps its connection open.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolveClose();
        }, 1_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolveClose();
        });
      }),
  };
}
