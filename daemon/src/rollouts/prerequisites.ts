/**
 * Prerequisites as the management API keeps them: each dependant flag stores its rule and its
 * own targeting (before the prerequisite wrap) in metadata, as JSON strings (flagd allows only
 * primitives there), with a checksum of the compiled targeting. Every write goes through
 * `recompile`, so a change to a prerequisite recompiles every flag that depends on it, directly
 * or through others, in the same document write.
 */
import { compilePrerequisites, type FlagDefinition, type Logic, type PrerequisiteRule } from './compile.js';
import { metaJson, targetingHash } from './plan.js';

export const PREREQ_META = {
  rule: 'prerequisites',
  own: 'prerequisitesOwnTargeting',
  hash: 'prerequisitesHash',
} as const;

type Def = Record<string, unknown>;
const metaOf = (def: Def): Record<string, unknown> => (def['metadata'] ?? {}) as Record<string, unknown>;

/** The flag's stored prerequisite rule, or undefined. */
export function ruleOf(def: Def): PrerequisiteRule | undefined {
  const r = metaJson<PrerequisiteRule | null>(def, PREREQ_META.rule);
  return r && Array.isArray(r.prerequisites) && typeof r.offVariant === 'string' ? r : undefined;
}

/** The flag's own targeting: what it does for units that meet its prerequisites. */
export function ownTargeting(def: Def): Logic | undefined {
  if (typeof metaOf(def)[PREREQ_META.own] !== 'string') return def['targeting'] as Logic | undefined;
  return metaJson<Logic>(def, PREREQ_META.own) ?? undefined;
}

/** The definition with a prerequisite rule (and the own targeting it wraps) stored; undefined rule: removed. */
export function withRule(def: Def, rule: PrerequisiteRule | undefined, own: Logic | undefined): Def {
  const meta = { ...metaOf(def) };
  const next: Def = { ...def };
  if (rule === undefined) {
    delete meta[PREREQ_META.rule];
    delete meta[PREREQ_META.own];
    delete meta[PREREQ_META.hash];
    if (own === undefined || own === null) delete next['targeting'];
    else next['targeting'] = own;
  } else {
    meta[PREREQ_META.rule] = JSON.stringify(rule);
    meta[PREREQ_META.own] = JSON.stringify(own ?? null);
  }
  next['metadata'] = meta;
  return next;
}

/**
 * The flags `recompile` must rewrite after `key` became `next` (undefined: deleted), with their
 * compiled targeting, as a map key → definition (includes `key` when it has a rule itself).
 * A write that gives a dependant a new targeting (PUT, PATCH) sets its own rule: the compiled
 * form it had is recognised by its checksum. Throws RolloutError for cycles and missing flags.
 */
export function recompile(flags: Readonly<Record<string, unknown>>, key: string, next: Def | undefined): Map<string, Def> {
  const defs: Record<string, Def> = {};
  for (const [k, v] of Object.entries(flags)) if (v !== null && typeof v === 'object' && !Array.isArray(v)) defs[k] = v as Def;
  if (next === undefined) delete defs[key];
  else defs[key] = next;

  const rules: Record<string, PrerequisiteRule> = {};
  const written: Record<string, FlagDefinition> = {};
  for (const [k, def] of Object.entries(defs)) {
    const rule = ruleOf(def);
    let own = ownTargeting(def);
    // A new targeting written to a dependant (not its compiled form): that is its own rule now.
    if (rule !== undefined && k === key && metaOf(def)[PREREQ_META.hash] !== targetingHash(def['targeting'])) own = def['targeting'] as Logic | undefined;
    if (rule !== undefined) rules[k] = rule;
    written[k] = { ...(def as unknown as FlagDefinition), targeting: (rule !== undefined ? own : def['targeting']) as Logic };
    if (rule !== undefined && (own === undefined || own === null)) delete written[k].targeting;
  }
  if (Object.keys(rules).length === 0) return new Map();
  const compiled = compilePrerequisites(written, rules);
  const out = new Map<string, Def>();
  for (const [k, def] of Object.entries(compiled)) {
    const targeting = def.targeting as Logic;
    const meta = { ...metaOf(defs[k]), [PREREQ_META.own]: JSON.stringify(written[k].targeting ?? null), [PREREQ_META.hash]: targetingHash(targeting) };
    const before = defs[k];
    const after: Def = { ...before, targeting, metadata: meta };
    if (JSON.stringify(after) !== JSON.stringify(before)) out.set(k, after);
  }
  return out;
}
