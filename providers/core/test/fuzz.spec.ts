/**
 * Fuzz test: garbage flag sets and garbage contexts never make the engine throw, hang, answer
 * with a malformed result, or pollute prototypes.
 *
 * fast-check builds flag set documents as JSON text from a representation that can say anything
 * JSON can (own `__proto__` keys, duplicate keys, number tokens such as `1e999` and `-0`, lone
 * surrogates): flags with odd states, variants, default variants and metadata, and targeting made
 * of every standard and flagd operator (half the rules) plus unknown ones (`__proto__`,
 * `constructor`, `toString`, `log`, `method`, ...) and `$ref`s to present and absent evaluators
 * (the other half), with wrong arities, wrong argument types, bare (non-array) arguments, huge and
 * tiny numbers, weird keys and paths (`__proto__.polluted`, `constructor.prototype`, ...), objects
 * that carry `__proto__`/`constructor` members, and nesting up to ten levels, sometimes hundreds.
 * About one document in six is broken at the top. Contexts are real objects: the same weird keys
 * (own `__proto__` and `constructor`, `$flagd`), values of every JSON type plus NaN, Infinity,
 * -0, undefined, functions, symbols, bigints, dates, maps, null-prototype objects, throwing
 * getters, 300-level nesting and 2000-element arrays; non-ASCII and lone-surrogate targeting keys.
 *
 * For every document: `setFlags(text)` either loads or throws a FlagConfigError (name
 * "FlagConfigError", a string `code`), never anything else, and so do a reload of the same text,
 * a reload of an equal text, a strict evaluator, and `setFlags(JSON.parse(text))` (which must
 * also agree on loading, unless the text holds a number that parses to Infinity). Then every one
 * of 140 contexts goes through `resolveAll` and, for every third context, every flag key (plus
 * absent and prototype-ish keys) through the four typed resolvers and `resolveInteger`: nothing
 * throws; every reason is one of flagd's; an error code implies reason ERROR and is one of the
 * engine's codes; flagMetadata is an object; a result without an error code has the requested
 * type or is the caller's default. The run must include at least 100,000 evaluations of compiled
 * rules (flags with targeting that did not fail to compile) against contexts. Afterwards
 * `({}).polluted` is undefined and Object.prototype, Array.prototype and Function.prototype have
 * exactly their original keys.
 *
 * Hangs: the test has a 120 s vitest timeout and normally takes about 10 s. (A synchronous
 * infinite loop cannot be interrupted by vitest; it would show as this file never finishing.)
 * Failure messages print contexts through a bounded printer, since contexts can be huge.
 * Seeded (FC_SEED overrides; FC_RUNS sets the number of documents).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, Evaluator, Reason } from '../src/index.js';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 0xf022;
const NUM_DOCS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 1000;
const CONTEXTS_PER_DOC = 140;
const MIN_RULE_EVALUATIONS = 100_000;

// ---------------------------------------------------------------------------------------------
// A JSON representation that can hold what plain objects cannot (own __proto__, duplicate keys,
// raw number tokens), serialized by hand.

type J = null | boolean | number | string | J[] | { obj: [string, J][] } | { raw: string };

function isObj(j: J): j is { obj: [string, J][] } {
  return j !== null && typeof j === 'object' && !Array.isArray(j) && 'obj' in j;
}

function toText(j: J): string {
  if (j === null || typeof j === 'boolean') return String(j);
  if (typeof j === 'number') return Number.isFinite(j) ? (Object.is(j, -0) ? '-0' : JSON.stringify(j)) : 'null';
  if (typeof j === 'string') return JSON.stringify(j);
  if (Array.isArray(j)) return `[${j.map(toText).join(',')}]`;
  if (isObj(j)) return `{${j.obj.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
  return j.raw;
}

const WEIRD_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'length',
  '', '.', '..', 'a.b', '$flagd', 'targetingKey', 'polluted', '0', '-1', '1e3', ' ', 'ü', '\u0000', '𝒳', '\ud800',
];
const KEYS = ['a', 'b', 'c', 'x', 'email', 'age', 'tier', 'arr', 'nested', ...WEIRD_KEYS];
const PATHS = [
  ...KEYS, '__proto__.polluted', 'constructor.prototype', 'constructor.prototype.polluted', 'a.__proto__', 'nested.__proto__',
  '$flagd.flagKey', '$flagd.timestamp', '$flagd.__proto__', '$flagd.constructor', 'a.b.c', 'arr.0', 'arr.length', 'arr.-1',
  'nested.a.b', 'toString.call', 'constructor.name', '__proto__.__proto__', 'email.length', 'email.0',
];
const STANDARD_OPS = [
  'var', 'missing', 'missing_some', 'if', '?:', 'and', 'or', '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', '%',
  '+', '-', '*', '/', 'min', 'max', 'merge', 'cat', 'substr', 'in', 'map', 'filter', 'reduce', 'all', 'none', 'some',
];
const FLAGD_OPS = ['fractional', 'sem_ver', 'starts_with', 'ends_with'];
const UNKNOWN_OPS = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'log', 'method', '$ref', '', 'Var', 'IF',
  'length', 'some.thing', 'nope', 'prototype', '__defineSetter__',
];

const hugeNumber = fc.constantFrom(
  0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53 + 2, 2 ** 31, 2 ** 32, -(2 ** 31), 2147483647, 2147483648, 1e21, 0.1, 100,
);
const rawNumber = fc.constantFrom('1e999', '-1e999', '123456789012345678901234567890', '-0', '0.0000000000000000000001', '1E2');
const number: fc.Arbitrary<J> = fc.oneof(
  { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 4 },
  { arbitrary: hugeNumber, weight: 3 },
  { arbitrary: fc.double(), weight: 2 },
  { arbitrary: rawNumber.map((raw) => ({ raw })), weight: 1 },
);
const string: fc.Arbitrary<J> = fc.oneof(
  { arbitrary: fc.constantFrom(...KEYS, ...PATHS, ...UNKNOWN_OPS, 'on', 'off', 'A', '1.2.3', 'v1.0.0-alpha', '=', '^', '~', '>='), weight: 6 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 10 }), weight: 3 },
  { arbitrary: fc.constantFrom('x'.repeat(5000), '9'.repeat(400), 'a.'.repeat(300)), weight: 1 },
);
const primitive: fc.Arbitrary<J> = fc.oneof(number, string, fc.boolean(), fc.constant(null));

const objOf = (value: fc.Arbitrary<J>, maxKeys: number): fc.Arbitrary<J> =>
  fc.array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: maxKeys }).map((obj) => ({ obj }));

/** Data: any JSON, with weird keys and own __proto__ (as JSON.parse makes it). */
const data: fc.Arbitrary<J> = fc.letrec<{ d: J }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    { arbitrary: primitive, weight: 6 },
    { arbitrary: fc.array(tie('d'), { maxLength: 4 }), weight: 2 },
    { arbitrary: objOf(tie('d'), 4), weight: 2 },
  ),
})).d;

