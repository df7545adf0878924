/**
 * A progressive rollout as the management API keeps it: the plan (on, off, steps) and its state,
 * stored in the flag's metadata as primitives (flagd allows nothing else there), next to the
 * compiled targeting and a checksum of it that tells a hand edit from our own output.
 *
 * Pure: the API's write path calls these with the flag as read and the clock.
 */
import { createHash } from 'node:crypto';
import { linearSteps, progressiveTargeting, scheduledTargeting, split, type FlagDefinition, type Logic, type ProgressiveRollout, type ScheduledChange } from './compile.js';

/** Metadata keys a rollout writes. */
export const ROLLOUT_META = {
  plan: 'rollout',
  state: 'rolloutState',
  pausedAt: 'rolloutPausedAt',
  hash: 'rolloutHash',
} as const;

export type RolloutState = 'running' | 'paused' | 'aborted';

/** What `PUT /flags/{key}/rollout` takes (see schemas.ts `rolloutBody`). */
export interface RolloutRequest {
  on: string;
  off: string;
  steps?: { at: number | string; percent: number }[];
  start?: number | string;
  everySeconds?: number;
  percentPerStep?: number;
  target?: number;
}

/** Unix seconds of a request time (seconds, or an RFC 3339 string). */
export function seconds(t: number | string): number {
  return typeof t === 'number' ? t : Math.floor(Date.parse(t) / 1000);
}

/** The request as a rollout: explicit steps, or the linear plan spelled out. */
export function planOf(req: RolloutRequest): ProgressiveRollout {
  if (req.steps !== undefined) return { on: req.on, off: req.off, steps: req.steps.map((s) => ({ at: seconds(s.at), percent: s.percent })) };
  if (req.start === undefined || req.everySeconds === undefined || req.percentPerStep === undefined) {
    throw new RangeError('a rollout needs `steps`, or `start`, `everySeconds` and `percentPerStep`');
  }
  return { on: req.on, off: req.off, steps: linearSteps(seconds(req.start), req.everySeconds, req.percentPerStep, req.target ?? 100) };
}

/** The share of units the plan gives `on` at `now` (Unix seconds): the last step begun, else 0. */
export function percentAt(plan: ProgressiveRollout, now: number): number {
  let p = 0;
  for (const s of plan.steps) if (s.at <= now) p = s.percent;
  return p;
}

/** The plan resumed at `now` after a pause begun at `pausedAt`: every step not yet begun moves by the pause. */
export function resumed(plan: ProgressiveRollout, pausedAt: number, now: number): ProgressiveRollout {
  const shift = Math.max(0, now - pausedAt);
  return { ...plan, steps: plan.steps.map((s) => (s.at > pausedAt ? { ...s, at: s.at + shift } : s)) };
}

/** A rule that always serves `served` (a variant name or a split): targeting must be an object. */
export function always(served: Logic): Logic {
  return { if: [true, served, null] };
}

/** Checksum of a compiled targeting, as stored in `rolloutHash`: 16 hex digits of SHA-256 over its JSON. */
export function targetingHash(targeting: unknown): string {
  return createHash('sha256').update(JSON.stringify(targeting ?? null)).digest('hex').slice(0, 16);
}

/**
 * A value the API stored in the flag's metadata as a JSON string (flagd allows only primitives
 * there): the parsed value, or undefined when the entry is missing, not a string or not JSON.
 */
