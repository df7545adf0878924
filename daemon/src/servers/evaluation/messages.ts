/**
 * Turning protocol-neutral answers into flagd.evaluation v1/v2 messages. v1 has no field presence
 * (a missing value is the zero value); v2 leaves `value` and `variant` unset instead.
 */
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import type { AnyFlagResult, ResolveKind, Resolved } from './evaluation-service.js';

export type ApiVersion = 'v1' | 'v2';

export const METHOD_KINDS: Record<string, ResolveKind> = {
  ResolveBoolean: 'boolean',
  ResolveString: 'string',
  ResolveFloat: 'number',
  ResolveInt: 'integer',
  ResolveObject: 'struct',
};

const V1 = {
  boolean: evaluationV1.ResolveBooleanResponseSchema,
  string: evaluationV1.ResolveStringResponseSchema,
  number: evaluationV1.ResolveFloatResponseSchema,
  integer: evaluationV1.ResolveIntResponseSchema,
  struct: evaluationV1.ResolveObjectResponseSchema,
};
const V2 = {
  boolean: evaluationV2.ResolveBooleanResponseSchema,
  string: evaluationV2.ResolveStringResponseSchema,
  number: evaluationV2.ResolveFloatResponseSchema,
  integer: evaluationV2.ResolveIntResponseSchema,
  struct: evaluationV2.ResolveObjectResponseSchema,
};

function wireValue(kind: ResolveKind, value: unknown): unknown {
  if (kind === 'integer') return BigInt(Math.trunc(value as number));
  return value;
}

export function resolveResponse(version: ApiVersion, kind: ResolveKind, r: Resolved): MessageShape<DescMessage> {
  const schema = (version === 'v1' ? V1 : V2)[kind] as DescMessage;
  const init: Record<string, unknown> = { reason: r.reason, metadata: r.metadata };
  if (r.variant !== undefined) init['variant'] = r.variant;
  if (r.value !== undefined) init['value'] = wireValue(kind, r.value);
  return create(schema, init as never);
}

/** Encoded responses per shared engine details object, one map per version and kind (the bytes differ). */
const encodedByKind = new Map<string, WeakMap<object, Uint8Array>>();

/**
 * A Resolve* response as bytes, for grpc-js (whose responseSerialize passes bytes through). An
 * answer from the engine's shared, frozen details is encoded once per version and kind; any other
 * answer is encoded per call. Only the details object decides the answer, never the context.
 */
export function resolveResponseBytes(version: ApiVersion, kind: ResolveKind, r: Resolved): Uint8Array {
  const schema = (version === 'v1' ? V1 : V2)[kind] as DescMessage;
  if (r.shared === undefined) return toBinary(schema, resolveResponse(version, kind, r));
  const key = `${version}:${kind}`;
  let cache = encodedByKind.get(key);
  if (cache === undefined) encodedByKind.set(key, (cache = new WeakMap()));
  let bytes = cache.get(r.shared);
  if (bytes === undefined) cache.set(r.shared, (bytes = toBinary(schema, resolveResponse(version, kind, r))));
  return bytes;
}

export function resolveAllResponse(version: ApiVersion, all: { flags: Record<string, AnyFlagResult>; metadata: object }): MessageShape<DescMessage> {
  const schema = version === 'v1' ? evaluationV1.ResolveAllResponseSchema : evaluationV2.ResolveAllResponseSchema;
  const anySchema = version === 'v1' ? evaluationV1.AnyFlagSchema : evaluationV2.AnyFlagSchema;
  const flags: Record<string, unknown> = {};
  for (const key of Object.keys(all.flags)) {
    const f = all.flags[key];
    Object.defineProperty(flags, key, { value: create(anySchema as DescMessage, { reason: f.reason, variant: f.variant, value: f.value, metadata: f.metadata } as never), enumerable: true });
  }
  return create(schema as DescMessage, { flags, metadata: all.metadata } as never);
}

export function eventResponse(version: ApiVersion, type: string, data?: object): MessageShape<DescMessage> {
  const schema = version === 'v1' ? evaluationV1.EventStreamResponseSchema : evaluationV2.EventStreamResponseSchema;
  return create(schema as DescMessage, (data === undefined ? { type } : { type, data }) as never);
}

/** An EventStream message as bytes, for writing the same event to many gRPC streams. */
export function encodeEvent(version: ApiVersion, type: string, data?: object): Uint8Array {
  const schema = version === 'v1' ? evaluationV1.EventStreamResponseSchema : evaluationV2.EventStreamResponseSchema;
  return toBinary(schema as DescMessage, eventResponse(version, type, data));
}