const EVALUATORS = ['ev1', 'ev2', '__proto__', 'constructor'];

/** Metadata: mostly objects of primitives (weird keys included), now and then anything at all. */
const metadata: fc.Arbitrary<J> = fc.oneof({ arbitrary: objOf(primitive, 4), weight: 40 }, { arbitrary: data, weight: 1 });

/**
 * Rules: every operator, arities from 0 to 5, bare arguments, literals of every kind. With
 * `unknown`, also unknown operators and `$ref`s (which make most of a big rule fail to compile, so
 * half the rules go without them and actually run).
 */
function ruleAt(depth: number, unknown: boolean): fc.Arbitrary<J> {
  const leaf: fc.Arbitrary<J> = fc.oneof(
    { arbitrary: primitive, weight: 4 },
    { arbitrary: fc.constantFrom(...PATHS).map((p) => ({ obj: [['var', p]] }) as J), weight: 4 },
    { arbitrary: fc.tuple(fc.constantFrom(...PATHS), primitive).map(([p, d]) => ({ obj: [['var', [p, d]]] }) as J), weight: 2 },
    ...(unknown ? [{ arbitrary: fc.constantFrom(...EVALUATORS, 'missingEvaluator').map((n) => ({ obj: [['$ref', n]] }) as J), weight: 1 }] : []),
    // Objects in a rule are operations when they have one key, so only the garbage half gets them.
    { arbitrary: unknown ? data : fc.oneof(primitive, fc.array(primitive, { maxLength: 4 })), weight: 1 },
  );
  if (depth <= 0) return leaf;
  const sub = ruleAt(depth - 1, unknown);
  const args: fc.Arbitrary<J> = fc.oneof(
    { arbitrary: fc.array(sub, { maxLength: 5 }), weight: 6 },
    { arbitrary: sub, weight: 2 },
    { arbitrary: fc.array(fc.array(sub, { maxLength: 3 }), { maxLength: 4 }), weight: 1 },
  );
  const op = fc.oneof(
    { arbitrary: fc.constantFrom(...STANDARD_OPS), weight: 8 },
    { arbitrary: fc.constantFrom(...FLAGD_OPS), weight: 4 },
    ...(unknown ? [{ arbitrary: fc.constantFrom(...UNKNOWN_OPS), weight: 1 }] : []),
  );
  const bucket: fc.Arbitrary<J> = fc.oneof(
    fc.tuple(fc.oneof(string, sub), fc.oneof(number, sub)).map((b) => [...b] as J),
    fc.array(fc.oneof(primitive, sub), { maxLength: 3 }),
  );
  return fc.oneof(
    { arbitrary: leaf, weight: 2 },
    { arbitrary: fc.tuple(op, args).map(([o, a]) => ({ obj: [[o, a]] }) as J), weight: 8 },
    { arbitrary: fc.tuple(fc.oneof(string, sub), fc.array(bucket, { maxLength: 5 })).map(([by, bs]) => ({ obj: [['fractional', [by, ...bs]]] }) as J), weight: 1 },
    { arbitrary: fc.array(bucket, { maxLength: 5 }).map((bs) => ({ obj: [['fractional', bs]] }) as J), weight: 1 },
    // Two keys: data, not an operation (or, with __proto__ first, a trap for naive copying).
    { arbitrary: fc.tuple(op, args, op, args).map(([o1, a1, o2, a2]) => ({ obj: [[o1, a1], [o2, a2]] }) as J), weight: 1 },
    { arbitrary: sub.map((s) => ({ obj: [['__proto__', { obj: [['polluted', s]] }], ['constructor', { obj: [['prototype', s]] }]] }) as J), weight: 1 },
    ...(unknown ? [{ arbitrary: sub.map((s) => ({ obj: [['__proto__', { obj: [['polluted', s]] }]] }) as J), weight: 1 }] : []),
  );
}

