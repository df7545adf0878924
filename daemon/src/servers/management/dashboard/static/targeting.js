// @ts-check
// Pure functions over flag definitions and targeting rules (flagd's JSON Logic): no DOM, no
// network, so that the tests can run them in Node as well as the page in the browser.
// targeting.d.ts declares the same signatures for the Node tests (tsconfig.test.json reads no JS).

/** @typedef {import('./targeting.js').Json} Json */
/** @typedef {import('./targeting.js').Rule} Rule */
/** @typedef {{ on: string, off: string }} Pair */
/** @typedef {{ variant: string, weight: number, percent: number }} SplitPart */
/** @typedef {{ offset: number, expected: string }} JsonErrorPlace */

/**
 * Parses JSON text; on a syntax error, says where (1-based line and column) instead of throwing.
 * @param {string} text
 * @returns {{ ok: true, value: Json } | { ok: false, message: string, line: number, column: number, offset: number, detail: string }}
 */
export function parseJson(text) {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    // Engines word (and place) syntax errors differently, some without a position: find it here.
    const { offset, expected } = locateJsonError(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    const found = offset >= text.length ? 'the end of the text' : JSON.stringify(text[offset]);
    return { ok: false, message: `expected ${expected} but found ${found}`, line, column, offset, detail: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The offset of the first JSON syntax error in `text`, and what was expected there.
 * @param {string} text
 * @returns {JsonErrorPlace}
 */
export function locateJsonError(text) {
  let i = 0;
  /** @param {string} expected */
  const fail = (expected) => {
    /** @type {JsonErrorPlace} */
    const place = { offset: i, expected };
    throw place;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  /** @param {string} word */
  const literal = (word) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`"${word}"`);
      i++;
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('a closing quote');
      const c = text[i];
      if (c === '"') return void i++;
      if (c < ' ') fail('no control character inside a string');
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] || '')) fail('a hex digit');
          continue;
        }
        if (!'"\\/bfnrt'.includes(text[i] || 'x')) fail('an escape character');
      }
      i++;
    }
  };
  /**
   * Moves past what `re` (sticky) matches at i.
   * @param {RegExp} re
   * @returns {boolean} whether it matched at least one character
   */
  const skip = (re) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m) i += m[0].length;
    return m !== null && m[0] !== '';
  };
  // Part by part, so that a fault is placed at the first character that does not fit: an integer
  // part (a lone 0, or digits), then a fraction and an exponent, each needing digits once begun.
  const number = () => {
    skip(/-/y);
    if (!skip(/0|\d+/y)) fail('a digit');
    if (skip(/\./y) && !skip(/\d+/y)) fail('a digit');
    if (skip(/[eE][+-]?/y) && !skip(/\d+/y)) fail('a digit');
  };
  // An object's or an array's members, comma-separated up to `close`; the opening bracket is at i.
  /**
   * @param {string} close
   * @param {() => void} member
   */
  const members = (close, member) => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      member();
      ws();
      if (text[i] !== ',') break;
      i++;
    }
    if (text[i] !== close) fail(`"," or "${close}"`);
    i++;
  };
  const property = () => {
    ws();
    if (text[i] !== '"') fail('a property name in double quotes');
    string();
    ws();
    if (text[i] !== ':') fail('":"');
    i++;
    value();
  };
  /** @returns {void} */
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') return members('}', property);
    if (c === '[') return members(']', value);
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    fail('a value');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the text');
  } catch (e) {
    // fail() throws a place; anything else is a bug here, not in the text.
    const place = /** @type {Partial<JsonErrorPlace> | null} */ (e);
    if (place && typeof place.offset === 'number') return /** @type {JsonErrorPlace} */ (place);
    throw e;
  }
  return { offset: text.length, expected: 'valid JSON' };
}

/**
 * @param {unknown} x
 * @returns {x is { [key: string]: unknown }}
 */
const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
/** @param {unknown} t */
const isEmptyTargeting = (t) => t === undefined || t === null || (isObject(t) && Object.keys(t).length === 0);

/**
 * The two variants of a boolean on/off flag: { on, off } (the variant names whose values are
 * true and false), or undefined when the flag is not exactly that.
 * @param {unknown} variants
 * @returns {Pair | undefined}
 */
export function booleanPair(variants) {
  if (!isObject(variants)) return undefined;
  const names = Object.keys(variants);
  if (names.length !== 2) return undefined;
  const on = names.find((n) => variants[n] === true);
  const off = names.find((n) => variants[n] === false);
  return on !== undefined && off !== undefined ? { on, off } : undefined;
}

