/**
 * A JSON Logic compiler: a rule becomes a tree of closures once, when its flag set is loaded, and
 * evaluation only calls them. No `eval` or `new Function`, so the engine survives a strict CSP and
 * edge runtimes. Standard operators follow json-logic-js 2.x (the reference semantics named by the
 * issue), including its coercions and which operand errors surface; flagd's operators live in
 * `flagd-operators.ts` and plug in through the same `OperatorCompiler` shape.
 *
 * Deliberate departures from json-logic-js, all for safety:
 * - `var` sees own properties only (no `__proto__`, `constructor`, methods), and never returns functions.
 * - `log` and `method` do not exist (flagd has neither; `method` calls arbitrary host functions).
 * - An unknown operator is a compile error (json-logic-js throws only when the branch runs); flagd
 *   and flagd-core reject such a rule when it is loaded.
 */
import { RuleError, pathKey } from '../errors.js';

/** Per-evaluation state, reused across evaluations (evaluation is synchronous and never re-entered). */
export interface Env {
  /** The root data: the caller's evaluation context. `$flagd` lookups at the root resolve here. */
  ctx: unknown;
  flagKey: string;
  /** `$flagd.timestamp` (seconds), computed on first use in an evaluation; -1 until then. */
  ts: number;
  now: () => number;
  /** False for plain JSON Logic (compileRule without flagd operators): no `$flagd` in the data. */
  flagd: boolean;
  /** The evaluation budget, and what is left of it in this evaluation (see `spend`). */
  budget: number;
  left: number;
}

/** The default evaluation budget: steps one evaluation may take in iterating and concatenating operators. */
export const DEFAULT_BUDGET = 1_000_000;

/**
 * Charges `n` steps to the evaluation's budget and fails the evaluation once it is spent. Only the
 * operators whose cost can outgrow rule size times input size charge: `map`, `filter`, `all`,
 * `some`, `none` and `reduce` (each iteration, by the size of their body; `reduce` also by the size
 * of its accumulator), `merge` and dynamic array literals (the size of what they build), `cat`
 * (characters) and the rules `missing` re-applies.
 */
export function spend(e: Env, n: number): void {
  if ((e.left -= n) < 0) throw Error(`evaluation budget of ${e.budget} steps exceeded`);
}

/**
 * Charges a value's size: 1, plus its length for a string, plus its members for an array or object.
 * A value shared inside another (which `reduce` can build) counts each time it occurs, as it does
 * when the value is written out or compared; the walk stops when the budget does.
 */
function charge(v: any, e: Env): void {
  spend(e, typeof v === 'string' ? 1 + v.length : 1);
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) charge(v[i], e);
  else if (v !== null && typeof v === 'object') for (const k in v) charge(v[k], e);
}

export type Fn = (data: any, env: Env) => unknown;

/** A compiled node: constant when every input is known at compile time. */
export interface Node {
  readonly fn: Fn;
  readonly konst: boolean;
  readonly value: unknown;
}

/** Turns an operator's compiled arguments into a node. */
export type OperatorCompiler = (args: Node[], c: Compiler) => Node;

export interface CompileOptions {
  /** Extra operators (flagd's); standard ones cannot be replaced. */
  operators?: ReadonlyMap<string, OperatorCompiler>;
  /** Rules nested deeper than this fail to compile instead of exhausting the stack. */
  maxDepth?: number;
  /** flagd's dialect where it departs from json-logic-js in a standard operator (`cat`). */
  flagd?: boolean;
}

export const DEFAULT_MAX_DEPTH = 256;

/** A constant node builds its closure only if some operator asks for it; most never do. */
class ConstNode implements Node {
  readonly konst = true;
  private f: Fn | undefined;
  declare readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
  get fn(): Fn {
    const v = this.value;
    return (this.f ??= () => v);
  }
}

export function constant(value: unknown): Node {
  return new ConstNode(value);
}

export function dynamic(fn: Fn): Node {
  return { fn, konst: false, value: undefined };
}

/** json-logic-js truthiness: like JavaScript's, except that an empty array is false. */
export function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : !!v;
}

