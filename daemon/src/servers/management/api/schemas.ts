/**
 * JSON schemas of the management API: fastify validates requests and serialises responses with
 * them, and the OpenAPI document is built from the same objects (openapi.ts), so the two cannot
 * drift. Response objects keep `additionalProperties: true` where flag definitions go (targeting
 * is any JSON Logic; fast-json-stringify would drop unlisted fields otherwise).
 */

const metadataValue = { type: ['string', 'number', 'boolean'] } as const;

/** The fields of a flag as written through the API. */
export const flagFields = {
  key: { type: 'string', minLength: 1, maxLength: 256, description: 'The flag key.' },
  flagSetId: { type: 'string', minLength: 1, description: "The flag's flag set (metadata.flagSetId, or the document's)." },
  state: { type: 'string', enum: ['ENABLED', 'DISABLED'] },
  variants: {
    type: 'object',
    minProperties: 1,
    description: 'Variant name → value; all values of one type (boolean, string, number or object).',
    additionalProperties: { type: ['boolean', 'string', 'number', 'object'] },
  },
  defaultVariant: { type: ['string', 'null'] },
  targeting: { type: 'object', description: 'A JSON Logic rule (flagd semantics); {} for none.' },
  metadata: {
    type: 'object',
    description: 'flagd flag metadata; the API keeps owner, createdAt, updatedAt, archived, archivedState, killedAt and killedBy here.',
    additionalProperties: metadataValue,
  },
  version: { type: 'string', description: 'Ignored on input (use If-Match).' },
} as const;

export const flagCreateBody = {
  type: 'object',
  required: ['key', 'state', 'variants'],
  properties: flagFields,
  additionalProperties: false,
} as const;

export const flagReplaceBody = {
  type: 'object',
  required: ['state', 'variants'],
  properties: flagFields,
  additionalProperties: false,
} as const;

/**
 * A merge patch: any field of a flag, null removes it (nested too: a variant, a metadata entry).
 * The merged flag is then checked against flagReplaceBody.
 */
export const flagPatchBody = {
  type: 'object',
  properties: {
    ...Object.fromEntries(Object.entries(flagFields).map(([k, v]) => [k, { anyOf: [v, { type: 'null' }] }])),
    variants: { anyOf: [{ ...flagFields.variants, minProperties: 0, additionalProperties: { type: ['boolean', 'string', 'number', 'object', 'null'] } }, { type: 'null' }] },
    metadata: { anyOf: [{ ...flagFields.metadata, additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }, { type: 'null' }] },
  },
  additionalProperties: false,
} as const;

export const flagResponse = {
  type: 'object',
  required: ['key', 'version'],
  properties: {
    key: { type: 'string' },
    flagSetId: { type: 'string' },
    state: { type: 'string' },
    variants: { type: 'object', additionalProperties: true },
    defaultVariant: { type: ['string', 'null'] },
    targeting: {},
    metadata: { type: 'object', additionalProperties: true },
    version: { type: 'string', description: "The flag's version: a strong ETag, also sent as the ETag header." },
  },
  additionalProperties: true,
} as const;

export const flagListResponse = {
  type: 'object',
  required: ['flags', 'version'],
  properties: {
    flags: { type: 'array', items: flagResponse },
    version: { type: 'string', description: 'The flag set version (strong ETag of the document).' },
    nextCursor: { type: 'string', description: 'Present when more flags match: pass it as `cursor` to get the next page.' },
  },
} as const;

export const keyParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['ENABLED', 'DISABLED', 'ARCHIVED'] },
    flagSet: { type: 'string' },
    q: { type: 'string', maxLength: 256, description: 'Matches key, metadata.description and metadata.owner (case-insensitive).' },
    limit: { type: 'integer', minimum: 1, maximum: 5000, default: 1000, description: 'Flags per page, in document order.' },
    cursor: { type: 'string', maxLength: 2048, description: 'The previous page\'s nextCursor.' },
  },
  additionalProperties: false,
} as const;

