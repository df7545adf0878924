/**
 * Rollouts compiled to plain flagd JSON (issue 13): what an admin defines as a schedule, a
 * progressive rollout or a prerequisite becomes ordinary targeting (`if`, `fractional`,
 * `$flagd.timestamp`), so flagd, its official providers and ours evaluate it identically with no
 * new protocol, and a change scheduled for T happens at T even if the daemon is down then.
 *
 * Pure functions from definitions to JSON Logic; the management API stores the definitions and
 * writes what these return.
 */

/** A JSON Logic rule or a value in one. */
export type Logic = null | boolean | number | string | Logic[] | { [op: string]: Logic };

/** The flag definition fields compiling reads and writes (flagd's flag schema). */
export interface FlagDefinition {
  state: 'ENABLED' | 'DISABLED';
  variants: Record<string, unknown>;
  defaultVariant?: string | null;
  targeting?: Logic | Record<string, never>;
  metadata?: Record<string, string | number | boolean>;
}

export const RolloutErrorCode = {
  INVALID_ROLLOUT: 'INVALID_ROLLOUT',
  TOO_MANY_STEPS: 'TOO_MANY_STEPS',
  UNKNOWN_VARIANT: 'UNKNOWN_VARIANT',
  PREREQUISITE_MISSING: 'PREREQUISITE_MISSING',
  PREREQUISITE_CYCLE: 'PREREQUISITE_CYCLE',
} as const;
export type RolloutErrorCode = (typeof RolloutErrorCode)[keyof typeof RolloutErrorCode];

/** A definition that cannot be compiled; `path` says where in it (JSON path), for a 400. */
export class RolloutError extends Error {
  override readonly name = 'RolloutError';
  constructor(
    readonly code: RolloutErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(`${message} (at ${path})`);
  }
}

/**
 * Most steps a progressive rollout or schedule may have. The compiled rule is one `if` branch per
 * step (a comparison and a two-bucket `fractional`, about 110 bytes of JSON each), so 100 steps
 * stay near 11 KB: linear in steps, and well inside what flagd and the engine load quickly.
 */
export const MAX_STEPS = 100;

/**
 * Fractional weights are basis points: every split has the same total, 10,000. A unit's bucket
 * is floor(hash × total / 2^32), so with one total it is the same number at every step, and a unit
 * inside the first p % stays inside any larger share: the rollout is monotonic.
 */
export const SPLIT_TOTAL = 10_000;

const TIMESTAMP: Logic = { var: '$flagd.timestamp' };

/** What one step serves: a variant to everyone, or `percent` % `on` and the rest `off`. */
export function split(on: string, off: string, percent: number): Logic {
  const w = Math.round(percent * (SPLIT_TOTAL / 100));
  if (w <= 0) return off;
  if (w >= SPLIT_TOTAL) return on;
  return { fractional: [[on, w], [off, SPLIT_TOTAL - w]] };
}

export interface ProgressiveRollout {
  /** The variant rolled out, and the one everyone else keeps. */
  on: string;
  off: string;
  /** From `at` (Unix seconds) on, `percent` % of units get `on`; percents never go down. */
  steps: readonly { at: number; percent: number }[];
}

/** "`percent` more every `everySeconds` from `start` until `target`": the step list. */
export function linearSteps(start: number, everySeconds: number, percentPerStep: number, target = 100): { at: number; percent: number }[] {
  if (!(everySeconds > 0) || !(percentPerStep > 0) || !(target > 0 && target <= 100)) {
    throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, '$', 'a linear rollout needs a positive period, a positive step and a target in (0, 100]');
  }
  const count = Math.ceil(target / percentPerStep);
  if (count > MAX_STEPS) throw new RolloutError(RolloutErrorCode.TOO_MANY_STEPS, '$', `${count} steps; at most ${MAX_STEPS}`);
  return Array.from({ length: count }, (_, i) => ({ at: start + i * everySeconds, percent: Math.min(target, (i + 1) * percentPerStep) }));
}

function checkVariant(flag: FlagDefinition, name: string, path: string): void {
  if (!Object.hasOwn(flag.variants, name)) {
    throw new RolloutError(RolloutErrorCode.UNKNOWN_VARIANT, path, `variant ${JSON.stringify(name)} is not one of the flag's variants (${Object.keys(flag.variants).map((v) => JSON.stringify(v)).join(', ')})`);
  }
}

/**
 * The targeting of a progressive rollout: one `if` with a branch per step, latest first, each
 * `$flagd.timestamp >= at` serving that step's split; before the first step, `off`.
 */