/** A rule nested `n` deep: past the compiler's depth limit, and past the document limit. */
const deepRule = fc.integer({ min: 100, max: 700 }).chain((n) =>
  fc.constantFrom('!', 'if', 'and', 'merge', 'var').map((o) => {
    let r: J = { obj: [['var', 'a']] };
    for (let i = 0; i < n; i++) r = { obj: [[o, [r]]] };
    return r;
  }),
);

const rule: fc.Arbitrary<J> = fc.oneof(
  { arbitrary: ruleAt(5, false), weight: 30 },
  { arbitrary: ruleAt(5, true), weight: 30 },
  { arbitrary: ruleAt(10, true), weight: 3 },
  { arbitrary: deepRule, weight: 1 },
);

const variantName = fc.constantFrom('on', 'off', 'A', 'true', 'false', '1', '0', 'null', '[object Object]', ...WEIRD_KEYS);
const flag: fc.Arbitrary<J> = fc
  .record({
    state: fc.oneof({ arbitrary: fc.constantFrom<J>('ENABLED', 'ENABLED', 'DISABLED'), weight: 150 }, { arbitrary: primitive, weight: 1 }),
    variants: fc.oneof(
      { arbitrary: fc.array(fc.tuple(variantName, data), { minLength: 1, maxLength: 6 }).map((obj) => ({ obj }) as J), weight: 150 },
      { arbitrary: data, weight: 1 },
    ),
    defaultVariant: fc.oneof(
      { arbitrary: fc.constant<J | 'own'>('own'), weight: 120 },
      { arbitrary: fc.constantFrom<J>(null, ''), weight: 20 },
      { arbitrary: fc.oneof(variantName as fc.Arbitrary<J>, primitive), weight: 1 },
    ),
    targeting: fc.oneof({ arbitrary: rule, weight: 20 }, { arbitrary: data, weight: 1 }),
    metadata,
    extra: fc.constantFrom<[string, J][]>([], [], [], [['__proto__', { obj: [['polluted', 'yes']] }]], [['state', 'ENABLED']]),
    order: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  })
  .map(({ state, variants, defaultVariant, targeting, metadata, extra, order }) => {
    const entries: [string, J][] = [['state', state], ['variants', variants]];
    // Each optional member is left out now and then; the default variant is usually one of the variants.
    if (order[0] || order[4]) {
      const own = isObj(variants) && variants.obj.length > 0 ? variants.obj[variants.obj.length - 1][0] : 'on';
      entries.push(['defaultVariant', defaultVariant === 'own' ? own : defaultVariant]);
    }
    if (order[1] || order[2]) entries.push(['targeting', targeting]);
    if (order[3]) entries.push(['metadata', metadata]);
    return { obj: [...entries, ...extra] } as J;
  });

