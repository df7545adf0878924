import { describe, expect, it } from 'vitest';
import { Evaluator, ErrorCode, Reason } from '../src/index.js';

const flags = {
  metadata: { flagSetId: 'shop', version: '7', team: 'growth' },
  $evaluators: {
    isInternal: { ends_with: [{ var: 'email' }, '@vexil.dev'] },
  },
  flags: {
    'new-checkout': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ $ref: 'isInternal' }, 'on', null] },
      metadata: { team: 'payments' },
    },
    'banner-text': {
      state: 'ENABLED',
      variants: { hello: 'Hello', bye: 'Bye' },
      defaultVariant: 'hello',
    },
    'by-bool': {
      state: 'ENABLED',
      variants: { true: 'yes', false: 'no' },
      defaultVariant: 'false',
      targeting: { '==': [{ var: 'beta' }, true] },
    },
    'by-number': {
      state: 'ENABLED',
      variants: { '1': 'one', '2': 'two' },
      defaultVariant: '1',
      targeting: { '+': [{ var: 'n' }, 1] },
    },
    'key-echo': {
      state: 'ENABLED',
      variants: { 'key-echo': 'self', other: 'other' },
      defaultVariant: 'other',
      targeting: { var: '$flagd.flagKey' },
    },
    'clock': {
      state: 'ENABLED',
      variants: { past: 'past', future: 'future' },
      defaultVariant: 'past',
      targeting: { if: [{ '>': [{ var: '$flagd.timestamp' }, 1_700_000_000] }, 'future', 'past'] },
    },
    'ratio': {
      state: 'ENABLED',
      variants: { low: 0.25, high: 10 },
      defaultVariant: 'low',
    },
    'off-flag': {
      state: 'DISABLED',
      variants: { on: true, off: false },
      defaultVariant: 'on',
    },
    'bad-variant': {
      state: 'ENABLED',
      variants: { a: 'a' },
      defaultVariant: 'a',
      targeting: { cat: ['nope', { var: 'x' }] },
    },
    'config-object': {
      state: 'ENABLED',
      variants: { v1: { color: 'red', sizes: [1, 2] } },
      defaultVariant: 'v1',
    },
  },
};

function load(opts?: ConstructorParameters<typeof Evaluator>[0]) {
  const ev = new Evaluator(opts);
  ev.setFlags(JSON.stringify(flags));
  return ev;
}

describe('Evaluator: flagd resolution semantics', () => {
  it('answers a static flag with STATIC, its default variant, and set metadata merged under flag metadata', () => {
    const d = load().resolveString('banner-text', 'x');
    expect(d).toEqual({ value: 'Hello', variant: 'hello', reason: Reason.STATIC, flagMetadata: { flagSetId: 'shop', version: '7', team: 'growth' } });
  });

  it('lets flag metadata override flag set metadata', () => {
    const d = load().resolveBoolean('new-checkout', false, {});
    expect(d.flagMetadata).toEqual({ flagSetId: 'shop', version: '7', team: 'payments' });
  });

  it('resolves a $ref evaluator to TARGETING_MATCH and falls back to DEFAULT when targeting returns null', () => {
    const ev = load();
    expect(ev.resolveBoolean('new-checkout', false, { email: 'ann@vexil.dev' })).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    expect(ev.resolveBoolean('new-checkout', true, { email: 'bob@example.com' })).toMatchObject({ value: false, variant: 'off', reason: 'DEFAULT' });
  });

  it('names the variant "true"/"false" when targeting returns a boolean and "2" when it returns a number', () => {
    const ev = load();
    expect(ev.resolveString('by-bool', '', { beta: true })).toMatchObject({ value: 'yes', variant: 'true' });
    expect(ev.resolveString('by-bool', '', { beta: false })).toMatchObject({ value: 'no', variant: 'false' });
    expect(ev.resolveString('by-number', '', { n: 1 })).toMatchObject({ value: 'two', variant: '2' });
  });

  it('puts $flagd.flagKey and $flagd.timestamp (seconds) into the context, overriding a caller-supplied $flagd', () => {
    const ev = load({ now: () => 1_800_000_000_123 });
    expect(ev.resolveString('key-echo', '', { $flagd: { flagKey: 'other' } })).toMatchObject({ value: 'self', variant: 'key-echo' });
    expect(ev.resolveString('clock', '', {})).toMatchObject({ value: 'future' });
    const past = load({ now: () => 1_600_000_000_000 });
    expect(past.resolveString('clock', '', {})).toMatchObject({ value: 'past' });
  });

  it('returns the code default with DISABLED and no variant for a disabled flag', () => {
    const d = load().resolveBoolean('off-flag', false);
    expect(d).toEqual({ value: false, reason: Reason.DISABLED, flagMetadata: { flagSetId: 'shop', version: '7', team: 'growth' } });
  });

  it('returns FLAG_NOT_FOUND with the code default and the flag set metadata for an unknown key', () => {
    const d = load().resolveNumber('nope', 42);
    expect(d).toMatchObject({ value: 42, reason: Reason.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, flagMetadata: { flagSetId: 'shop' } });
    expect(d.errorMessage).toContain('nope');
  });

  it('returns TYPE_MISMATCH with the code default when the variant has another type', () => {
    const d = load().resolveBoolean('banner-text', true);
    expect(d).toMatchObject({ value: true, reason: Reason.ERROR, errorCode: ErrorCode.TYPE_MISMATCH });
  });

  it('returns GENERAL when targeting names a variant the flag does not have', () => {
    const d = load().resolveString('bad-variant', 'dflt', { x: '!' });
    expect(d).toMatchObject({ value: 'dflt', reason: Reason.ERROR, errorCode: ErrorCode.GENERAL });
    expect(d.errorMessage).toContain("'nope!'");
  });

  it('serves floats through resolveNumber and truncates them in resolveInteger, as flagd converts to int64', () => {
    const ev = load();
    expect(ev.resolveNumber('ratio', 0).value).toBe(0.25);
    expect(ev.resolveInteger('ratio', 0)).toMatchObject({ value: 0, variant: 'low', reason: 'STATIC' });
    expect(ev.resolveInteger('banner-text', 7)).toMatchObject({ value: 7, errorCode: 'TYPE_MISMATCH' });
  });

  it('serves object variants, frozen so a caller cannot change the flag for everyone', () => {
    const d = load().resolveObject('config-object', {});
    expect(d.value).toEqual({ color: 'red', sizes: [1, 2] });
    expect(Object.isFrozen(d.value)).toBe(true);
    expect(() => {
      (d.value as { color: string }).color = 'blue';
    }).toThrow(TypeError);
  });

  it('resolveAll lists every enabled flag with its type, leaves disabled flags out, and reports errors without a value', () => {
    const all = load().resolveAll({ email: 'ann@vexil.dev', x: 'y' });
    const byKey = Object.fromEntries(all.map((f) => [f.flagKey, f]));
    expect(Object.keys(byKey).sort()).toEqual(
      ['bad-variant', 'banner-text', 'by-bool', 'by-number', 'clock', 'config-object', 'key-echo', 'new-checkout', 'ratio'].sort(),
    );
    expect(byKey['new-checkout']).toMatchObject({ value: true, type: 'boolean', reason: 'TARGETING_MATCH' });
    expect(byKey['ratio']).toMatchObject({ value: 0.25, type: 'number' });
    expect(byKey['bad-variant']).toMatchObject({ errorCode: 'GENERAL', reason: 'ERROR', type: 'string' });
    expect('value' in byKey['bad-variant']).toBe(false);
  });
});

