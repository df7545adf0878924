/**
 * The one typed resolve: `resolve(type, ...)`, `resolveAny` (no default, no type) and `asType`
 * (the type check on an answer resolved earlier), which every adapter calls instead of a switch.
 */
import { describe, expect, it } from 'vitest';
import { Engine, Evaluator, asType, type ResolveType } from '../src/index.js';

const FLAGS = JSON.stringify({
  metadata: { set: 'm' },
  flags: {
    bool: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    str: { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: 'a' },
    num: { state: 'ENABLED', variants: { x: 2.75, y: -2.75 }, defaultVariant: 'x', targeting: { if: [{ var: 'neg' }, 'y', null] } },
    obj: { state: 'ENABLED', variants: { o: { k: 1 } }, defaultVariant: 'o' },
    list: { state: 'ENABLED', variants: { l: [1, 2] }, defaultVariant: 'l' },
    nul: { state: 'ENABLED', variants: { n: null }, defaultVariant: 'n' },
    off: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on', metadata: { own: 1 } },
    codeDefault: { state: 'ENABLED', variants: { on: true }, defaultVariant: null },
    mixed: { state: 'ENABLED', variants: { s: 'text', n: 7 }, defaultVariant: 's', targeting: { if: [{ var: 'n' }, 'n', 's'] } },
  },
});

const evaluator = () => {
  const ev = new Evaluator();
  ev.setFlags(FLAGS);
  return ev;
};

describe('resolve(type, ...)', () => {
  const ev = evaluator();
  // [flag, type, expected value, expected error code]; the defaults are the sentinel 'D'.
  const cases: [string, ResolveType, unknown, string | undefined][] = [
    ['bool', 'boolean', true, undefined],
    ['bool', 'string', 'D', 'TYPE_MISMATCH'],
    ['str', 'string', 'A', undefined],
    ['num', 'number', 2.75, undefined],
    ['num', 'integer', 2, undefined],
    ['obj', 'object', { k: 1 }, undefined],
    ['obj', 'struct', { k: 1 }, undefined],
    ['list', 'object', [1, 2], undefined],
    ['list', 'struct', 'D', 'TYPE_MISMATCH'],
    ['nul', 'object', null, undefined],
    ['nul', 'struct', 'D', 'TYPE_MISMATCH'],
    ['str', 'struct', 'D', 'TYPE_MISMATCH'],
    ['num', 'boolean', 'D', 'TYPE_MISMATCH'],
  ];
  it.each(cases)('%s as %s', (key, type, value, errorCode) => {
    const d = ev.resolve(type, key, 'D', {});
    expect(d.value).toEqual(value);
    expect(d.errorCode).toBe(errorCode);
    if (errorCode) {
      expect(d.reason).toBe('ERROR');
      expect(d.errorMessage).toContain(`flag ${key} does not match`);
    }
  });

  it('names what it got: an array and null are not "object"', () => {
    expect(ev.resolve('struct', 'list', {}, {}).errorMessage).toBe('Evaluated type of the flag list does not match. Expected object, got array');
    expect(ev.resolve('struct', 'nul', {}, {}).errorMessage).toBe('Evaluated type of the flag nul does not match. Expected object, got null');
    expect(ev.resolve('string', 'bool', '', {}).errorMessage).toBe('Evaluated type of the flag bool does not match. Expected string, got boolean');
  });

  it('integer truncates toward zero, negative values too', () => {
    expect(ev.resolve('integer', 'num', 0, { neg: true })).toMatchObject({ value: -2, variant: 'y', reason: 'TARGETING_MATCH' });
  });

  it('the per-type methods are resolve with the type fixed', () => {
    for (const ctx of [{}, { neg: true }, { n: true }]) {
      for (const key of ['bool', 'str', 'num', 'obj', 'list', 'nul', 'off', 'codeDefault', 'mixed', 'missing']) {
        expect(ev.resolveBoolean(key, false, ctx)).toEqual(ev.resolve('boolean', key, false, ctx));
        expect(ev.resolveString(key, 'd', ctx)).toEqual(ev.resolve('string', key, 'd', ctx));
        expect(ev.resolveNumber(key, -1, ctx)).toEqual(ev.resolve('number', key, -1, ctx));
        expect(ev.resolveInteger(key, -1, ctx)).toEqual(ev.resolve('integer', key, -1, ctx));
        expect(ev.resolveObject(key, { d: 1 }, ctx)).toEqual(ev.resolve('object', key, { d: 1 }, ctx));
      }
    }
  });

  it('the caller default where the flag has no value: unknown, disabled, no default variant', () => {
    expect(ev.resolve('boolean', 'missing', false, {})).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', flagMetadata: { set: 'm' } });
    expect(ev.resolve('boolean', 'off', false, {})).toEqual({ value: false, reason: 'DISABLED', flagMetadata: { set: 'm', own: 1 } });
    expect(ev.resolve('boolean', 'codeDefault', false, {})).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect(ev.resolve('boolean', 'codeDefault', false, {}).variant).toBeUndefined();
  });
});

describe('resolveAny: no default, no type (OFREP, bulk)', () => {
  const ev = evaluator();

  it('answers the value the targeting picked, whatever its type', () => {
    expect(ev.resolveAny('mixed', {})).toMatchObject({ value: 'text', variant: 's' });
    expect(ev.resolveAny('mixed', { n: true })).toMatchObject({ value: 7, variant: 'n', reason: 'TARGETING_MATCH' });
    expect(ev.resolveAny('list')).toMatchObject({ value: [1, 2], reason: 'STATIC' });
  });

  it('has no value where the flag gives none', () => {
    for (const [key, reason] of [
      ['missing', 'ERROR'],
      ['off', 'DISABLED'],
      ['codeDefault', 'DEFAULT'],
    ]) {
      const d = ev.resolveAny(key);
      expect(d.reason, key).toBe(reason);
      expect('value' in d, key).toBe(false);
    }
  });

  it('returns the same frozen object for a static answer (servers may cache per object)', () => {
    const a = ev.resolveAny('str');
    expect(ev.resolveAny('str')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

describe('asType on an answer resolved earlier', () => {
  it('gives what resolve would have given', () => {
    const ev = evaluator();
    for (const key of ['bool', 'str', 'num', 'obj', 'list', 'nul', 'codeDefault', 'mixed']) {
      for (const type of ['boolean', 'string', 'number', 'integer', 'object', 'struct'] as const) {
        expect(asType(ev.resolveAny(key, { n: true }), key, type, 'D')).toEqual(ev.resolve(type, key, 'D', { n: true }));
      }
    }
  });
});

describe('Engine: what the browser bundle holds', () => {
  it('loads JSON text and resolves like the Evaluator', () => {
    const engine = new Engine();
    const ev = evaluator();
    expect(engine.load(FLAGS).added).toEqual(ev.keys());
    for (const key of ev.keys()) expect(engine.resolveAny(key, { neg: true })).toEqual(ev.resolveAny(key, { neg: true }));
    expect(engine.resolveAll({})).toEqual(ev.resolveAll({}));
  });

  it('re-loading the identical text changes nothing; a refused document keeps the flags', () => {
    const engine = new Engine();
    engine.load(FLAGS);
    expect(engine.load(FLAGS).changed).toEqual([]);
    expect(() => engine.load('{"flags": ')).toThrow(/not valid JSON/);
    expect(engine.resolve('string', 'str', '', {}).value).toBe('A');
  });
});