const FLAG_KEYS = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', ...WEIRD_KEYS];

const doc: fc.Arbitrary<string> = fc
  .record({
    flags: fc.array(fc.tuple(fc.constantFrom(...FLAG_KEYS), flag), { minLength: 1, maxLength: 8 }),
    evaluators: fc.array(fc.tuple(fc.constantFrom(...EVALUATORS), ruleAt(3, true)), { maxLength: 3 }),
    metadata,
    broken: fc.oneof({ arbitrary: fc.constant(-1), weight: 5 }, { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 1 }),
  })
  .map(({ flags, evaluators, metadata, broken }) => {
    const root: [string, J][] = [['flags', { obj: flags }], ['$evaluators', { obj: evaluators }], ['metadata', metadata]];
    switch (broken) {
      case 0:
        return toText({ obj: root }).slice(0, -3);
      case 1:
        return toText([{ obj: root }]);
      case 2:
        return toText({ obj: [['flags', flags.map(([k, f]) => ({ obj: [['key', k], ...(isObj(f) ? f.obj : [])] }) as J)]] });
      case 3:
        return toText({ obj: [['flags', 'nope'], ['$evaluators', 7]] });
      case 4:
        return toText({ obj: [['__proto__', { obj: [['polluted', true]] }], ...root] });
      case 5:
        return `${'['.repeat(600)}${']'.repeat(600)}`;
      default:
        return toText({ obj: root });
    }
  });

// ---------------------------------------------------------------------------------------------
// Contexts: real objects, with what JSON cannot carry too.

type Ctx = Record<string, unknown>;

/** Builds objects with defineProperty, so "__proto__" becomes an own key as JSON.parse makes it. */
function materialize(j: J): unknown {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map(materialize);
  if (isObj(j)) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of j.obj) Object.defineProperty(o, k, { value: materialize(v), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return Number(j.raw);
}

const exotic = fc.constantFrom<() => unknown>(
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => -0,
  () => undefined,
  () => () => 'called',
  () => Symbol('s'),
  () => 10n ** 30n,
  () => new Date(0),
  () => Object.create(null),
  () => Object.assign(Object.create(null), { a: 1, length: 2 }),
  () => Array.from({ length: 2000 }, (_, i) => i),
  () => ({ toString: () => 'custom', valueOf: () => 42 }),
  () => ({ toString: null, valueOf: null }),
  () => new Map([['a', 1]]),
  () =>
    Object.defineProperty({}, 'a', {
      enumerable: true,
      get() {
        throw new Error('getter called');
      },
    }),
  () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 300; i++) deep = i % 2 === 0 ? { a: deep } : [deep];
    return deep;
  },
);

const context: fc.Arbitrary<Ctx> = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...KEYS), data), { maxLength: 8 }),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), exotic), { maxLength: 3 }),
    fc.oneof(string, number, fc.constant(undefined), fc.constantFrom('josé', '🙂', '\ud800x', 'user-1')),
    fc.boolean(),
    fc.oneof({ arbitrary: fc.constant(false), weight: 20 }, { arbitrary: fc.constant(true), weight: 1 }),
  )
  .map(([plain, odd, targetingKey, nullProto, throwingGetter]) => {
    const ctx = (nullProto ? Object.create(null) : {}) as Ctx;
    for (const [k, v] of plain) Object.defineProperty(ctx, k, { value: materialize(v), enumerable: true, writable: true, configurable: true });
    for (const [k, make] of odd) Object.defineProperty(ctx, k, { value: make(), enumerable: true, writable: true, configurable: true });
    if (targetingKey !== undefined) ctx.targetingKey = materialize(targetingKey as J);
    if (throwingGetter) {
      Object.defineProperty(ctx, 'email', {
        enumerable: true,
        configurable: true,
        get() {
          throw new Error('context getter called');
        },
      });
    }
    return ctx;
  });