/** json-logic-js `parseFloat(x, 10)`, with a fast path for numbers (String(-0) is "0", hence the 0). */
function pf(x: unknown): number {
  if (typeof x === 'number') return x === 0 ? 0 : x;
  return parseFloat(x as string);
}

/**
 * Own-property read that refuses inherited members and functions (prototype-pollution safety). An
 * inherited `__proto__` is the prototype, an object, so the own-property check refuses it too.
 */
function prop(obj: any, key: string): unknown {
  const v = obj[key];
  if (v === undefined || typeof v === 'function') return undefined;
  if (typeof v === 'object' && v !== null && !Object.hasOwn(obj, key)) return undefined;
  return v;
}

function flagdProps(env: Env): { flagKey: string; timestamp: number } {
  return { flagKey: env.flagKey, timestamp: timestamp(env) };
}

export function timestamp(env: Env): number {
  if (env.ts < 0) env.ts = Math.floor(env.now() / 1000);
  return env.ts;
}

/** The whole root data as json-logic sees it in flagd: the context plus `$flagd`. */
function rootData(data: unknown, env: Env): unknown {
  if (!env.flagd || data !== env.ctx || data === null || typeof data !== 'object') return data;
  return { ...(data as object), $flagd: flagdProps(env) };
}

/** `var` over a path already split into segments. Mirrors json-logic-js's loop exactly. */
function walk(data: any, env: Env, segs: readonly string[], notFound: unknown): unknown {
  let i = 0;
  if (segs[0] === '$flagd' && env.flagd && data === env.ctx && data != null) {
    data = flagdProps(env);
    i = 1;
  }
  for (; i < segs.length; i++) {
    if (data === null || data === undefined) return notFound;
    data = prop(data, segs[i]);
    if (data === undefined) return notFound;
  }
  return data;
}

/** Runtime `var` for a path only known at evaluation time. */
export function lookup(data: unknown, env: Env, path: unknown, notFound: unknown): unknown {
  if (path == null || path === '') return rootData(data, env);
  return walk(data, env, String(path).split('.'), notFound);
}

function getterFor(path: unknown): (data: any, env: Env, notFound: unknown) => unknown {
  if (path == null || path === '') return (d, env) => rootData(d, env);
  const segs = String(path).split('.');
  if (segs[0] === '$flagd' && segs[1] === 'flagKey' && segs.length === 2) {
    return (d, env, nf) => (env.flagd && d === env.ctx && d != null ? env.flagKey : walk(d, env, segs, nf));
  }
  if (segs.length === 1 && segs[0] !== '$flagd') {
    const k = segs[0];
    return (d, _env, nf) => {
      if (d === null || d === undefined) return nf;
      const v = prop(d, k);
      return v === undefined ? nf : v;
    };
  }
  return (d, env, nf) => walk(d, env, segs, nf);
}

/**
 * Builds an eager operator: every argument is evaluated, then `f` runs on the values. All constant
 * arguments fold at compile time; an operator that throws on them (json-logic-js does, e.g. `*`
 * with no arguments) throws at evaluation time instead, as json-logic-js would, so an unused
 * branch that would throw stays harmless. `f` takes an array, not spread arguments, so a literal
 * with 200,000 elements cannot overflow the call stack.
 */
function eager(args: Node[], f: (xs: unknown[], e: Env) => unknown): Node {
  if (args.every((a) => a.konst)) {
    try {
      // Folding is bounded by the rule's size, so it runs on an unlimited budget.
      return constant(f(args.map((a) => a.value), { left: Infinity } as Env));
    } catch (err) {
      return dynamic(() => {
        throw err;
      });
    }
  }
  const fns = args.map((a) => a.fn);
  switch (fns.length) {
    case 2: {
      const [a, b] = fns;
      return dynamic((d, e) => f([a(d, e), b(d, e)], e));
    }
    default:
      return dynamic((d, e) => {
        const xs = new Array(fns.length);
        for (let i = 0; i < fns.length; i++) xs[i] = fns[i](d, e);
        return f(xs, e);
      });
  }
}

type Cmp = (a: any, b: any) => boolean;

/**
 * Two-operand comparison with the operands inlined. Extra operands are still evaluated (and
 * discarded), as json-logic-js evaluates every argument.
 */