/**
 * Splits a `fractional` argument list into its optional bucketing expression and its weighted
 * buckets. flagd: `{"fractional": [<bucketBy>?, [variant, weight?], ...]}`; the first element is the
 * bucketing expression when it is not an array (default: flag key + targetingKey).
 * @param {unknown} args
 * @returns {{ bucketBy: Json | undefined, buckets: Json[][] } | undefined}
 */
export function fractionalParts(args) {
  if (!Array.isArray(args)) return undefined;
  const hasBucketBy = args.length > 0 && !Array.isArray(args[0]);
  const buckets = hasBucketBy ? args.slice(1) : args;
  if (!buckets.every((b) => Array.isArray(b) && b.length >= 1 && b.length <= 2)) return undefined;
  return { bucketBy: hasBucketBy ? args[0] : undefined, buckets };
}

/**
 * Where the rollout of a rule is: the top-level `fractional`, or one in the final "else" branch of
 * an `if` chain (targeted rules first, then the rollout for everyone else). Returns a path of
 * argument indexes into nested `if`s, or undefined.
 * @param {unknown} rule
 * @param {number[]} [path]
 * @returns {number[] | undefined}
 */
function findFractional(rule, path = []) {
  if (!isObject(rule)) return undefined;
  const keys = Object.keys(rule);
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'fractional') return path;
  if (keys[0] === 'if' && Array.isArray(rule.if) && rule.if.length % 2 === 1) {
    return findFractional(rule.if[rule.if.length - 1], [...path, rule.if.length - 1]);
  }
  return undefined;
}

/**
 * The rule at a path findFractional returned: an `if` at each step, so the walk needs no checks.
 * @param {unknown} rule
 * @param {number[]} path
 * @returns {any} the fractional (or, one step short, its `if`), of a shape findFractional checked
 */
function getAt(rule, path) {
  return path.reduce((/** @type {any} */ r, i) => r.if[i], rule);
}

/**
 * The weighted buckets of `fractional` as { variant, weight, percent } (undefined if any weight is an expression).
 * @param {unknown} fractionalArgs
 * @returns {SplitPart[] | undefined}
 */
export function splitOf(fractionalArgs) {
  const parts = fractionalParts(fractionalArgs);
  if (!parts) return undefined;
  // flagd: a bucket without a weight weighs 1.
  const weights = parts.buckets.map((b) => (b.length === 2 ? b[1] : 1));
  if (!weights.every(/** @returns {w is number} */ (w) => typeof w === 'number' && Number.isInteger(w) && w >= 0)) return undefined;
  const total = weights.reduce((a, b) => a + b, 0);
  return parts.buckets.map((b, i) => ({
    variant: typeof b[0] === 'string' ? b[0] : JSON.stringify(b[0]),
    weight: weights[i],
    percent: total === 0 ? 0 : (100 * weights[i]) / total,
  }));
}

/**
 * The rollout split of a flag's targeting (see findFractional), or undefined when it has none.
 * @param {unknown} targeting
 * @returns {SplitPart[] | undefined}
 */
export function rolloutSplit(targeting) {
  const path = findFractional(targeting);
  if (path === undefined) return undefined;
  return splitOf(getAt(targeting, path).fractional);
}

/**
 * "on 5 % · off 95 %", for the list.
 * @param {{ variant: string, percent: number }[]} split
 */
export function describeSplit(split) {
  /** @param {number} p */
  const fmt = (p) => (Number.isInteger(p) ? String(p) : p.toFixed(1));
  return split.map((s) => `${s.variant} ${fmt(s.percent)} %`).join(' · ');
}

/**
 * The percentage of `on` in a flag's rollout, or undefined when the rollout is not a plain on/off split.
 * @param {unknown} targeting
 * @param {Pair} pair
 * @returns {number | undefined}
 */
export function rolloutPercent(targeting, pair) {
  const split = rolloutSplit(targeting);
  if (!split || split.some((s) => s.variant !== pair.on && s.variant !== pair.off)) return undefined;
  return split.filter((s) => s.variant === pair.on).reduce((a, s) => a + s.percent, 0);
}

/**
 * The targeting with its rollout set to `percent` % `on` and the rest `off`:
 * `{"fractional": [["on", P], ["off", 100 - P]]}`. An existing rollout is replaced where it is
 * (top level, or the final else of an `if` chain, so targeted rules stay in front of it) and keeps
 * its bucketing expression; a targeting that is only `if` rules with a null or variant else gets
 * the rollout as its new else; anything else is replaced.
 * @param {unknown} targeting
 * @param {number} percent
 * @param {Pair} pair
 * @returns {Rule}
 */
