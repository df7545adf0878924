// Pins the flagd wire contract of @vexil/proto.
//
// The expected tables below were written by hand from flagd's upstream
// definitions (open-feature/flagd-schemas, protobuf/flagd/**; cross-checked
// against flagd's generated protocol docs and third-party generated code, see
// proto/README.md). They are NOT derived from our own generated output: if a
// .proto edit changes a name, number, type, label or presence, this spec fails.
// Only change a table after the same change has landed upstream.

import { describe, expect, it } from 'vitest';
import {
  ScalarType,
  create,
  fromBinary,
  fromJson,
  isFieldSet,
  toBinary,
  toJson,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescService,
} from '@bufbuild/protobuf';
import { evaluationV1, evaluationV2, syncV1 } from '../src/index.js';

// ---------------------------------------------------------------------------
// Helpers: render descriptors as proto-like declarations.
// ---------------------------------------------------------------------------

function typeOf(field: DescField): string {
  switch (field.fieldKind) {
    case 'scalar':
      return ScalarType[field.scalar].toLowerCase();
    case 'enum':
      return field.enum.typeName;
    case 'message':
      return field.message.typeName;
    case 'list': {
      const element =
        field.listKind === 'scalar'
          ? ScalarType[field.scalar].toLowerCase()
          : field.listKind === 'enum'
            ? field.enum.typeName
            : field.message.typeName;
      return `repeated ${element}`;
    }
    case 'map': {
      const key = ScalarType[field.mapKey].toLowerCase();
      const value =
        field.mapKind === 'scalar'
          ? ScalarType[field.scalar].toLowerCase()
          : field.mapKind === 'enum'
            ? field.enum.typeName
            : field.message.typeName;
      return `map<${key}, ${value}>`;
    }
  }
}

/** e.g. "optional string variant = 3", "oneof value: bool bool_value = 3" */
function declare(field: DescField): string {
  let s = `${typeOf(field)} ${field.name} = ${field.number}`;
  if (field.proto.proto3Optional) s = `optional ${s}`;
  else if (field.oneof) s = `oneof ${field.oneof.name}: ${s}`;
  if (field.deprecated) s += ' [deprecated = true]';
  return s;
}

function fieldsOf(file: DescFile): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const message of file.messages) {
    out[message.name] = message.fields.map(declare);
  }
  return out;
}

function methodsOf(service: DescService): string[] {
  return service.methods.map(
    (m) => `${m.methodKind} ${m.name}(${m.input.typeName}) returns (${m.output.typeName})`,
  );
}

function fileOptions(file: DescFile) {
  const o = file.proto.options;
  return {
    name: file.proto.name,
    package: file.proto.package,
    syntax: file.proto.syntax,
    dependencies: file.proto.dependency,
    deprecated: file.deprecated,
    csharp_namespace: o?.csharpNamespace,
    go_package: o?.goPackage,
    java_package: o?.javaPackage,
    php_namespace: o?.phpNamespace,
    ruby_package: o?.rubyPackage,
  };
}

function reservedOf(message: DescMessage): Array<[number, number]> {
  // [start, end) as in DescriptorProto.ReservedRange
  return message.proto.reservedRange.map((r) => [r.start, r.end]);
}

// ---------------------------------------------------------------------------
// Upstream tables (flagd-schemas protobuf/flagd/**).
// ---------------------------------------------------------------------------

const STRUCT = 'google.protobuf.Struct';

/** flagd.evaluation.v1 — every field implicit presence except the oneof. */
function evaluationV1Table(pkg: string): Record<string, string[]> {
  const responseFields = (valueType: string) => [
    `${valueType} value = 1`,
    'string reason = 2',
    'string variant = 3',
    `${STRUCT} metadata = 4`,
  ];
  const requestFields = ['string flag_key = 1', `${STRUCT} context = 2`];
  return {
    ResolveAllRequest: [`${STRUCT} context = 1`],
    ResolveAllResponse: [`map<string, ${pkg}.AnyFlag> flags = 1`, `${STRUCT} metadata = 2`],
    AnyFlag: [
      'string reason = 1',
      'string variant = 2',
      'oneof value: bool bool_value = 3',
      'oneof value: string string_value = 4',
      'oneof value: double double_value = 5',
      `oneof value: ${STRUCT} object_value = 6`,
      `${STRUCT} metadata = 7`,
    ],
    ResolveBooleanRequest: requestFields,
    ResolveBooleanResponse: responseFields('bool'),
    ResolveStringRequest: requestFields,
    ResolveStringResponse: responseFields('string'),
    ResolveFloatRequest: requestFields,
    ResolveFloatResponse: responseFields('double'),
    ResolveIntRequest: requestFields,
    ResolveIntResponse: responseFields('int64'),
    ResolveObjectRequest: requestFields,
    ResolveObjectResponse: responseFields(STRUCT),
    EventStreamResponse: ['string type = 1', `${STRUCT} data = 2`],
    EventStreamRequest: [],
  };
}

