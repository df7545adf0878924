import { describe, expect, it } from 'vitest';
import { Evaluator, FlagConfigError, MAX_DOCUMENT_DEPTH, isFlagConfigError } from '../src/index.js';

const good = JSON.stringify({
  flags: {
    keep: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
  },
});

function loaded(): Evaluator {
  const ev = new Evaluator();
  ev.setFlags(good);
  return ev;
}

/** Loads `bad` into an evaluator holding `good`; returns the error, after checking nothing was lost. */
function refused(bad: string | object): FlagConfigError {
  const ev = loaded();
  let caught: unknown;
  try {
    ev.setFlags(bad);
  } catch (err) {
    caught = err;
  }
  expect(isFlagConfigError(caught), `expected a FlagConfigError, got ${String(caught)}`).toBe(true);
  expect(caught).toBeInstanceOf(FlagConfigError);
  // The previous flag set stays in force, whole.
  expect(ev.keys()).toEqual(['keep']);
  expect(ev.resolveBoolean('keep', false)).toMatchObject({ value: true, reason: 'STATIC' });
  return caught as FlagConfigError;
}

function nest(depth: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { and: [v] };
  return v;
}

function notChain(depth: number): unknown {
  let v: unknown = true;
  for (let i = 0; i < depth; i++) v = { '!': v };
  return v;
}

describe('bad flag sets are refused with a code and a JSON path, and the last good set keeps serving', () => {
  it('invalid JSON', () => {
    const err = refused('{"flags": {');
    expect(err.code).toBe('INVALID_JSON');
    expect(err.path).toBe('$');
    expect(err.message).toMatch(/not valid JSON/);
  });

  it('a root that is not an object', () => {
    expect(refused('[]').code).toBe('INVALID_CONFIG');
    expect(refused('null').code).toBe('INVALID_CONFIG');
    expect(refused('"flags"').code).toBe('INVALID_CONFIG');
  });

  it('flags that are not an object', () => {
    const err = refused({ flags: 'nope' });
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', path: '$.flags' });
  });

  it('a flag that is not an object', () => {
    expect(refused({ flags: { x: 3 } })).toMatchObject({ code: 'INVALID_FLAG', path: '$.flags.x' });
  });

  it('an unknown state', () => {
    const err = refused({ flags: { 'my-flag': { state: 'ON', variants: { a: 1 }, defaultVariant: 'a' } } });
    expect(err).toMatchObject({ code: 'INVALID_STATE', path: '$.flags["my-flag"].state' });
    expect(err.message).toContain('"ON"');
  });

  it('missing variants', () => {
    expect(refused({ flags: { f: { state: 'ENABLED', defaultVariant: 'a' } } })).toMatchObject({ code: 'INVALID_VARIANTS', path: '$.flags.f.variants' });
  });

  it('a defaultVariant that is not among the variants', () => {
    const err = refused({ flags: { f: { state: 'ENABLED', variants: { on: true }, defaultVariant: 'of' } } });
    expect(err).toMatchObject({ code: 'DEFAULT_VARIANT_NOT_FOUND', path: '$.flags.f.defaultVariant' });
    expect(err.message).toContain('"of"');
    expect(err.message).toContain('"on"');
  });

  it('duplicate keys in the array form', () => {
    const f = { key: 'a', state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' };
    expect(refused({ flags: [f, f] })).toMatchObject({ code: 'DUPLICATE_FLAG_KEY', path: '$.flags[1].key' });
  });

  it('an object holding non-JSON values or a cycle', () => {
    expect(refused({ flags: { f: { state: 'ENABLED', variants: { on: () => 1 } } } })).toMatchObject({ code: 'NOT_JSON', path: '$.flags.f.variants.on' });
    expect(refused({ flags: { f: { state: 'ENABLED', variants: { n: NaN } } } }).code).toBe('NOT_JSON');
    const cyclic: Record<string, unknown> = { state: 'ENABLED' };
    cyclic['variants'] = { self: cyclic };
    expect(refused({ flags: { f: cyclic } })).toMatchObject({ code: 'NOT_JSON', path: '$.flags.f.variants.self' });
  });

  it('10,000-deep nesting in a JSON string: a clear error, no stack overflow', () => {
    // Built as text: JSON.stringify itself cannot serialise 10,000 levels.
    const rule = '{"and":['.repeat(10_000) + '1' + ']}'.repeat(10_000);
    const deep = `{"flags":{"f":{"state":"ENABLED","variants":{"a":"a"},"defaultVariant":"a","targeting":${rule}}}}`;
    const err = refused(deep);
    expect(err.code).toBe('NESTING_TOO_DEEP');
    expect(err.path.startsWith('$.flags.f.targeting.and[0].and[0]')).toBe(true);
    expect(err.message).toContain(String(MAX_DOCUMENT_DEPTH));
  });

  it('10,000-deep nesting in an object and in a variant value', () => {
    expect(refused({ flags: { f: { state: 'ENABLED', variants: { a: nest(10_000) } } } }).code).toBe('NESTING_TOO_DEEP');
    const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);
    expect(refused(`{"flags":{},"metadata":{"x":${deepArray}}}`).code).toBe('NESTING_TOO_DEEP');
  });

  it('strict mode refuses what flagd only warns about, listing every warning', () => {
    const ev = new Evaluator({ strict: true });
    ev.setFlags(good);
    const bad = { flags: { f: { state: 'ENABLED', variants: { a: 1, b: 'two' }, defaultVariant: 'a', metadata: { owner: { name: 'x' } } } } };
    let err: FlagConfigError | undefined;
    try {
      ev.setFlags(bad);
    } catch (e) {
      err = e as FlagConfigError;
    }
    expect(err?.code).toBe('STRICT_VALIDATION');
    expect(err?.warnings.map((w) => [w.code, w.path])).toEqual([
      ['MIXED_VARIANT_TYPES', '$.flags.f.variants'],
      ['INVALID_METADATA_VALUE', '$.flags.f.metadata.owner'],
    ]);
    expect(ev.keys()).toEqual(['keep']);
  });
});