describe('Evaluator: loading and re-syncing', () => {
  it('reports keys added, removed and changed', () => {
    const ev = new Evaluator();
    const first = ev.load(flags);
    expect(first.added.length).toBe(Object.keys(flags.flags).length);
    const next = structuredClone(flags) as typeof flags & { flags: Record<string, unknown> };
    delete (next.flags as Record<string, unknown>)['ratio'];
    (next.flags as Record<string, unknown>)['brand-new'] = { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'a' };
    next.flags['banner-text'].defaultVariant = 'bye';
    const r = ev.load(next);
    expect(r).toMatchObject({ added: ['brand-new'], removed: ['ratio'], updated: ['banner-text'] });
    expect(r.changed.sort()).toEqual(['banner-text', 'brand-new', 'ratio']);
  });

  it('does not recompile unchanged flags on a re-sync that changes another flag', () => {
    const ev = new Evaluator();
    ev.setFlags(JSON.stringify(flags));
    const before = ev.getDefinition('new-checkout');
    const next = structuredClone(flags);
    next.flags['banner-text'].defaultVariant = 'bye';
    expect(ev.setFlags(JSON.stringify(next))).toEqual(['banner-text']);
    expect(ev.getDefinition('new-checkout')).toBe(before);
  });

  it('treats a change to a referenced evaluator as a change to the flags that use it', () => {
    const ev = new Evaluator();
    ev.setFlags(JSON.stringify(flags));
    const next = structuredClone(flags);
    next.$evaluators.isInternal = { ends_with: [{ var: 'email' }, '@vexil.io'] };
    expect(ev.setFlags(JSON.stringify(next))).toEqual(['new-checkout']);
    expect(ev.resolveBoolean('new-checkout', false, { email: 'a@vexil.io' }).value).toBe(true);
  });

  it('treats a change of flag set metadata as a change to every flag', () => {
    const ev = new Evaluator();
    ev.setFlags(JSON.stringify(flags));
    const next = structuredClone(flags);
    next.metadata.version = '8';
    expect(ev.setFlags(JSON.stringify(next)).length).toBe(Object.keys(flags.flags).length);
  });

  it('returns no changes for an identical re-sync', () => {
    const ev = new Evaluator();
    const text = JSON.stringify(flags);
    ev.setFlags(text);
    expect(ev.setFlags(text)).toEqual([]);
    expect(ev.setFlags(JSON.stringify(JSON.parse(text)))).toEqual([]);
    expect(ev.setFlags(flags)).toEqual([]);
  });

  it("accepts flagd's array form of flags with a key on each", () => {
    const ev = new Evaluator();
    ev.setFlags({ flags: [{ key: 'a', state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' }] });
    expect(ev.resolveBoolean('a', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });
});