function comparison(args: Node[], cmp: Cmp): Node {
  if (args.length !== 2 || (args[0].konst && args[1].konst)) return eager(args, (xs) => cmp(xs[0], xs[1]));
  const [a, b] = args;
  const af = a.fn;
  const bf = b.fn;
  if (b.konst) {
    const bv = b.value;
    return dynamic((d, e) => cmp(af(d, e), bv));
  }
  if (a.konst) {
    const av = a.value;
    return dynamic((d, e) => cmp(av, bf(d, e)));
  }
  return dynamic((d, e) => cmp(af(d, e), bf(d, e)));
}

/** `<` and `<=`: with three operands, whether the second lies between the others. */
function between(cmp: Cmp): OperatorCompiler {
  return (args) => (args.length >= 3 ? eager(args, ([a, b, c]: any[]) => (c === undefined ? cmp(a, b) : cmp(a, b) && cmp(b, c))) : comparison(args, cmp));
}

function inOp(a: unknown, b: any): boolean {
  if (!b) return false;
  if (typeof b === 'string') return b.indexOf(a as string) !== -1;
  if (Array.isArray(b)) return b.indexOf(a) !== -1;
  const indexOf = b.indexOf;
  if (indexOf === undefined) return false;
  return indexOf.call(b, a) !== -1;
}

/**
 * Go's unicode.IsSpace at both ends of a string, as strings.TrimSpace trims: JavaScript's `\s`
 * without U+FEFF (not a space in Go), plus U+0085 (NEL, a space in Go, not in JavaScript).
 */
const GO_SPACE = /^(?:[^\S\ufeff]|\u0085)+|(?:[^\S\ufeff]|\u0085)+$/g;

/** A code no Go space can be (they are below 0x21 or from U+0085 on): a string with such at both ends trims to itself. */
function quiet(c: number): boolean {
  return c > 0x20 && c < 0x85;
}

