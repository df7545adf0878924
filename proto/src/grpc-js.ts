/// <reference types="node" />
/**
 * `@vexil/proto/grpc-js`: grpc-js service definitions built from the protobuf-es descriptors, so
 * grpc-js servers and clients use exactly the methods, paths and messages of the generated code
 * (no second, hand-written copy). A separate entry point: it needs Node's Buffer, and the main
 * entry stays usable in browsers.
 */
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescService } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';

const MALFORMED = Symbol('malformed request');

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