describe('what flagd only warns about loads, with warnings and paths returned rather than printed', () => {
  it('reports schema violations as warnings', () => {
    const ev = new Evaluator();
    const r = ev.load({
      metadata: { deep: [1] },
      flags: {
        mixed: { state: 'ENABLED', variants: { a: 1, b: 'two' }, defaultVariant: 'a' },
        empty: { state: 'ENABLED', variants: {} },
        nully: { state: 'ENABLED', variants: { n: null }, defaultVariant: 0 },
        '': { state: 'ENABLED', variants: { a: true }, defaultVariant: 'a' },
        str: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: 'a' },
      },
    });
    expect(r.warnings.map((w) => `${w.code} ${w.path}`).sort()).toEqual(
      [
        'INVALID_METADATA_VALUE $.metadata.deep',
        'MIXED_VARIANT_TYPES $.flags.mixed.variants',
        'EMPTY_VARIANTS $.flags.empty.variants',
        'INVALID_VARIANT_VALUE $.flags.nully.variants.n',
        'INVALID_DEFAULT_VARIANT $.flags.nully.defaultVariant',
        'EMPTY_FLAG_KEY $.flags[""]',
        'TARGETING_NOT_OBJECT $.flags.str.targeting',
      ].sort(),
    );
    expect(ev.warnings).toEqual(r.warnings);
    expect(ev.resolveString('str', 'x')).toMatchObject({ value: 'a', reason: 'TARGETING_MATCH' });
  });

  it('loads a document without flags as an empty set, with a warning', () => {
    const ev = loaded();
    const r = ev.load('{}');
    expect(r.removed).toEqual(['keep']);
    expect(r.warnings[0]).toMatchObject({ code: 'MISSING_FLAGS', path: '$.flags' });
  });
});

describe('broken targeting fails only its own flag', () => {
  const doc = {
    $evaluators: { loopA: { $ref: 'loopB' }, loopB: { $ref: 'loopA' } },
    flags: {
      unknownOp: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { if: [{ frobnicate: [1] }, 'a', null] } },
      missingRef: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { $ref: 'nowhere' } },
      cycle: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { $ref: 'loopA' } },
      // 300 levels of {"!": ...} fit the document limit (512) but not the rule compiler's (256).
      tooDeep: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: notChain(300) },
      fine: { state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a', targeting: { if: [{ var: 'x' }, 'b', null] } },
    },
  };

  it('resolves PARSE_ERROR with the code default for each broken flag while the others keep working', () => {
    const ev = new Evaluator();
    const r = ev.load(doc);
    for (const key of ['unknownOp', 'missingRef', 'cycle', 'tooDeep']) {
      const d = ev.resolveString(key, 'code-default', { x: 1 });
      expect(d, key).toMatchObject({ value: 'code-default', reason: 'ERROR', errorCode: 'PARSE_ERROR' });
      expect(d.errorMessage, key).toContain(key);
    }
    expect(ev.resolveString('fine', 'z', { x: 1 })).toMatchObject({ value: 'b', reason: 'TARGETING_MATCH' });
    const paths = Object.fromEntries(r.warnings.map((w) => [w.path.split('.')[2], w]));
    expect(paths['unknownOp']).toMatchObject({ code: 'INVALID_TARGETING', path: '$.flags.unknownOp.targeting.if[0]' });
    expect(paths['unknownOp'].message).toContain('frobnicate');
    expect(paths['missingRef'].message).toContain('nowhere');
    expect(paths['cycle'].message).toMatch(/refers to itself/);
  });

  it('in strict mode refuses the whole set instead', () => {
    const ev = new Evaluator({ strict: true });
    expect(() => ev.setFlags(doc)).toThrow(FlagConfigError);
  });
});