function catPart(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

function substr(source: unknown, start: any, end: any): string {
  if (end < 0) {
    const temp = String(source).substr(start);
    return temp.substr(0, temp.length + end);
  }
  return String(source).substr(start, end);
}

/**
 * json-logic-js applies values it meets inside `missing` and `missing_some` as logic a second time
 * (a key that is itself a one-key object is run as a rule). Matching that takes compiling such a
 * value at evaluation time; plain keys, the normal case, skip it.
 */
function reapply(c: Compiler, v: unknown, data: unknown, env: Env): unknown {
  if (v === null || typeof v !== 'object') return v;
  charge(v, env);
  return c.compile(v).fn(data, env);
}

function missingOf(c: Compiler, data: unknown, env: Env, keys: readonly unknown[]): unknown[] {
  // json-logic-js looks each key up as {"var": key}, so an array key is [path, default].
  return keys.filter((k) => {
    const [path, dflt] = Array.isArray(k) ? k.map((x) => reapply(c, x, data, env)) : [reapply(c, k, data, env)];
    const v = lookup(data, env, path, dflt ?? null);
    return v === null || v === '';
  });
}

/**
 * The scoped array operators: `filter`, `map`, `all`, `none`, `some`, `reduce`. Each charges the
 * budget, before it starts, the size `k` of its body for every element.
 */
function scoped(op: string, args: Node[], k: number): Node {
  const [src, body, init] = [0, 1, 2].map((i) => (args[i] ? args[i].fn : () => (i > 1 ? null : undefined)));
  return dynamic((d, e) => {
    const arr = src(d, e);
    // reduce: the body sees {current, accumulator}; a missing initial value is null.
    let acc = op === 'reduce' ? init(d, e) : undefined;
    if (!Array.isArray(arr)) return op === 'reduce' ? acc : op === 'map' || op === 'filter' ? [] : op === 'none';
    spend(e, arr.length * k);
    if (op === 'map') return arr.map((x) => body(x, e));
    if (op === 'filter') return arr.filter((x) => truthy(body(x, e)));
    if (op === 'reduce') {
      for (const x of arr) {
        // The body may read the whole accumulator, so every iteration also pays its size.
        charge(acc, e);
        acc = body({ current: x, accumulator: acc }, e);
      }
      return acc;
    }
    // all stops at the first false, some and none at the first true.
    for (const x of arr) if (truthy(body(x, e)) !== (op === 'all')) return op === 'some';
    return op === 'all' ? arr.length > 0 : op === 'none';
  });
}

function ifOp(args: Node[]): Node {
  const n = args.length;
  // Constant conditions pick their branch now.
  if (n === 0) return constant(null);
  if (n === 3) {
    const [c, t, f] = args;
    if (c.konst) return truthy(c.value) ? t : f;
    const cf = c.fn;
    if (t.konst && f.konst) {
      const tv = t.value;
      const fv = f.value;
      return dynamic((d, e) => (truthy(cf(d, e)) ? tv : fv));
    }
    const tf = t.fn;
    const ff = f.fn;
    return dynamic((d, e) => (truthy(cf(d, e)) ? tf(d, e) : ff(d, e)));
  }
  const conds: Fn[] = [];
  const thens: Fn[] = [];
  let i = 0;
  for (; i < n - 1; i += 2) {
    conds.push(args[i].fn);
    thens.push(args[i + 1].fn);
  }
  const otherwise: Fn = i === n - 1 ? args[i].fn : () => null;
  return dynamic((d, e) => {
    for (let j = 0; j < conds.length; j++) if (truthy(conds[j](d, e))) return thens[j](d, e);
    return otherwise(d, e);
  });
}

function andOr(args: Node[], isAnd: boolean): Node {
  const fns = args.map((a) => a.fn);
  if (fns.length === 2) {
    const [a, b] = fns;
    return isAnd
      ? dynamic((d, e) => {
          const x = a(d, e);
          return truthy(x) ? b(d, e) : x;
        })
      : dynamic((d, e) => {
          const x = a(d, e);
          return truthy(x) ? x : b(d, e);
        });
  }
  return dynamic((d, e) => {
    let current: unknown;
    for (let i = 0; i < fns.length; i++) {
      current = fns[i](d, e);
      if (truthy(current) !== isAnd) return current;
    }
    return current;
  });
}

function varOp(args: Node[]): Node {
  const p = args[0];
  const dflt = args[1];
  if (p !== undefined && !p.konst) {
    const pf_ = p.fn;
    const df = dflt ? dflt.fn : undefined;
    return dynamic((d, e) => {
      const b = df ? df(d, e) : undefined;
      return lookup(d, e, pf_(d, e), b === undefined ? null : b);
    });
  }
  const get = getterFor(p === undefined ? undefined : p.value);
  if (dflt === undefined || (dflt.konst && dflt.value === undefined)) return dynamic((d, e) => get(d, e, null));
  if (dflt.konst) {
    const nf = dflt.value;
    return dynamic((d, e) => get(d, e, nf));
  }
  const df = dflt.fn;
  return dynamic((d, e) => {
    const b = df(d, e);
    return get(d, e, b === undefined ? null : b);
  });
}

/** `in` against a long constant array of primitives: a Set answers the same as indexOf. */
function inOpNode(args: Node[]): Node {
  if (args.length === 2 && !args[0].konst && args[1].konst && Array.isArray(args[1].value) && args[1].value.length >= 8) {
    const arr = args[1].value as unknown[];
    const setable = arr.every((x) => x === null || (typeof x !== 'object' && !(typeof x === 'number' && Number.isNaN(x))));
    if (setable) {
      const set = new Set(arr);
      const a = args[0].fn;
      return dynamic((d, e) => set.has(a(d, e)));
    }
  }
  return comparison(args, inOp);
}

const STANDARD: Record<string, OperatorCompiler> = {
  var: (args) => varOp(args),
  missing: (args, c) => {
    const fns = args.map((a) => a.fn);
    return dynamic((d, e) => {
      const vals = fns.map((f) => f(d, e));
      return missingOf(c, d, e, Array.isArray(vals[0]) ? vals[0] : vals);
    });
  },
  missing_some: (args, c) => {
    const fns = args.map((a) => a.fn);
    return dynamic((d, e) => {
      const need = fns[0] ? fns[0](d, e) : undefined;
      const options: any = fns[1] ? fns[1](d, e) : undefined;
      // As json-logic-js: apply({"missing": options}) re-applies the options as logic.
      const written = Array.isArray(options) ? options : [options];
      const vals = written.map((o: unknown) => reapply(c, o, d, e));
      const areMissing = missingOf(c, d, e, Array.isArray(vals[0]) ? vals[0] : vals);
      return options.length - areMissing.length >= (need as number) ? [] : areMissing;
    });
  },
  if: (args) => ifOp(args),
  '?:': (args) => ifOp(args),
  and: (args) => andOr(args, true),
  or: (args) => andOr(args, false),
  ...Object.fromEntries(['filter', 'map', 'reduce', 'all', 'none', 'some'].map((op) => [op, (args: Node[], c: Compiler) => scoped(op, args, c.body)])),
  '==': (args) => comparison(args, (a, b) => a == b),
  '===': (args) => comparison(args, (a, b) => a === b),
  '!=': (args) => comparison(args, (a, b) => a != b),
  '!==': (args) => comparison(args, (a, b) => a !== b),
  '>': (args) => comparison(args, (a, b) => a > b),
  '>=': (args) => comparison(args, (a, b) => a >= b),
  '<': between((a, b) => a < b),
  '<=': between((a, b) => a <= b),
  '!!': (args) => eager(args, (xs) => truthy(xs[0])),
  '!': (args) => eager(args, (xs) => !truthy(xs[0])),
  '%': (args) => eager(args, ([a, b]: any[]) => a % b),
  '/': (args) => eager(args, ([a, b]: any[]) => a / b),
  '-': (args) => eager(args, ([a, b]: any[]) => (b === undefined ? -a : a - b)),
  // As json-logic-js: reduce, so `*` of nothing throws (TypeError) and of one value returns it as is.
  '+': (args) => eager(args, (xs) => xs.reduce((a: number, x) => a + pf(x), 0)),
  '*': (args) => eager(args, (xs) => xs.reduce((a, x) => pf(a) * pf(x))),
  min: (args) => eager(args, (xs: any[]) => xs.reduce((a, x) => Math.min(a, x), Infinity)),
  max: (args) => eager(args, (xs: any[]) => xs.reduce((a, x) => Math.max(a, x), -Infinity)),
  merge: (args) =>
    eager(args, (xs, e) => {
      const out = xs.reduce((a: unknown[], x) => a.concat(x), []);
      charge(out, e);
      return out;
    }),
  cat: (args, c) => {
    // flagd's Go JSON Logic (diegoholiveira/jsonlogic v3.5.3, the version flagd's core pins) trims
    // the joined result of an argument list with strings.TrimSpace. A lone argument written without
    // a list is returned as it is when it is a string and joined like a list when it is an array.
    const flagd = c.flagd;
    const listed = c.listed;
    return eager(args, (xs, e) => {
      const parts = flagd && !listed && Array.isArray(xs[0]) ? xs[0] : xs;
      // join builds one flat string, where += builds a rope that every later read (a `fractional`
      // hashing it, char by char) pays to walk; catPart first, so a Symbol still joins as String() names it.
      const s: string = parts.map(catPart).join('');
      spend(e, s.length);
      return flagd && (listed || parts !== xs) && !(quiet(s.charCodeAt(0)) && quiet(s.charCodeAt(s.length - 1))) ? s.replace(GO_SPACE, '') : s;
    });
  },
  substr: (args) => eager(args, ([s, a, b]) => substr(s, a, b)),
  in: (args) => inOpNode(args),
};

const hasOwn = Object.hasOwn;

/** A single-key plain object is an operation; anything else is data (json-logic-js `is_logic`). */
export function isLogic(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  let n = 0;
  for (const k in v) if (hasOwn(v, k) && ++n > 1) return false;
  return n === 1;
}

/** A compiled subtree kept for reuse: its node, the depth it was compiled at, and its size (nodes in it). */
export interface Compiled {
  n: Node;
  d: number;
  s: number;
}

export class Compiler {
  private declare readonly ops: ReadonlyMap<string, OperatorCompiler> | undefined;
  private declare readonly maxDepth: number;
  private declare memo: Map<unknown, Compiled> | undefined;
  /** Nodes compiled so far, shared subtrees counted each time they occur (set by compile). */
  private declare count: number;
  /** While an operator compiles: the size of its second argument (the body of `map` and the like), plus one. */
  declare body: number;
  /** While an operator compiles: its arguments were written as a list, not as a lone value. */
  declare listed: boolean;
  declare readonly flagd: boolean;

  constructor(options: CompileOptions = {}) {
    this.ops = options.operators;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.flagd = options.flagd ?? false;
  }

  /**
   * Compiles a rule; a RuleError carries the JSON path (from `path`) of the offending node. With
   * `memo`, a subtree met again (by identity: a `$ref` substituted in several places) is compiled
   * once; only pass it for JSON that nobody mutates while the memo lives.
   */
  compile(logic: unknown, path = '$', memo?: Map<unknown, Compiled>): Node {
    this.memo = memo;
    this.count = 0;
    try {
      return this.node(logic, 0);
    } catch (err) {
      if (err instanceof RuleFault) {
        throw new RuleError(err.segments.reduceRight<string>(pathKey, path), err.reason);
      }
      throw err;
    }
  }

  private node(logic: unknown, depth: number): Node {
    const hit = this.memo?.get(logic);
    // A subtree that compiled this deep fits under maxDepth at any depth up to that. Deeper, it is
    // compiled again (and fails there with its path if it must): a subtree is compiled at most
    // once per depth it is met deeper than before.
    if (hit && depth <= hit.d) {
      this.count += hit.s;
      return hit.n;
    }
    const count = this.count;
    const n = this.build(logic, depth);
    this.memo?.set(logic, { n, d: depth, s: this.count - count });
    return n;
  }

  // Paths are only built when compilation fails: each level adds its segment as the fault unwinds.
  private build(logic: unknown, depth: number): Node {
    if (depth > this.maxDepth) throw new RuleFault(`rule nests deeper than ${this.maxDepth} levels`);
    this.count++;
    if (Array.isArray(logic)) {
      const items = new Array<Node>(logic.length);
      let allConst = true;
      for (let i = 0; i < logic.length; i++) {
        items[i] = this.child(logic[i], depth, i);
        if (!items[i].konst) allConst = false;
      }
      if (allConst) return constant(Object.freeze(items.map((n) => n.value)));
      const fns = items.map((n) => n.fn);
      return dynamic((d, e) => {
        const out = new Array(fns.length);
        for (let i = 0; i < fns.length; i++) out[i] = fns[i](d, e);
        // The values may be shared ([acc, acc] in a reduce doubles them): charge what it holds.
        charge(out, e);
        return out;
      });
    }
    if (!isLogic(logic)) return constant(logic);
    let op = '';
    for (const k in logic) op = k;
    const written = logic[op];
    const std = hasOwn(STANDARD, op) ? STANDARD[op] : undefined;
    const compiler = std ?? this.ops?.get(op);
    if (!compiler) throw new RuleFault(`unknown operator "${op}"`);
    let args: Node[];
    let body = 0;
    if (Array.isArray(written)) {
      args = new Array<Node>(written.length);
      for (let i = 0; i < written.length; i++) {
        const before = this.count;
        args[i] = this.child(written[i], depth, i, op);
        if (i === 1) body = this.count - before;
      }
    } else {
      // json-logic's shorthand: {"var": "x"} means {"var": ["x"]}.
      args = [this.child(written, depth, undefined, op)];
    }
    this.body = body + 1;
    this.listed = Array.isArray(written);
    return compiler(args, this);
  }

  private child(logic: unknown, depth: number, index: number | undefined, op?: string): Node {
    if (logic === null || typeof logic !== 'object') return constant(logic);
    try {
      return this.node(logic, depth + 1);
    } catch (err) {
      if (err instanceof RuleFault) {
        if (index !== undefined) err.segments.push(index);
        if (op !== undefined) err.segments.push(op);
      }
      throw err;
    }
  }
}

/** Internal: a compile failure on its way up, collecting path segments innermost first. */
class RuleFault {
  readonly segments: (string | number)[] = [];
  declare readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** A compiled rule as a plain function of the data (the context). */
export type CompiledRule = (data: unknown) => unknown;