export const auditQuery = {
  type: 'object',
  properties: {
    flag: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string', enum: ['create', 'update', 'delete', 'archive', 'restore', 'kill', 'rollout', 'schedule'] },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
  additionalProperties: false,
} as const;

export const auditEntry = {
  type: 'object',
  required: ['seq', 'time', 'actor', 'action', 'flag', 'version', 'prev', 'hash'],
  properties: {
    seq: { type: 'integer' },
    time: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    flag: { type: 'string' },
    before: { description: 'The stored definition before the write, or null.' },
    after: { description: 'The stored definition after the write, or null.' },
    version: { type: 'string', description: 'The flag set version after the write.' },
    prev: { type: 'string' },
    kid: { type: 'string', description: 'The audit key the hash is an HMAC under; absent: a plain sha256 entry.' },
    hash: { type: 'string' },
  },
} as const;

export const auditResponse = {
  type: 'object',
  required: ['entries'],
  properties: { entries: { type: 'array', items: auditEntry } },
} as const;

export const staleQuery = {
  type: 'object',
  properties: { days: { type: 'integer', minimum: 0, maximum: 36500, default: 30 } },
  additionalProperties: false,
} as const;

export const staleResponse = {
  type: 'object',
  required: ['days', 'flags'],
  properties: {
    days: { type: 'integer' },
    flags: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'reasons'],
        properties: {
          key: { type: 'string' },
          reasons: { type: 'array', items: { type: 'string', enum: ['unchanged', 'single-variant', 'not-evaluated', 'not-referenced'] } },
          updatedAt: { type: ['string', 'null'] },
          lastEvaluatedAt: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export const whoamiResponse = {
  type: 'object',
  required: ['actor', 'role'],
  properties: { actor: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'editor', 'admin'] } },
} as const;

export const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        path: { type: 'string', description: 'JSON path of the fault in the flag definition, when a flag is at fault.' },
        current: { type: 'string', description: "VERSION_MISMATCH: the flag's current version." },
        engineCode: { type: 'string', description: "INVALID_FLAG: @vexil/core's error or warning code." },
        targeting: {
          type: 'object',
          description: 'ROLLOUT_HAND_EDITED: the targeting in the source (edited) and the one the rollout compiled.',
          properties: { edited: {}, compiled: {} },
        },
      },
    },
  },
} as const;

/** A time in a rollout: Unix seconds, or an RFC 3339 date-time. */
const rolloutTime = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] } as const;

/**
 * A progressive rollout: `steps` (each from `at` on, `percent` % get `on`), or a linear plan
 * (`start`, then `percentPerStep` more every `everySeconds` until `target`, default 100).
 */
export const rolloutBody = {
  type: 'object',
  required: ['on', 'off'],
  properties: {
    on: { type: 'string', description: 'The variant rolled out.' },
    off: { type: 'string', description: 'The variant everyone else keeps.' },
    steps: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['at', 'percent'], properties: { at: rolloutTime, percent: { type: 'number', minimum: 0, maximum: 100 } }, additionalProperties: false },
    },
    start: rolloutTime,
    everySeconds: { type: 'integer', minimum: 1 },
    percentPerStep: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
    target: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
    force: { type: 'boolean', description: 'Replace a compiled targeting that was edited by hand (otherwise 409 ROLLOUT_HAND_EDITED).' },
  },
  additionalProperties: false,
} as const;

export const rolloutActionParams = {
  type: 'object',
  required: ['key', 'action'],
  properties: { key: { type: 'string', minLength: 1 }, action: { type: 'string', enum: ['pause', 'resume', 'abort'] } },
} as const;

/** Prerequisites: this flag's own rules apply only to units for which every listed flag is in one of its `variants`. */
export const prerequisitesBody = {
  type: 'object',
  required: ['prerequisites', 'offVariant'],
  properties: {
    prerequisites: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        required: ['flag', 'variants'],
        properties: { flag: { type: 'string', minLength: 1 }, variants: { type: 'array', minItems: 1, items: { type: 'string' } } },
        additionalProperties: false,
      },
    },
    offVariant: { type: 'string', description: 'What units that miss a prerequisite get.' },
  },
  additionalProperties: false,
} as const;

/** Scheduled changes: from each `at` on, the flag serves a variant, or `percent` % `on` and the rest `off`. */
export const scheduleBody = {
  type: 'object',
  required: ['changes'],
  properties: {
    changes: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['at', 'serve'],
        properties: {
          at: rolloutTime,
          serve: {
            anyOf: [
              { type: 'object', required: ['variant'], properties: { variant: { type: 'string' } }, additionalProperties: false },
              {
                type: 'object',
                required: ['on', 'off', 'percent'],
                properties: { on: { type: 'string' }, off: { type: 'string' }, percent: { type: 'number', minimum: 0, maximum: 100 } },
                additionalProperties: false,
              },
            ],
          },
        },
        additionalProperties: false,
      },
    },
    force: { type: 'boolean', description: 'Replace a compiled schedule that was edited by hand (otherwise 409 ROLLOUT_HAND_EDITED).' },
  },
  additionalProperties: false,
} as const;

/** A `vexil refs` report as uploaded by CI. */
export const refsBody = {
  type: 'object',
  required: ['referenced'],
  properties: {
    root: { type: 'string' },
    generatedAt: { type: 'string' },
    referenced: { type: 'array', maxItems: 100_000, items: { type: 'string' } },
    unknown: {
      type: 'array',
      maxItems: 10_000,
      items: { type: 'object', required: ['key', 'file', 'line'], properties: { key: { type: 'string' }, file: { type: 'string' }, line: { type: 'integer' } }, additionalProperties: false },
    },
  },
  additionalProperties: false,
} as const;

export const refsResponse = {
  type: 'object',
  properties: { root: { type: 'string' }, generatedAt: { type: 'string' }, uploadedAt: { type: 'string' }, referenced: { type: 'array', items: { type: 'string' } }, unknown: { type: 'array' } },
  additionalProperties: true,
} as const;
