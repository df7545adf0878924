/**
 * The stale report (docs/management-api.md, "Stale report"): flags not written for N days (or
 * without lifecycle dates) that are unchanged that long, serve one variant to everyone, or were not
 * evaluated by this daemon for N days, or are not referenced in code (when a `vexil refs` report
 * was uploaded). A flag written within the N days is never reported.
 */
import type { FlagDocument } from './repository.js';

export type StaleReason = 'unchanged' | 'single-variant' | 'not-evaluated' | 'not-referenced';

export interface StaleFlag {
  readonly key: string;
  readonly reasons: StaleReason[];
  readonly updatedAt: string | null;
  /** ISO time of the last evaluation this daemon recorded, or null. */
  readonly lastEvaluatedAt: string | null;
}

export interface StaleOptions {
  readonly days: number;
  readonly now: number;
  /** When this daemon started: a flag never evaluated counts from there. */
  readonly startedAt: number;
  readonly lastEvaluated: (key: string) => number | undefined;
  /** The keys code references, from the last uploaded `vexil refs` report; absent: no report. */
  readonly referenced?: ReadonlySet<string>;
}

const DAY_MS = 86_400_000;

export function staleReport(doc: FlagDocument, options: StaleOptions): StaleFlag[] {
  const cutoff = options.now - options.days * DAY_MS;
  const out: StaleFlag[] = [];
  for (const [key, def] of Object.entries(doc.flags ?? {})) {
    if (typeof def !== 'object' || def === null) continue;
    const meta = (def['metadata'] ?? {}) as Record<string, unknown>;
    const reasons: StaleReason[] = [];
    const changed = typeof meta['updatedAt'] === 'string' ? meta['updatedAt'] : typeof meta['createdAt'] === 'string' ? meta['createdAt'] : undefined;
    const changedMs = changed === undefined ? NaN : Date.parse(changed);
    // A flag written within the last N days is in active use, whatever it serves: never stale.
    // One without lifecycle dates (written by hand) is judged on what it serves and its evaluations.
    if (Number.isFinite(changedMs) && changedMs >= cutoff) continue;
    if (Number.isFinite(changedMs)) reasons.push('unchanged');
    if (servesOneVariant(def)) reasons.push('single-variant');
    const evaluated = options.lastEvaluated(key);
    // Without a recorded evaluation, this daemon has seen none since it started.
    if ((evaluated ?? options.startedAt) < cutoff || (evaluated === undefined && options.days === 0)) reasons.push('not-evaluated');
    if (options.referenced !== undefined && !options.referenced.has(key)) reasons.push('not-referenced');
    if (reasons.length > 0) {
      out.push({ key, reasons, updatedAt: changed ?? null, lastEvaluatedAt: evaluated === undefined ? null : new Date(evaluated).toISOString() });
    }
  }
  return out;
}

/** A DISABLED flag, one variant, or no targeting (everyone gets the default variant). */
function servesOneVariant(def: Record<string, unknown>): boolean {
  if (def['state'] === 'DISABLED') return true;
  const variants = def['variants'];
  if (typeof variants === 'object' && variants !== null && Object.keys(variants).length <= 1) return true;
  const targeting = def['targeting'];
  return targeting === undefined || targeting === null || (typeof targeting === 'object' && Object.keys(targeting).length === 0);
}