/** flagd.evaluation.v2 — same numbers; value/variant are proto3 `optional`. */
function evaluationV2Table(pkg: string): Record<string, string[]> {
  const responseFields = (valueType: string) => [
    `optional ${valueType} value = 1`,
    'string reason = 2',
    'optional string variant = 3',
    `${STRUCT} metadata = 4`,
  ];
  const requestFields = ['string flag_key = 1', `${STRUCT} context = 2`];
  return {
    ResolveAllRequest: [`${STRUCT} context = 1`],
    ResolveAllResponse: [`map<string, ${pkg}.AnyFlag> flags = 1`, `${STRUCT} metadata = 2`],
    AnyFlag: [
      'string reason = 1',
      'optional string variant = 2',
      'oneof value: bool bool_value = 3',
      'oneof value: string string_value = 4',
      'oneof value: double double_value = 5',
      `oneof value: ${STRUCT} object_value = 6`,
      `${STRUCT} metadata = 7`,
    ],
    ResolveBooleanRequest: requestFields,
    ResolveBooleanResponse: responseFields('bool'),
    ResolveStringRequest: requestFields,
    ResolveStringResponse: responseFields('string'),
    ResolveFloatRequest: requestFields,
    ResolveFloatResponse: responseFields('double'),
    ResolveIntRequest: requestFields,
    ResolveIntResponse: responseFields('int64'),
    ResolveObjectRequest: requestFields,
    ResolveObjectResponse: responseFields(STRUCT),
    EventStreamResponse: ['string type = 1', `${STRUCT} data = 2`],
    EventStreamRequest: [],
  };
}

const evaluationMethods = (pkg: string) => [
  `unary ResolveAll(${pkg}.ResolveAllRequest) returns (${pkg}.ResolveAllResponse)`,
  `unary ResolveBoolean(${pkg}.ResolveBooleanRequest) returns (${pkg}.ResolveBooleanResponse)`,
  `unary ResolveString(${pkg}.ResolveStringRequest) returns (${pkg}.ResolveStringResponse)`,
  `unary ResolveFloat(${pkg}.ResolveFloatRequest) returns (${pkg}.ResolveFloatResponse)`,
  `unary ResolveInt(${pkg}.ResolveIntRequest) returns (${pkg}.ResolveIntResponse)`,
  `unary ResolveObject(${pkg}.ResolveObjectRequest) returns (${pkg}.ResolveObjectResponse)`,
  `server_streaming EventStream(${pkg}.EventStreamRequest) returns (${pkg}.EventStreamResponse)`,
];

/** flagd.sync.v1 (KeyValue and the SyncState enum no longer exist upstream). */
const syncV1Table: Record<string, string[]> = {
  SyncFlagsRequest: ['string provider_id = 1', 'string selector = 2 [deprecated = true]'],
  SyncFlagsResponse: ['string flag_configuration = 1', `optional ${STRUCT} sync_context = 2`],
  FetchAllFlagsRequest: ['string provider_id = 1', 'string selector = 2'],
  FetchAllFlagsResponse: ['string flag_configuration = 1'],
  GetMetadataRequest: [],
  GetMetadataResponse: [`${STRUCT} metadata = 2`],
};

const syncV1Methods = [
  'server_streaming SyncFlags(flagd.sync.v1.SyncFlagsRequest) returns (flagd.sync.v1.SyncFlagsResponse)',
  'unary FetchAllFlags(flagd.sync.v1.FetchAllFlagsRequest) returns (flagd.sync.v1.FetchAllFlagsResponse)',
  'unary GetMetadata(flagd.sync.v1.GetMetadataRequest) returns (flagd.sync.v1.GetMetadataResponse)',
];

// ---------------------------------------------------------------------------
// Descriptor contract
// ---------------------------------------------------------------------------

