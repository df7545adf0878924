/**
 * Flag definitions the in-process server tests share: the first two types of flag, and the two
 * flags whose targeting reads what the daemon adds to the context (`-X env=prod` and the
 * `-H x-tier=tier` header mapping). Spread in place, so each document keeps its key order.
 */
export const BOOL_AND_STRING_FLAGS = {
  'bool-flag': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
  'string-flag': {
    state: 'ENABLED',
    variants: { alpha: 'a', beta: 'b' },
    defaultVariant: 'alpha',
    targeting: { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'beta', null] },
  },
};

export const CONTEXT_FLAGS = {
  // -X env=prod (contextValues) reaches targeting.
  'env-flag': {
    state: 'ENABLED',
    variants: { prod: 'production', other: 'elsewhere' },
    defaultVariant: 'other',
    targeting: { if: [{ '==': [{ var: 'env' }, 'prod'] }, 'prod', null] },
  },
  // -H x-tier=tier (contextFromHeaders) reaches targeting.
  'tier-flag': {
    state: 'ENABLED',
    variants: { gold: 'gold', basic: 'basic' },
    defaultVariant: 'basic',
    targeting: { if: [{ '==': [{ var: 'tier' }, 'gold'] }, 'gold', null] },
  },
};