export function progressiveTargeting(flag: FlagDefinition, rollout: ProgressiveRollout): Logic {
  checkVariant(flag, rollout.on, '$.on');
  checkVariant(flag, rollout.off, '$.off');
  const steps = rollout.steps;
  if (steps.length === 0) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, '$.steps', 'a rollout needs at least one step');
  if (steps.length > MAX_STEPS) throw new RolloutError(RolloutErrorCode.TOO_MANY_STEPS, '$.steps', `${steps.length} steps; at most ${MAX_STEPS}`);
  steps.forEach((s, i) => {
    const at = `$.steps[${i}]`;
    if (!Number.isInteger(s.at) || s.at < 0) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.at`, 'a step starts at a whole number of Unix seconds');
    if (!(s.percent >= 0 && s.percent <= 100)) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.percent`, 'a percent is between 0 and 100');
    if (i > 0 && s.at <= steps[i - 1].at) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.at`, 'steps are in time order, each later than the one before');
    // Going down would take the feature away from units that had it: that is an abort, not a step.
    if (i > 0 && s.percent < steps[i - 1].percent) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.percent`, 'percents never go down within a rollout');
  });
  const branches: Logic[] = [];
  for (let i = steps.length - 1; i >= 0; i--) branches.push({ '>=': [TIMESTAMP, steps[i].at] }, split(rollout.on, rollout.off, steps[i].percent));
  branches.push(rollout.off);
  return { if: branches };
}

/** What a scheduled change serves from `at` on: a variant, or a split of `on`/`off`. */
export type Serve = { variant: string } | { on: string; off: string; percent: number };

export interface ScheduledChange {
  at: number;
  serve: Serve;
}

/**
 * "Turn on at T", "kill at T", "move to 50 % at T": the flag's current targeting (or its default
 * variant) until the first change, then each change from its time on. Latest first, as above.
 */
export function scheduledTargeting(flag: FlagDefinition, changes: readonly ScheduledChange[]): Logic {
  if (changes.length === 0) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, '$.changes', 'a schedule needs at least one change');
  if (changes.length > MAX_STEPS) throw new RolloutError(RolloutErrorCode.TOO_MANY_STEPS, '$.changes', `${changes.length} changes; at most ${MAX_STEPS}`);
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const branches: Logic[] = [];
  sorted.forEach((c, i) => {
    const at = `$.changes[${changes.indexOf(c)}]`;
    if (!Number.isInteger(c.at) || c.at < 0) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.at`, 'a change happens at a whole number of Unix seconds');
    if (i > 0 && c.at === sorted[i - 1].at) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.at`, 'two changes at the same second');
  });
  for (let i = sorted.length - 1; i >= 0; i--) {
    const s = sorted[i].serve;
    const at = `$.changes[${changes.indexOf(sorted[i])}].serve`;
    let served: Logic;
    if ('variant' in s) {
      checkVariant(flag, s.variant, `${at}.variant`);
      served = s.variant;
    } else {
      checkVariant(flag, s.on, `${at}.on`);
      checkVariant(flag, s.off, `${at}.off`);
      if (!(s.percent >= 0 && s.percent <= 100)) throw new RolloutError(RolloutErrorCode.INVALID_ROLLOUT, `${at}.percent`, 'a percent is between 0 and 100');
      served = split(s.on, s.off, s.percent);
    }
    branches.push({ '>=': [TIMESTAMP, sorted[i].at] }, served);
  }
  // Before the first change: what the flag does now (its targeting; null means its default variant).
  branches.push(hasTargeting(flag.targeting) ? (flag.targeting as Logic) : null);
  return { if: branches };
}

function hasTargeting(t: unknown): boolean {
  return t !== undefined && t !== null && !(typeof t === 'object' && !Array.isArray(t) && Object.keys(t).length === 0);
}

// ---------------------------------------------------------------------------------------------
// Prerequisites.

export interface Prerequisite {
  /** The flag that must be in one of `variants` for this flag's own rules to apply. */
  flag: string;
  variants: readonly string[];
}