// ---------------------------------------------------------------------------------------------
// Checks

const REASONS = new Set<string>(Object.values(Reason));
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
const DEFAULTS = { boolean: true, string: 'code-default', number: 12345, object: { codeDefault: true } } as const;
const PROBE_KEYS = ['no-such-flag', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''];

/** A bounded printout for failure messages: contexts may be huge or shared-structure DAGs. */
function describeValue(v: unknown, depth = 0): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...(${v.length} chars)` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return '[function]';
  if (typeof v === 'symbol' || typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return Object.is(v, -0) ? '-0' : String(v);
  if (depth >= 4) return '...';
  if (Array.isArray(v)) {
    const items = v.slice(0, 8).map((x) => describeValue(x, depth + 1));
    return `[${items.join(',')}${v.length > 8 ? `,...(${v.length} items)` : ''}]`;
  }
  if (v instanceof Date || v instanceof Map) return `[${Object.prototype.toString.call(v)}]`;
  const keys = Object.keys(v as object);
  const proto = Object.getPrototypeOf(v) === null ? '(null prototype) ' : '';
  const parts = keys.slice(0, 12).map((k) => {
    let x: string;
    try {
      x = describeValue((v as Record<string, unknown>)[k], depth + 1);
    } catch {
      x = '[throwing getter]';
    }
    return `${JSON.stringify(k)}:${x}`;
  });
  return `${proto}{${parts.join(',')}${keys.length > 12 ? ',...' : ''}}`;
}

function checkResult(r: Record<string, unknown>, where: () => string, kind?: keyof typeof DEFAULTS): void {
  if (!REASONS.has(r.reason as string)) throw new Error(`${where()}: reason ${String(r.reason)} is not one of flagd's`);
  if (r.errorCode !== undefined) {
    if (r.reason !== Reason.ERROR) throw new Error(`${where()}: errorCode ${String(r.errorCode)} with reason ${String(r.reason)}`);
    if (!ERROR_CODES.has(r.errorCode as string)) throw new Error(`${where()}: unknown errorCode ${String(r.errorCode)}`);
  }
  if (r.flagMetadata === null || typeof r.flagMetadata !== 'object') throw new Error(`${where()}: flagMetadata is ${String(r.flagMetadata)}`);
  if (kind !== undefined && r.errorCode === undefined && r.value !== DEFAULTS[kind] && typeof r.value !== kind) {
    throw new Error(`${where()}: ${kind} resolver returned ${typeof r.value} ${String(r.value)} without an error`);
  }
  if (kind === undefined && typeof r.flagKey !== 'string') throw new Error(`${where()}: resolveAll entry without a string flagKey`);
}

function checkLoad(ev: Evaluator, input: string | object): boolean {
  try {
    ev.setFlags(input);
    return true;
  } catch (e) {
    const err = e as { name?: unknown; code?: unknown; message?: unknown };
    if (err?.name !== 'FlagConfigError' || typeof err.code !== 'string') {
      throw new Error(`setFlags threw something other than a FlagConfigError: ${String(err?.name)}: ${String(err?.message)}`);
    }
    return false;
  }
}

function hasNonFinite(v: unknown, depth = 0): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === null || typeof v !== 'object' || depth > 600) return false;
  return Object.values(v).some((x) => hasNonFinite(x, depth + 1));
}

const protoKeys = (o: object) => Reflect.ownKeys(o).map(String).sort();
let before: { object: string[]; array: string[]; fn: string[] };
let ruleEvaluations = 0;
const stats = { loaded: 0, refused: 0, outcomes: {} as Record<string, number> };

beforeAll(() => {
  before = { object: protoKeys(Object.prototype), array: protoKeys(Array.prototype), fn: protoKeys(Function.prototype) };
});

afterAll(() => {
  // Leave nothing behind for other files even if a check failed.
  for (const k of protoKeys(Object.prototype)) if (!before.object.includes(k)) delete (Object.prototype as Record<string, unknown>)[k];
});