describe('flagd.evaluation.v1 descriptors', () => {
  const file = evaluationV1.file_flagd_evaluation_v1_evaluation;
  const pkg = 'flagd.evaluation.v1';

  it('file name, package and options match upstream', () => {
    expect(fileOptions(file)).toEqual({
      name: 'flagd/evaluation/v1/evaluation.proto',
      package: pkg,
      syntax: 'proto3',
      dependencies: ['google/protobuf/struct.proto'],
      deprecated: true,
      csharp_namespace: 'OpenFeature.Flagd.Grpc.Evaluation',
      go_package: 'flagd/evaluation/v1',
      java_package: 'dev.openfeature.flagd.grpc.evaluation',
      php_namespace: 'OpenFeature\\Providers\\Flagd\\Schema\\Grpc\\Evaluation',
      ruby_package: 'OpenFeature::Flagd::Provider::Grpc::Evaluation',
    });
  });

  it('messages, field numbers, types and presence match upstream', () => {
    expect(fieldsOf(file)).toEqual(evaluationV1Table(pkg));
  });

  it('service Service has the upstream methods and streaming kinds', () => {
    expect(file.services.map((s) => s.typeName)).toEqual([`${pkg}.Service`]);
    expect(evaluationV1.Service.typeName).toBe(`${pkg}.Service`);
    expect(methodsOf(evaluationV1.Service)).toEqual(evaluationMethods(pkg));
  });
});

describe('flagd.evaluation.v2 descriptors', () => {
  const file = evaluationV2.file_flagd_evaluation_v2_evaluation;
  const pkg = 'flagd.evaluation.v2';

  it('file name, package and options match upstream', () => {
    expect(fileOptions(file)).toEqual({
      name: 'flagd/evaluation/v2/evaluation.proto',
      package: pkg,
      syntax: 'proto3',
      dependencies: ['google/protobuf/struct.proto'],
      deprecated: false,
      csharp_namespace: 'OpenFeature.Flagd.Grpc.Evaluation.V2',
      go_package: 'flagd/evaluation/v2',
      java_package: 'dev.openfeature.flagd.grpc.evaluation.v2',
      php_namespace: 'OpenFeature\\Providers\\Flagd\\Schema\\Grpc\\Evaluation\\V2',
      ruby_package: 'OpenFeature::Flagd::Provider::Grpc::Evaluation::V2',
    });
  });

  it('messages, field numbers, types and presence match upstream', () => {
    expect(fieldsOf(file)).toEqual(evaluationV2Table(pkg));
  });

  it('service Service has the upstream methods and streaming kinds', () => {
    expect(file.services.map((s) => s.typeName)).toEqual([`${pkg}.Service`]);
    expect(methodsOf(evaluationV2.Service)).toEqual(evaluationMethods(pkg));
  });

  it('v1 and v2 share field numbers (only presence differs)', () => {
    const numbers = (f: DescFile) =>
      Object.fromEntries(f.messages.map((m) => [m.name, m.fields.map((x) => [x.name, x.number])]));
    expect(numbers(file)).toEqual(numbers(evaluationV1.file_flagd_evaluation_v1_evaluation));
  });
});

describe('flagd.sync.v1 descriptors', () => {
  const file = syncV1.file_flagd_sync_v1_sync;

  it('file name, package and options match upstream', () => {
    expect(fileOptions(file)).toEqual({
      name: 'flagd/sync/v1/sync.proto',
      package: 'flagd.sync.v1',
      syntax: 'proto3',
      dependencies: ['google/protobuf/struct.proto'],
      deprecated: false,
      csharp_namespace: 'OpenFeature.Flagd.Grpc.Sync',
      go_package: 'flagd/sync/v1',
      java_package: 'dev.openfeature.flagd.grpc.sync',
      php_namespace: 'OpenFeature\\Providers\\Flagd\\Schema\\Grpc\\Sync',
      ruby_package: 'OpenFeature::Flagd::Provider::Grpc::Sync',
    });
  });

  it('messages, field numbers, types and presence match upstream', () => {
    expect(fieldsOf(file)).toEqual(syncV1Table);
    expect(file.enums).toEqual([]);
  });

  it('GetMetadataResponse keeps field 1 (old KeyValue list) reserved', () => {
    expect(reservedOf(syncV1.GetMetadataResponseSchema)).toEqual([[1, 2]]);
  });

  it('GetMetadata and its messages are deprecated', () => {
    expect(syncV1.GetMetadataRequestSchema.deprecated).toBe(true);
    expect(syncV1.GetMetadataResponseSchema.deprecated).toBe(true);
    expect(syncV1.FlagSyncService.method.getMetadata.deprecated).toBe(true);
  });

  it('service FlagSyncService has the upstream methods and streaming kinds', () => {
    expect(file.services.map((s) => s.typeName)).toEqual(['flagd.sync.v1.FlagSyncService']);
    expect(methodsOf(syncV1.FlagSyncService)).toEqual(syncV1Methods);
  });
});