export interface PrerequisiteRule {
  prerequisites: readonly Prerequisite[];
  /** What the flag serves to units that do not meet every prerequisite. */
  offVariant: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A's targeting as it must read inside another flag: `$ref`s substituted, `$flagd.flagKey` as the
 * literal A, and every `fractional` that buckets by default (flag key + targetingKey) given A's
 * key explicitly, so the copy buckets each unit exactly where A does. flagd buckets no unit when
 * the context has no targeting key (the flag's default variant applies): `if` keeps that.
 */
export function inlineTargeting(flagKey: string, targeting: Logic, evaluators: Record<string, Logic> = {}): Logic {
  const walk = (node: Logic, refs: string[]): Logic => {
    if (Array.isArray(node)) return node.map((n) => walk(n, refs));
    if (!isRecord(node)) return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === '$ref' && typeof node['$ref'] === 'string') {
      const name = node['$ref'];
      if (!Object.hasOwn(evaluators, name)) throw new RolloutError(RolloutErrorCode.PREREQUISITE_MISSING, `$.flags.${flagKey}.targeting`, `"$ref" names the evaluator "${name}", which $evaluators does not define`);
      if (refs.includes(name)) throw new RolloutError(RolloutErrorCode.PREREQUISITE_CYCLE, `$.flags.${flagKey}.targeting`, `evaluator "${name}" refers to itself`);
      return walk(evaluators[name], [...refs, name]);
    }
    if (keys.length === 1 && keys[0] === 'var') {
      const arg = node['var'];
      const path = Array.isArray(arg) ? arg[0] : arg;
      if (path === '$flagd.flagKey') return flagKey;
    }
    if (keys.length === 1 && keys[0] === 'fractional' && Array.isArray(node['fractional'])) {
      const args = node['fractional'].map((n) => walk(n, refs));
      // A first argument that is a bucket (a list) means "bucket by flag key + targetingKey".
      if (args.length > 0 && Array.isArray(args[0])) {
        const key: Logic = { cat: [flagKey, { var: 'targetingKey' }] };
        return { if: [{ var: 'targetingKey' }, { fractional: [key, ...args] }, null] };
      }
      return { fractional: args };
    }
    const out: Record<string, Logic> = {};
    for (const k of keys) out[k] = walk(node[k] as Logic, refs);
    return out;
  };
  return walk(targeting, []);
}

/** A variant name as a targeting rule may return it: the string, and for "true"/"false" the boolean too. */
function spellings(names: readonly string[]): Logic[] {
  const out: Logic[] = [];
  for (const n of names) {
    out.push(n);
    if (n === 'true') out.push(true);
    if (n === 'false') out.push(false);
  }
  return out;
}

/**
 * "A is in one of `variants`" as a rule over A's inlined targeting X, which names a variant or is
 * null (A's default variant). X is evaluated once: `in` answers false for null in flagd (Go),
 * json-logic-js and flagd-core alike, so "X in variants" is the rule when A's default variant is
 * not required, and "X not in A's other variants" when it is. (The only case the second reading
 * gets wrong is a targeting that names a variant A does not have: flagd calls that an error,
 * which here counts as met.)
 */
function meets(flagKey: string, flag: FlagDefinition, variants: readonly string[], evaluators: Record<string, Logic>): Logic {
  if (flag.state === 'DISABLED') return false; // a disabled prerequisite is never met
  const dflt = typeof flag.defaultVariant === 'string' ? flag.defaultVariant : undefined;
  const defaultMeets = dflt !== undefined && variants.includes(dflt);
  if (!hasTargeting(flag.targeting)) return defaultMeets;
  const x = inlineTargeting(flagKey, flag.targeting as Logic, evaluators);
  if (!defaultMeets) return { in: [x, spellings(variants)] };
  return { '!': { in: [x, spellings(Object.keys(flag.variants).filter((v) => !variants.includes(v)))] } };
}

/**
 * Every flag with prerequisites, compiled: its targeting wrapped in "if every prerequisite is met,
 * the flag's own rules (null: its default variant), else `offVariant`". Flags are compiled in
 * dependency order, so a prerequisite that has prerequisites of its own is inlined compiled.
 * `flags` holds the definitions as written; the result holds only the flags that changed.
 */
export function compilePrerequisites(
  flags: Readonly<Record<string, FlagDefinition>>,
  rules: Readonly<Record<string, PrerequisiteRule>>,
  evaluators: Record<string, Logic> = {},
): Record<string, FlagDefinition> {
  const compiled: Record<string, FlagDefinition> = {};
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string, trail: string[]): FlagDefinition => {
    const flag = flags[key];
    if (flag === undefined) {
      const from = trail[trail.length - 1];
      throw new RolloutError(RolloutErrorCode.PREREQUISITE_MISSING, `$.prerequisites.${from}`, `flag "${from}" requires flag "${key}", which does not exist`);
    }
    const rule = rules[key];
    if (rule === undefined) return flag;
    if (state.get(key) === 'done') return compiled[key];
    if (state.get(key) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(key)), key];
      throw new RolloutError(RolloutErrorCode.PREREQUISITE_CYCLE, `$.prerequisites.${key}`, `prerequisites form a cycle: ${cycle.join(' -> ')}`);
    }
    state.set(key, 'visiting');
    checkVariant(flag, rule.offVariant, `$.prerequisites.${key}.offVariant`);
    const conditions: Logic[] = rule.prerequisites.map((p, i) => {
      const dep = visit(p.flag, [...trail, key]);
      p.variants.forEach((v, j) => {
        checkVariant(dep, v, `$.prerequisites.${key}.prerequisites[${i}].variants[${j}]`);
      });
      return meets(p.flag, dep, p.variants, evaluators);
    });
    const own: Logic = hasTargeting(flag.targeting) ? (flag.targeting as Logic) : null;
    const all: Logic = conditions.length === 1 ? conditions[0] : { and: conditions };
    compiled[key] = { ...flag, targeting: { if: [all, own, rule.offVariant] } };
    state.set(key, 'done');
    return compiled[key];
  };
  for (const key of Object.keys(rules)) visit(key, []);
  return compiled;
}
