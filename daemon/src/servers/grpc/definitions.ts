/**
 * grpc-js service definitions built from protobuf-es descriptors, so grpc-js serves exactly the
 * methods, paths and messages of our generated .proto code (no second, hand-written copy).
 */
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescService } from '@bufbuild/protobuf';
import type { Server, ServiceDefinition } from '@grpc/grpc-js';

export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, unknown> = {};
  for (const m of service.methods) {
    const input = m.input as DescMessage;
    const output = m.output as DescMessage;
    def[m.name] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
      responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming',
      requestSerialize: (v: object) => Buffer.from(toBinary(input, asMessage(input, v))),
      requestDeserialize: (b: Buffer) => decodeRequest(input, b),
      // Fan-out servers encode a message once and hand the same bytes to every stream.
      responseSerialize: (v: object) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(toBinary(output, asMessage(output, v)))),
      responseDeserialize: (b: Buffer) => fromBinary(output, b),
      originalName: m.name,
    };
  }
  return def as ServiceDefinition;
}

const MALFORMED = Symbol('malformed request');

/**
 * grpc-js answers a request it cannot decode with INTERNAL; flagd answers INVALID_ARGUMENT. So a
 * decoding failure becomes a marker the handlers turn into INVALID_ARGUMENT (see malformedRequest).
 */
function decodeRequest(schema: DescMessage, b: Buffer): unknown {
  try {
    return fromBinary(schema, b);
  } catch (err) {
    return { [MALFORMED]: `malformed ${schema.typeName}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The INVALID_ARGUMENT error for a request that could not be decoded, or undefined for a good one. */
export function malformedRequest(request: unknown): (Error & { code: number; details: string }) | undefined {
  const reason = (request as { [MALFORMED]?: string } | null)?.[MALFORMED];
  if (reason === undefined) return undefined;
  return Object.assign(new Error(reason), { code: 3 /* INVALID_ARGUMENT */, details: reason });
}

/** Callers may pass plain objects (`{ flagKey: 'x' }`); protobuf-es serialises created messages. */
function asMessage(schema: DescMessage, v: object) {
  return isMessage(v, schema) ? v : create(schema, v as never);
}

/**
 * Server options that keep long-lived streams alive: clients (the official providers) may ping
 * often, and grpc-js would otherwise answer GOAWAY too_many_pings and drop every stream.
 */
export const STREAM_FRIENDLY_SERVER_OPTIONS = {
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 1_000,
  'grpc.http2.max_ping_strikes': 0,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
} as const;

/** Lets in-flight calls finish for up to `graceMs`, then cancels whatever is left. */
export function shutdownGracefully(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    t.unref();
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
