/**
 * A progressive rollout as the management API keeps it: the plan (on, off, steps) and its state,
 * stored in the flag's metadata as primitives (flagd allows nothing else there), next to the
 * compiled targeting and a checksum of it that tells a hand edit from our own output.
 *
 * Pure: the API's write path calls these with the flag as read and the clock.
 */
import { createHash } from 'node:crypto';
import { linearSteps, progressiveTargeting, split, type FlagDefinition, type Logic, type ProgressiveRollout } from './compile.js';

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

/** The flag's stored plan, or undefined when it has none (or it does not parse). */
export function storedPlan(flag: Record<string, unknown>): ProgressiveRollout | undefined {
  const text = (flag['metadata'] as Record<string, unknown> | undefined)?.[ROLLOUT_META.plan];
  if (typeof text !== 'string') return undefined;
  try {
    const p = JSON.parse(text) as ProgressiveRollout;
    return typeof p.on === 'string' && typeof p.off === 'string' && Array.isArray(p.steps) ? p : undefined;
  } catch {
    return undefined;
  }
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
