/**
 * flagd's custom JSON Logic operators: `fractional` (v2 bucketing), `sem_ver`, `starts_with` and
 * `ends_with`. On bad input each returns null, so the flag falls back to its default variant, as
 * flagd does (flagd issue #1874); none of them throws.
 */
import { bucketOf, murmur3Concat } from '../murmur3.js';
import { constant, dynamic, type Env, type Node, type OperatorCompiler } from './compile.js';
import { compareSemVer, parseSemVer } from './sem-ver.js';

function stringComparison(test: (a: string, b: string) => boolean): OperatorCompiler {
  const run = (a: unknown, b: unknown): boolean | null => (typeof a === 'string' && typeof b === 'string' ? test(a, b) : null);
  return (args) => {
    if (args.length !== 2) return constant(null);
    const [a, b] = args;
    if (a.konst && b.konst) return constant(run(a.value, b.value));
    const af = a.fn;
    if (b.konst) {
      const bv = b.value;
      if (typeof bv !== 'string') return constant(null);
      return dynamic((d, e) => {
        const x = af(d, e);
        return typeof x === 'string' ? test(x, bv) : null;
      });
    }
    const bf = b.fn;
    return dynamic((d, e) => run(af(d, e), bf(d, e)));
  };
}

type SemVer = NonNullable<ReturnType<typeof parseSemVer>>;

export function semVer(args: unknown[]): boolean | null {
  if (args.length !== 3) return null;
  const left = parseSemVer(args[0]);
  const right = parseSemVer(args[2]);
  if (!left || !right) return null;
  return semVerCompare(left, String(args[1]), right);
}

function semVerCompare(left: SemVer, op: string, right: SemVer): boolean | null {
  switch (op) {
    case '=':
      return compareSemVer(left, right) === 0;
    case '!=':
      return compareSemVer(left, right) !== 0;
    case '<':
      return compareSemVer(left, right) < 0;
    case '<=':
      return compareSemVer(left, right) <= 0;
    case '>':
      return compareSemVer(left, right) > 0;
    case '>=':
      return compareSemVer(left, right) >= 0;
    case '^':
      return left.major === right.major;
    case '~':
      return left.major === right.major && left.minor === right.minor;
    default:
      return null;
  }
}

const semVerCompiler: OperatorCompiler = (args) => {
  if (args.every((a) => a.konst)) return constant(semVer(args.map((a) => a.value)));
  const fns = args.map((a) => a.fn);
  // The common shape: a context value compared with a literal version.
  if (args.length === 3 && args[1].konst && args[2].konst) {
    const right = parseSemVer(args[2].value);
    const a = fns[0];
    const op = String(args[1].value);
    if (!right) return dynamic((d, e) => (a(d, e), null));
    return dynamic((d, e) => {
      const left = parseSemVer(a(d, e));
      return left ? semVerCompare(left, op, right) : null;
    });
  }
  return dynamic((d, e) => semVer(fns.map((f) => f(d, e))));
};

/** flagd's limit on the sum of bucket weights (Go's math.MaxInt32). */
export const MAX_TOTAL_WEIGHT = 2147483647;

interface Buckets {
  variants: unknown[];
  weights: number[];
  total: number;
}

/** Validates bucket entries: `[variant]` or `[variant, integerWeight]`; null when invalid. */
function toBuckets(entries: readonly unknown[]): Buckets | null {
  const variants: unknown[] = [];
  const weights: number[] = [];
  let total = 0;
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length === 0 || entry.length > 2) return null;
    const v = entry[0];
    if (v === null || v === undefined) variants.push(null);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') variants.push(v);
    else return null;
    let w = 1;
    if (entry.length === 2) {
      const raw = entry[1];
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return null;
      // Negative weights come out of rollout arithmetic; flagd clamps them rather than failing.
      w = Math.max(0, raw);
    }
    weights.push(w);
    total += w;
  }
  if (total > MAX_TOTAL_WEIGHT) return null;
  return { variants, weights, total };
}

/** The bucket `prefix + key` falls in (`prefix` is '' for an explicit bucketing value). */
function pick(b: Buckets, prefix: string, key: string): unknown {
  const bucket = bucketOf(murmur3Concat(prefix, key), b.total);
  let sum = 0;
  for (let i = 0; i < b.weights.length; i++) {
    sum += b.weights[i];
    if (sum > bucket) return b.variants[i];
  }
  return null;
}

function targetingKey(env: Env): unknown {
  const ctx = env.ctx as { targetingKey?: unknown } | null | undefined;
  return ctx === null || ctx === undefined ? undefined : ctx.targetingKey;
}

function targetingBucketKey(env: Env): string | null {
  const tk = targetingKey(env);
  if (!tk) return null;
  return `${env.flagKey}${tk as string}`;
}

/**
 * The shorthand on its compiled path (buckets already valid): flagKey + targetingKey, hashed
 * without joining them when the key is a string; anything else is joined as before.
 */
function pickByTargetingKey(b: Buckets, env: Env): unknown {
  const tk = targetingKey(env);
  if (typeof tk === 'string' && tk !== '') return pick(b, env.flagKey, tk);
  const k = targetingBucketKey(env);
  return k === null ? null : pick(b, '', k);
}

/** The general case: every argument evaluated, then validated. */
export function fractional(args: unknown[], env: Env): unknown {
  if (args.length < 1) return null;
  let bucketBy: string | null;
  let entries: unknown[];
  if (typeof args[0] === 'string') {
    bucketBy = args[0];
    entries = args.slice(1);
  } else {
    bucketBy = targetingBucketKey(env);
    entries = args;
  }
  if (bucketBy === null) return null;
  const b = toBuckets(entries);
  return b ? pick(b, '', bucketBy) : null;
}

const fractionalCompiler: OperatorCompiler = (args) => {
  if (args.length < 1) return constant(null);
  const first = args[0];
  // Shorthand `fractional: [[...], [...]]` hashes flagKey + targetingKey; otherwise the first
  // argument is the bucketing value. Which one applies is known now only if the first is constant.
  const rest = args.slice(1);
  if (rest.every((a) => a.konst)) {
    if (first.konst && Array.isArray(first.value)) {
      const b = toBuckets(args.map((a) => a.value));
      if (!b) return constant(null);
      return dynamic((_d, e) => pickByTargetingKey(b, e));
    }
    if (!first.konst || typeof first.value === 'string') {
      const b = toBuckets(rest.map((a) => a.value));
      const ff = first.fn;
      if (!b) return dynamic((d, e) => (ff(d, e), null));
      return dynamic((d, e) => {
        const by = ff(d, e);
        if (typeof by === 'string') return pick(b, '', by);
        // Not a string: the first argument is treated as a bucket, as flagd-core does.
        return fractional([by, ...rest.map((a) => a.value)], e);
      });
    }
  }
  const fns = args.map((a) => a.fn);
  return dynamic((d, e) => {
    const vals = new Array(fns.length);
    for (let i = 0; i < fns.length; i++) vals[i] = fns[i](d, e);
    return fractional(vals, e);
  });
};

/** flagd's operators, for the Compiler's `operators` option. */
export function flagdOperators(): Map<string, OperatorCompiler> {
  return new Map<string, OperatorCompiler>([
    ['fractional', fractionalCompiler],
    ['sem_ver', semVerCompiler],
    ['starts_with', stringComparison((a, b) => a.startsWith(b))],
    ['ends_with', stringComparison((a, b) => a.endsWith(b))],
  ]);
}

export type { Node };