// ---------------------------------------------------------------------------
// Wire and JSON round trips
// ---------------------------------------------------------------------------

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('binary and JSON encoding', () => {
  it('v1 ResolveBooleanResponse with metadata: hand-encoded bytes, round trip, JSON', () => {
    const msg = create(evaluationV1.ResolveBooleanResponseSchema, {
      value: true,
      reason: 'STATIC',
      variant: 'on',
      metadata: { k: 'v' },
    });
    // 08 01                      value = true           (field 1, varint)
    // 12 06 "STATIC"             reason                 (field 2, len)
    // 1a 02 "on"                 variant                (field 3, len)
    // 22 0a                      metadata Struct        (field 4, len 10)
    //   0a 08                      fields map entry     (Struct.fields = 1)
    //     0a 01 "k"                  key = 1
    //     12 03 1a 01 "v"            value = 2: Value{string_value = 3}
    const expected = '0801' + '1206535441544943' + '1a026f6e' + '220a' + '0a08' + '0a016b' + '12031a0176';
    const bytes = toBinary(evaluationV1.ResolveBooleanResponseSchema, msg);
    expect(hex(bytes)).toBe(expected);

    const decoded = fromBinary(evaluationV1.ResolveBooleanResponseSchema, bytes);
    expect(decoded.value).toBe(true);
    expect(decoded.reason).toBe('STATIC');
    expect(decoded.variant).toBe('on');
    expect(decoded.metadata).toEqual({ k: 'v' });

    expect(toJson(evaluationV1.ResolveBooleanResponseSchema, decoded)).toEqual({
      value: true,
      reason: 'STATIC',
      variant: 'on',
      metadata: { k: 'v' },
    });
  });

  it('v1 emits zero values like flagd (protojson EmitUnpopulated) when asked', () => {
    const msg = create(evaluationV1.ResolveBooleanResponseSchema, { reason: 'DEFAULT' });
    expect(toBinary(evaluationV1.ResolveBooleanResponseSchema, msg)).toEqual(
      Uint8Array.from([0x12, 0x07, ...Buffer.from('DEFAULT')]),
    );
    expect(
      toJson(evaluationV1.ResolveBooleanResponseSchema, msg, { alwaysEmitImplicit: true }),
    ).toEqual({ value: false, reason: 'DEFAULT', variant: '' });
  });

  it('v1 int64 values are JSON strings and bigint in TypeScript', () => {
    const msg = create(evaluationV1.ResolveIntResponseSchema, {
      value: 9007199254740993n,
      reason: 'TARGETING_MATCH',
      variant: 'big',
    });
    const json = toJson(evaluationV1.ResolveIntResponseSchema, msg);
    expect(json).toEqual({ value: '9007199254740993', reason: 'TARGETING_MATCH', variant: 'big' });
    const back = fromBinary(
      evaluationV1.ResolveIntResponseSchema,
      toBinary(evaluationV1.ResolveIntResponseSchema, msg),
    );
    expect(back.value).toBe(9007199254740993n);
  });

  it('v2 optional value/variant: explicit false is on the wire, unset is absent', () => {
    const schema = evaluationV2.ResolveBooleanResponseSchema;

    const explicitFalse = create(schema, { value: false, reason: 'STATIC', variant: 'off' });
    const bytes = toBinary(schema, explicitFalse);
    expect(hex(bytes).startsWith('0800')).toBe(true); // field 1 present with value 0
    const decoded = fromBinary(schema, bytes);
    expect(isFieldSet(decoded, schema.field.value)).toBe(true);
    expect(decoded.value).toBe(false);

    const disabled = create(schema, { reason: 'DISABLED' });
    expect(hex(toBinary(schema, disabled))).toBe('1208' + Buffer.from('DISABLED').toString('hex'));
    const decodedDisabled = fromBinary(schema, toBinary(schema, disabled));
    expect(isFieldSet(decodedDisabled, schema.field.value)).toBe(false);
    expect(decodedDisabled.value).toBeUndefined();
    expect(decodedDisabled.variant).toBeUndefined();
    // Same JSON shape flagd emits for v2: absent value/variant are omitted even
    // with EmitUnpopulated, because they have explicit presence.
    expect(toJson(schema, decodedDisabled, { alwaysEmitImplicit: true })).toEqual({
      reason: 'DISABLED',
    });
  });

  it('v2 ResolveAllResponse with flags map, AnyFlag oneof and metadata', () => {
    const schema = evaluationV2.ResolveAllResponseSchema;
    const msg = create(schema, {
      flags: {
        'new-welcome': create(evaluationV2.AnyFlagSchema, {
          reason: 'TARGETING_MATCH',
          variant: 'on',
          value: { case: 'boolValue', value: true },
          metadata: { flagSetId: 'app' },
        }),
      },
      metadata: { flagSetId: 'app' },
    });
    const decoded = fromBinary(schema, toBinary(schema, msg));
    expect(decoded.flags['new-welcome']?.value).toEqual({ case: 'boolValue', value: true });
    expect(toJson(schema, decoded)).toEqual({
      flags: {
        'new-welcome': {
          reason: 'TARGETING_MATCH',
          variant: 'on',
          boolValue: true,
          metadata: { flagSetId: 'app' },
        },
      },
      metadata: { flagSetId: 'app' },
    });
  });

  it('sync SyncFlagsResponse with sync_context: bytes, round trip and flagd JSON names', () => {
    const schema = syncV1.SyncFlagsResponseSchema;
    const flagConfiguration = '{"flags":{}}';
    const msg = create(schema, {
      flagConfiguration,
      syncContext: { env: 'prod', replicas: 3 },
    });
    const bytes = toBinary(schema, msg);
    // field 1, length-delimited: 0a <len> <json>
    expect(hex(bytes.subarray(0, 2 + flagConfiguration.length))).toBe(
      '0a0c' + Buffer.from(flagConfiguration).toString('hex'),
    );
    // field 2 (sync_context) follows as a length-delimited Struct: tag 0x12
    expect(bytes[2 + flagConfiguration.length]).toBe(0x12);

    const decoded = fromBinary(schema, bytes);
    expect(decoded.flagConfiguration).toBe(flagConfiguration);
    expect(decoded.syncContext).toEqual({ env: 'prod', replicas: 3 });

    const json = toJson(schema, decoded);
    expect(json).toEqual({ flagConfiguration, syncContext: { env: 'prod', replicas: 3 } });

    // What flagd (Go protojson) sends is accepted, with JSON or proto names.
    expect(fromJson(schema, json)).toEqual(decoded);
    expect(
      fromJson(schema, { flag_configuration: flagConfiguration, sync_context: { env: 'prod', replicas: 3 } }),
    ).toEqual(decoded);
  });

  it('sync_context has explicit presence: empty Struct differs from absent', () => {
    const schema = syncV1.SyncFlagsResponseSchema;
    const absent = create(schema, { flagConfiguration: '' });
    const empty = create(schema, { flagConfiguration: '', syncContext: {} });
    expect(hex(toBinary(schema, absent))).toBe('');
    expect(hex(toBinary(schema, empty))).toBe('1200');
    expect(isFieldSet(fromBinary(schema, Uint8Array.from([0x12, 0x00])), schema.field.syncContext)).toBe(
      true,
    );
    expect(toJson(schema, absent, { alwaysEmitImplicit: true })).toEqual({ flagConfiguration: '' });
  });

  it('GetMetadataResponse decodes metadata from field 2', () => {
    const schema = syncV1.GetMetadataResponseSchema;
    // 12 09 | Struct{ fields: { "a": Value{ bool_value(4) = true } } }
    //          0a 07 | 0a 01 "a" | 12 02 20 01
    const decoded = fromBinary(schema, Uint8Array.from([0x12, 0x09, 0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x20, 0x01]));
    expect(decoded.metadata).toEqual({ a: true });
  });

  it('EventStreamResponse JSON matches flagd events', () => {
    const schema = evaluationV1.EventStreamResponseSchema;
    const event = fromJson(schema, {
      type: 'configuration_change',
      data: { flags: { 'my-flag': { type: 'update', source: 'file' } } },
    });
    expect(event.type).toBe('configuration_change');
    expect(toJson(schema, fromBinary(schema, toBinary(schema, event)))).toEqual({
      type: 'configuration_change',
      data: { flags: { 'my-flag': { type: 'update', source: 'file' } } },
    });
  });
});
