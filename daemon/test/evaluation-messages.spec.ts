/** The encoded Resolve* responses the gRPC adapter keeps per shared engine details object. */
import { fromBinary } from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2 } from '@vexil/proto';
import { describe, expect, it } from 'vitest';
import { resolveResponseBytes } from '../src/servers/evaluation/messages.js';

describe('resolveResponseBytes', () => {
  it('keeps one encoding per version and kind for the same shared details', () => {
    // One frozen details object that answers both ResolveFloat and ResolveInt: their wire types differ.
    const shared = Object.freeze({ value: 3, reason: 'STATIC', variant: 'three', flagMetadata: {} });
    const r = { value: 3, reason: 'STATIC', variant: 'three', metadata: {}, shared };
    const float = fromBinary(evaluationV2.ResolveFloatResponseSchema, resolveResponseBytes('v2', 'number', r));
    const int = fromBinary(evaluationV2.ResolveIntResponseSchema, resolveResponseBytes('v2', 'integer', r));
    const v1 = fromBinary(evaluationV1.ResolveIntResponseSchema, resolveResponseBytes('v1', 'integer', r));
    expect(float.value).toBe(3);
    expect(int.value).toBe(3n);
    expect(v1.value).toBe(3n);
    expect(resolveResponseBytes('v2', 'integer', r)).toBe(resolveResponseBytes('v2', 'integer', r));
  });

  it('encodes an answer without shared details every time', () => {
    const a = resolveResponseBytes('v2', 'boolean', { value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: {} });
    const b = resolveResponseBytes('v2', 'boolean', { value: false, reason: 'TARGETING_MATCH', variant: 'off', metadata: {} });
    expect(fromBinary(evaluationV2.ResolveBooleanResponseSchema, a).variant).toBe('on');
    expect(fromBinary(evaluationV2.ResolveBooleanResponseSchema, b).variant).toBe('off');
  });
});
