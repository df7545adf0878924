/**
 * What the browser routes serve for a selector: the flag set JSON the sync service sends, its
 * ETag, and whether it may be served to browsers at all. Targeting rules can hold personal data
 * (e-mail lists), so a flag set is served only when it is exposed:
 *
 * - by `--browser-rules`: each value is a selector as clients send it, compared after trimming;
 *   `all` stands for the request without a selector (every flag), `*` for every selector;
 * - or by its metadata: `"browserRules": true`. Set metadata is merged into each flag's metadata
 *   by the store, so the test is "every selected flag says so" (a flag may opt out with `false`).
 *   This also covers `flagSetId=` selectors, whose merged set metadata is only `{flagSetId}`. A
 *   selection without flags is exposed when its set metadata says so.
 *
 * Snapshots are cached per selector and rebuilt when the flag set text changes, so a request
 * or a change costs one hash of the flag set, not one per request or per stream.
 */
import type { Evaluator } from '@vexil/core';
import type { FlagStore } from '../../store/flag-store.js';
import { etagOf } from '../ofrep/etag.js';

export interface RuleSet {
  /** The selector, trimmed; '' for all flags. */
  readonly selector: string;
  /** `FlagStore.flagSetJson(selector)`: `{"flags":{…},"metadata":{…}}`, one line. */
  readonly json: string;
  /** Strong, quoted. */
  readonly etag: string;
  readonly exposed: boolean;
  /** The SSE `rules` event carrying this flag set, built on first use. */
  readonly event: string;
}

export type RuleSetStore = Pick<FlagStore, 'flagSetJson' | 'evaluator'>;

/** Selectors come from clients: beyond this many, the oldest snapshot is dropped. */
const MAX_CACHED = 32;

/** The value of `--browser-rules` that stands for the request without a selector. */
export const ALL_FLAGS = 'all';

export class RuleSets {
  private readonly cache = new Map<string, RuleSet>();
  private readonly exposedSelectors: ReadonlySet<string>;
  private readonly exposeAll: boolean;

  constructor(
    private readonly store: RuleSetStore,
    browserRules: readonly string[],
  ) {
    const values = browserRules.map((v) => v.trim());
    this.exposeAll = values.includes('*');
    this.exposedSelectors = new Set(values.map((v) => (v === ALL_FLAGS ? '' : v)));
  }

  /** Whether `--browser-rules` exposes a (trimmed) selector, whatever its flags say. */
  exposedByConfig(selector: string): boolean {
    return this.exposeAll || this.exposedSelectors.has(selector);
  }

  /** The current snapshot for a selector (trimmed; '' for all flags). */
  get(selector: string): RuleSet {
    const json = this.store.flagSetJson(selector);
    const cached = this.cache.get(selector);
    // The store re-serialises every view on every change: equal text is a content comparison,
    // still far cheaper than hashing it again.
    if (cached !== undefined && cached.json === json) return cached;
    const exposed = this.exposedByConfig(selector) || exposedByMetadata(this.store.evaluator(selector));
    const set = ruleSet(selector, json, etagOf(json), exposed);
    this.cache.delete(selector);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(selector, set);
    return set;
  }
}

function ruleSet(selector: string, json: string, etag: string, exposed: boolean): RuleSet {
  let event: string | undefined;
  return {
    selector,
    json,
    etag,
    exposed,
    get event() {
      // JSON.stringify never emits a raw line break, so the document is one `data:` line.
      return (event ??= `event: rules\nid: ${etag.slice(1, -1)}\ndata: ${json}\n\n`);
    },
  };
}

/** `"browserRules": true` on every selected flag (set metadata included), or on an empty selection's set. */
export function exposedByMetadata(ev: Pick<Evaluator, 'keys' | 'getDefinition' | 'flagSetMetadata'>): boolean {
  const keys = ev.keys();
  if (keys.length === 0) return ev.flagSetMetadata['browserRules'] === true;
  for (const key of keys) {
    const metadata = ev.getDefinition(key)?.['metadata'] as Record<string, unknown> | undefined;
    if (metadata?.['browserRules'] !== true) return false;
  }
  return true;
}