describe('fuzzing the evaluator with garbage flag sets and contexts', () => {
  it(`never throws from resolve*/resolveAll, answers well-formed results, and refuses bad sets only with FlagConfigError (>= ${MIN_RULE_EVALUATIONS} compiled-rule x context evaluations)`, () => {
    fc.assert(
      fc.property(doc, fc.array(context, { minLength: CONTEXTS_PER_DOC, maxLength: CONTEXTS_PER_DOC }), (text, contexts) => {
        const ev = new Evaluator({ now: () => 1_700_000_000_000 });
        const loaded = checkLoad(ev, text);
        // The same document handed over as an object must be accepted or refused the same way.
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        // (Text like 1e999 parses to Infinity, which an object handed to setFlags may not hold: skip those.)
        if (parsed !== null && typeof parsed === 'object' && !hasNonFinite(parsed)) {
          const evObj = new Evaluator({ now: () => 1_700_000_000_000 });
          const loadedObj = checkLoad(evObj, parsed);
          if (loadedObj !== loaded) throw new Error(`setFlags(text) ${loaded ? 'loaded' : 'refused'} but setFlags(object) ${loadedObj ? 'loaded' : 'refused'}`);
        }
        const keys = [...ev.keys(), ...PROBE_KEYS];
        // Reloading the same document (cached text, then equal text that is not identical), and
        // loading it strictly, must keep to the same contract.
        if (checkLoad(ev, text) !== loaded || checkLoad(ev, ` ${text}`) !== loaded) throw new Error('reloading the same flag set changed whether it loads');
        checkLoad(new Evaluator({ strict: true }), text);
        if (loaded) stats.loaded++;
        else stats.refused++;
        // Flags with targeting: resolveAll runs their rule (unless it failed to compile: PARSE_ERROR).
        const withRules = new Set(
          ev.keys().filter((k) => {
            const t = ev.getDefinition(k)?.targeting;
            return t !== undefined && t !== null && typeof t === 'object' && Object.keys(t).length > 0;
          }),
        );
        contexts.forEach((ctx, i) => {
          // Built only when a check fails: printing a context can be costly.
          const where = (what: string) => `${what}\n  flag set: ${text.slice(0, 3000)}\n  context: ${describeValue(ctx)}`;
          let all: ReturnType<Evaluator['resolveAll']>;
          try {
            all = ev.resolveAll(ctx);
          } catch (e) {
            throw new Error(where(`resolveAll threw ${String(e)}`));
          }
          for (const r of all) {
            checkResult(r as unknown as Record<string, unknown>, () => where(`resolveAll "${r.flagKey}"`));
            stats.outcomes[r.errorCode ?? r.reason] = (stats.outcomes[r.errorCode ?? r.reason] ?? 0) + 1;
            if (withRules.has(r.flagKey) && r.errorCode !== ErrorCode.PARSE_ERROR) ruleEvaluations++;
          }
          if (i % 3 !== 0) return;
          for (const key of keys) {
            const calls: [keyof typeof DEFAULTS | undefined, () => unknown][] = [
              ['boolean', () => ev.resolveBoolean(key, DEFAULTS.boolean, ctx)],
              ['string', () => ev.resolveString(key, DEFAULTS.string, ctx)],
              ['number', () => ev.resolveNumber(key, DEFAULTS.number, ctx)],
              ['number', () => ev.resolveInteger(key, DEFAULTS.number, ctx)],
              ['object', () => ev.resolveObject(key, DEFAULTS.object, ctx)],
            ];
            for (const [kind, call] of calls) {
              let r: unknown;
              try {
                r = call();
              } catch (e) {
                throw new Error(where(`resolve ${kind} "${key}" threw ${String(e)}`));
              }
              checkResult(r as Record<string, unknown>, () => where(`resolve ${kind} "${key}"`), kind);
            }
          }
        });
      }),
      { numRuns: NUM_DOCS, seed: SEED },
    );
    console.info(`fuzz: ${stats.loaded} flag sets loaded, ${stats.refused} refused; ${ruleEvaluations} compiled-rule x context evaluations; resolveAll outcomes ${JSON.stringify(stats.outcomes)}`);
    expect(ruleEvaluations).toBeGreaterThanOrEqual(MIN_RULE_EVALUATIONS);
  }, 120_000);

  it('leaves no trace on prototypes: ({}).polluted is undefined and Object/Array/Function prototypes keep their keys', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(protoKeys(Object.prototype)).toEqual(before.object);
    expect(protoKeys(Array.prototype)).toEqual(before.array);
    expect(protoKeys(Function.prototype)).toEqual(before.fn);
  });
});
