/**
 * Small stand-ins for a daemon, for what a real one never does: send a flag set it would itself
 * refuse, refuse every call with a status, or never answer. Plain @grpc/grpc-js servers on
 * 127.0.0.1 port 0 serving flagd's generated service definitions, so the provider meets exactly
 * the wire protocol it meets in production.
 */
import * as grpc from '@grpc/grpc-js';
import { evaluationV2, syncV1 } from '@vexil/proto';
import { grpcServiceDefinition } from '@vexil/proto/grpc-js';

export interface FakeServer {
  port: number;
  /** Calls received, by method name. */
  calls: Record<string, number>;
  close(): Promise<void>;
}

type Handlers = Record<string, (call: never, callback?: never) => void>;

async function serve(services: { definition: grpc.ServiceDefinition; handlers: Handlers }[]): Promise<FakeServer & { server: grpc.Server }> {
  const server = new grpc.Server();
  const calls: Record<string, number> = {};
  for (const { definition, handlers } of services) {
    const counted: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(handlers)) {
      counted[name] = ((call: never, callback: never) => {
        calls[name] = (calls[name] ?? 0) + 1;
        handler(call, callback);
      }) as grpc.UntypedHandleCall;
    }
    server.addService(definition, counted);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    server,
    port,
    calls,
    // Streams the fakes hold open would keep a graceful shutdown waiting; nothing needs draining.
    close: async () => server.forceShutdown(),
  };
}

type SyncCall = grpc.ServerWritableStream<unknown, { flagConfiguration: string }>;

/** A sync service that sends whatever documents the test pushes to every open SyncFlags stream. */
export async function startFakeSync(): Promise<FakeServer & { push(document: string | object): void; streams(): number }> {
  const open = new Set<SyncCall>();
  let last: string | undefined;
  const fake = await serve([
    {
      definition: grpcServiceDefinition(syncV1.FlagSyncService),
      handlers: {
        SyncFlags: (call: SyncCall) => {
          open.add(call);
          call.on('cancelled', () => open.delete(call));
          if (last !== undefined) call.write({ flagConfiguration: last });
        },
      },
    },
  ]);
  return {
    port: fake.port,
    calls: fake.calls,
    close: fake.close,
    streams: () => open.size,
    push(document) {
      last = typeof document === 'string' ? document : JSON.stringify(document);
      for (const call of open) call.write({ flagConfiguration: last });
    },
  };
}

/** Every method of the sync and evaluation services answers with `code` at once. */
export async function startRefusingServer(code: grpc.status): Promise<FakeServer> {
  const refusal = { code, details: `refused by the test (${grpc.status[code]})` };
  const handlers = (service: typeof syncV1.FlagSyncService | typeof evaluationV2.Service): Handlers => {
    const h: Handlers = {};
    for (const m of service.methods) {
      h[m.name] =
        m.methodKind === 'server_streaming'
          ? ((call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', refusal)) as never
          : ((_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(refusal)) as never;
    }
    return h;
  };
  return serve([
    { definition: grpcServiceDefinition(syncV1.FlagSyncService), handlers: handlers(syncV1.FlagSyncService) },
    { definition: grpcServiceDefinition(evaluationV2.Service), handlers: handlers(evaluationV2.Service) },
  ]);
}

/**
 * An evaluation service whose unary resolve calls are never answered: only the caller's deadline
 * ends them. Its EventStream says provider_ready (so the provider becomes READY), or, with
 * `announceReady: false`, stays open and silent.
 */
export async function startSilentEvaluation({ announceReady = true } = {}): Promise<FakeServer> {
  const silent = () => {};
  return serve([
    {
      definition: grpcServiceDefinition(evaluationV2.Service),
      handlers: {
        EventStream: ((call: grpc.ServerWritableStream<unknown, unknown>) => {
          if (announceReady) call.write({ type: 'provider_ready' });
        }) as never,
        ResolveBoolean: silent,
        ResolveString: silent,
        ResolveFloat: silent,
        ResolveInt: silent,
        ResolveObject: silent,
        ResolveAll: silent,
      },
    },
  ]);
}