export function metaJson<T>(flag: Record<string, unknown>, key: string): T | undefined {
  const text = (flag['metadata'] as Record<string, unknown> | undefined)?.[key];
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The flag's stored plan, or undefined when it has none (or it does not parse). */
export function storedPlan(flag: Record<string, unknown>): ProgressiveRollout | undefined {
  const p = metaJson<ProgressiveRollout | null>(flag, ROLLOUT_META.plan);
  return typeof p?.on === 'string' && typeof p.off === 'string' && Array.isArray(p.steps) ? p : undefined;
}

/** True when the flag carries a compiled rollout whose targeting no longer matches its checksum. */
export function handEdited(flag: Record<string, unknown>): boolean {
  const hash = (flag['metadata'] as Record<string, unknown> | undefined)?.[ROLLOUT_META.hash];
  return typeof hash === 'string' && hash !== targetingHash(flag['targeting']);
}

/** The flag with `targeting` and the rollout metadata written. */
export function withRollout(
  flag: Record<string, unknown>,
  plan: ProgressiveRollout,
  state: RolloutState,
  targeting: Logic,
  pausedAt?: string,
): Record<string, unknown> {
  const meta: Record<string, unknown> = { ...((flag['metadata'] ?? {}) as Record<string, unknown>) };
  meta[ROLLOUT_META.plan] = JSON.stringify(plan);
  meta[ROLLOUT_META.state] = state;
  meta[ROLLOUT_META.hash] = targetingHash(targeting);
  if (pausedAt === undefined) delete meta[ROLLOUT_META.pausedAt];
  else meta[ROLLOUT_META.pausedAt] = pausedAt;
  return { ...flag, targeting, metadata: meta };
}

/** The targeting for a plan in a state at `now`: the steps, the share at the pause, or `off`. */
export function targetingFor(flag: FlagDefinition, plan: ProgressiveRollout, state: RolloutState, now: number): Logic {
  if (state === 'aborted') return always(plan.off);
  if (state === 'paused') return always(split(plan.on, plan.off, percentAt(plan, now)));
  return progressiveTargeting(flag, plan);
}

// ---------------------------------------------------------------------------------------------
// Scheduled changes, kept the same way: the changes, the targeting in force before the first one,
// a checksum of the compiled rule, and how many changes have taken effect (each one an audited
// write by the daemon's scheduler when its time comes, or at the next start if it was down).

export const SCHEDULE_META = {
  plan: 'schedule',
  own: 'scheduleOwnTargeting',
  hash: 'scheduleHash',
  applied: 'scheduleApplied',
} as const;

/** The flag's stored schedule (changes in time order), or undefined. */
export function storedSchedule(flag: Record<string, unknown>): ScheduledChange[] | undefined {
  const changes = metaJson<unknown>(flag, SCHEDULE_META.plan);
  return Array.isArray(changes) ? (changes as ScheduledChange[]) : undefined;
}

/** How many of `changes` have begun at `now` (Unix seconds). */
export function dueCount(changes: readonly ScheduledChange[], now: number): number {
  return changes.filter((c) => c.at <= now).length;
}

/** The flag with its schedule compiled in; `own` is what it does before the first change. */
export function withSchedule(flag: Record<string, unknown>, changes: readonly ScheduledChange[], own: unknown, now: number): Record<string, unknown> {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const targeting = scheduledTargeting({ ...(flag as unknown as FlagDefinition), targeting: own as Logic }, sorted);
  const meta: Record<string, unknown> = { ...((flag['metadata'] ?? {}) as Record<string, unknown>) };
  meta[SCHEDULE_META.plan] = JSON.stringify(sorted);
  meta[SCHEDULE_META.own] = JSON.stringify(own ?? null);
  meta[SCHEDULE_META.hash] = targetingHash(targeting);
  meta[SCHEDULE_META.applied] = dueCount(sorted, now);
  return { ...flag, targeting, metadata: meta };
}

/** The schedule removed: the targeting it started from back in force. */
export function withoutSchedule(flag: Record<string, unknown>): Record<string, unknown> {
  const meta: Record<string, unknown> = { ...((flag['metadata'] ?? {}) as Record<string, unknown>) };
  const own = metaJson<unknown>(flag, SCHEDULE_META.own);
  for (const k of Object.values(SCHEDULE_META)) delete meta[k];
  const next: Record<string, unknown> = { ...flag, metadata: meta };
  if (own === null || own === undefined) delete next['targeting'];
  else next['targeting'] = own;
  return next;
}

/** The targeting a scheduled flag had before its first change (what a new schedule starts from). */
export function scheduleOwnTargeting(flag: Record<string, unknown>): unknown {
  const own = metaJson<unknown>(flag, SCHEDULE_META.own);
  return own === undefined ? flag['targeting'] : own;
}

/** True when the flag's scheduled rule was edited by hand since it was compiled. */
export function scheduleEdited(flag: Record<string, unknown>): boolean {
  const hash = (flag['metadata'] as Record<string, unknown> | undefined)?.[SCHEDULE_META.hash];
  return typeof hash === 'string' && hash !== targetingHash(flag['targeting']);
}