export function withRollout(targeting, percent, pair) {
  const p = Math.round(Math.min(100, Math.max(0, Number(percent))));
  const buckets = [
    [pair.on, p],
    [pair.off, 100 - p],
  ];
  const path = findFractional(targeting);
  if (path !== undefined) {
    const copy = /** @type {Rule} */ (structuredClone(targeting));
    const parts = fractionalParts(getAt(copy, path).fractional);
    const fractional = parts && parts.bucketBy !== undefined ? [parts.bucketBy, ...buckets] : buckets;
    if (path.length === 0) return { fractional };
    const parent = getAt(copy, path.slice(0, -1));
    parent.if[path[path.length - 1]] = { fractional };
    return copy;
  }
  if (isObject(targeting) && Array.isArray(targeting.if) && Object.keys(targeting).length === 1) {
    const args = targeting.if;
    const last = args.length % 2 === 1 ? args[args.length - 1] : null;
    if (last === null || typeof last === 'string') {
      const conditions = args.length % 2 === 1 ? args.slice(0, -1) : args;
      return { if: [...structuredClone(conditions), { fractional: buckets }] };
    }
  }
  return { fractional: buckets };
}

/**
 * The operators the "add targeted rule" form offers: label → JSON Logic condition builder.
 * @type {Record<string, { label: string, build(attr: string, value: string): Rule }>}
 */
export const RULE_OPERATORS = {
  ends_with: { label: 'ends with', build: (attr, value) => ({ ends_with: [{ var: attr }, value] }) },
  starts_with: { label: 'starts with', build: (attr, value) => ({ starts_with: [{ var: attr }, value] }) },
  equals: { label: 'equals', build: (attr, value) => ({ '==': [{ var: attr }, value] }) },
  in_list: {
    label: 'is one of (comma-separated)',
    build: (attr, value) => ({
      in: [
        { var: attr },
        value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ],
    }),
  },
  contains: { label: 'contains', build: (attr, value) => ({ in: [value, { var: attr }] }) },
  sem_ver_gte: { label: 'version ≥ (sem_ver)', build: (attr, value) => ({ sem_ver: [{ var: attr }, '>=', value] }) },
};

/**
 * The condition of a targeted rule: `attribute <operator> value`.
 * @param {string} attribute
 * @param {string} operator a key of RULE_OPERATORS
 * @param {string} value
 * @returns {Rule}
 */
export function buildCondition(attribute, operator, value) {
  const op = RULE_OPERATORS[operator];
  if (!op) throw new Error(`unknown operator ${operator}`);
  return op.build(attribute, value);
}

/**
 * The targeting with a rule `condition → variant` in front of what it did before:
 * `{"if": [condition, variant, <previous targeting or null>]}`. A previous `if` chain is extended
 * instead of nested (`{"if": [condition, variant, c1, v1, ..., else]}`, the same meaning).
 * @param {unknown} targeting
 * @param {Rule} condition
 * @param {string} variant
 * @returns {Rule}
 */
export function withTargetedRule(targeting, condition, variant) {
  if (isEmptyTargeting(targeting)) return { if: [condition, variant, null] };
  if (isObject(targeting) && Object.keys(targeting).length === 1 && Array.isArray(targeting.if) && targeting.if.length >= 2) {
    const rest = structuredClone(targeting.if);
    if (rest.length % 2 === 0) rest.push(null);
    return { if: [condition, variant, ...rest] };
  }
  return { if: [condition, variant, /** @type {Json} */ (structuredClone(targeting))] };
}

/**
 * The paths where two JSON values differ, for the audit view:
 * [{ path: '$.targeting.fractional[0][1]', before, after }] (a missing side is undefined).
 * @param {unknown} before
 * @param {unknown} after
 * @param {string} [path]
 * @param {{ path: string, before: unknown, after: unknown }[]} [out]
 */
export function jsonDiff(before, after, path = '$', out = []) {
  if (JSON.stringify(before) === JSON.stringify(after)) return out;
  if (isObject(before) && isObject(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const sub = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      jsonDiff(before[k], after[k], sub, out);
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((b, i) => jsonDiff(b, after[i], `${path}[${i}]`, out));
    return out;
  }
  out.push({ path, before, after });
  return out;
}

/**
 * Whether a flag is killed: DISABLED by the kill switch and not since re-enabled or archived.
 * @param {{ state: string, metadata?: Record<string, unknown> }} flag
 */
export function isKilled(flag) {
  const m = flag.metadata || {};
  return flag.state === 'DISABLED' && m.killedAt !== undefined && m.archived !== true;
}

/** @param {{ metadata?: Record<string, unknown> }} flag */
export function isArchived(flag) {
  return (flag.metadata || {}).archived === true;
}