describe('huge inputs', () => {
  it('evaluates `in` against a 200,000-element array and a 20,000-branch `or`', () => {
    const list = Array.from({ length: 200_000 }, (_, i) => `user-${i}`);
    const branches = Array.from({ length: 20_000 }, (_, i) => ({ '==': [{ var: 'n' }, i] }));
    const ev = new Evaluator();
    ev.setFlags({
      flags: {
        allow: { state: 'ENABLED', variants: { yes: true, no: false }, defaultVariant: 'no', targeting: { if: [{ in: [{ var: 'targetingKey' }, list] }, 'yes', null] } },
        many: { state: 'ENABLED', variants: { yes: true, no: false }, defaultVariant: 'no', targeting: { if: [{ or: branches }, 'yes', null] } },
        maxed: { state: 'ENABLED', variants: { '199999': true, no: false }, defaultVariant: 'no', targeting: { max: Array.from({ length: 200_000 }, (_, i) => i) } },
      },
    });
    expect(ev.resolveBoolean('allow', false, { targetingKey: 'user-199999' }).value).toBe(true);
    expect(ev.resolveBoolean('allow', false, { targetingKey: 'user-200000' }).value).toBe(false);
    expect(ev.resolveBoolean('many', false, { n: 19_999 }).value).toBe(true);
    expect(ev.resolveBoolean('maxed', false)).toMatchObject({ value: true, variant: '199999' });
  });
});

describe('prototype pollution', () => {
  it('keeps __proto__ and constructor keys in flags as plain data', () => {
    const text = '{"flags":{"__proto__":{"state":"ENABLED","variants":{"__proto__":"p","constructor":"c"},"defaultVariant":"__proto__","metadata":{"__proto__":"m"}},' +
      '"constructor":{"state":"ENABLED","variants":{"a":"a","c":"c"},"defaultVariant":"a","targeting":{"if":[{"var":"constructor"},"c",null]}}}}';
    const ev = new Evaluator();
    ev.setFlags(text);
    expect(ev.resolveString('__proto__', 'x')).toMatchObject({ value: 'p', variant: '__proto__', flagMetadata: { ['__proto__']: 'm' } });
    expect(ev.resolveString('constructor', 'x', {})).toMatchObject({ value: 'a', reason: 'DEFAULT' });
    expect(ev.resolveString('toString', 'x')).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('does not read inherited members from the context', () => {
    const ev = new Evaluator();
    ev.setFlags({
      flags: {
        f: {
          state: 'ENABLED',
          variants: { hit: 'hit', miss: 'miss' },
          defaultVariant: 'miss',
          targeting: { if: [{ or: [{ var: '__proto__' }, { var: 'constructor' }, { var: 'toString' }, { var: 'user.__proto__.polluted' }] }, 'hit', null] },
        },
        g: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { cat: [{ var: 'list' }, { var: '__proto__' }] } },
      },
    });
    const ctx = JSON.parse('{"user":{"__proto__":{"polluted":true}},"list":["a"]}');
    expect(ev.resolveString('f', 'x', {})).toMatchObject({ value: 'miss', reason: 'DEFAULT' });
    expect(ev.resolveString('f', 'x', ctx)).toMatchObject({ value: 'hit' });
    expect(ev.resolveString('g', 'x', ctx)).toMatchObject({ value: 'a' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('evaluation never throws', () => {
  it('turns a rule that throws at run time into GENERAL, with the code default', () => {
    const ev = new Evaluator();
    ev.setFlags({
      flags: {
        // json-logic-js throws for `*` without arguments; only when the branch runs.
        f: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { if: [{ var: 'boom' }, { '*': [] }, null] } },
        // A context object without a prototype cannot be converted to a primitive for `==`.
        g: { state: 'ENABLED', variants: { a: 'a' }, defaultVariant: 'a', targeting: { '==': [{ var: 'o' }, 1] } },
      },
    });
    expect(ev.resolveString('f', 'x', {})).toMatchObject({ value: 'a', reason: 'DEFAULT' });
    expect(ev.resolveString('f', 'x', { boom: true })).toMatchObject({ value: 'x', reason: 'ERROR', errorCode: 'GENERAL' });
    expect(ev.resolveString('g', 'x', { o: Object.create(null) })).toMatchObject({ value: 'x', errorCode: 'GENERAL' });
    expect(() => ev.resolveAll({ boom: true })).not.toThrow();
  });

  it('accepts odd contexts: none, null members, arrays, dates', () => {
    const ev = new Evaluator();
    ev.setFlags({ flags: { f: { state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a', targeting: { if: [{ var: 'x.y.z' }, 'b', null] } } } });
    expect(ev.resolveString('f', 'q')).toMatchObject({ value: 'a' });
    expect(ev.resolveString('f', 'q', { x: null })).toMatchObject({ value: 'a' });
    expect(ev.resolveString('f', 'q', { x: [{ y: 1 }] })).toMatchObject({ value: 'a' });
    expect(ev.resolveString('f', 'q', { x: new Date(0) })).toMatchObject({ value: 'a' });
  });
});
