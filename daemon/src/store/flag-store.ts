/**
 * The flag store: the last good flag set of every source, merged by priority, with views per
 * selector. Every effective change yields one per-flag diff for subscribers (servers), and bumps a
 * version so a stream never goes backwards. A source's bad document is refused whole by
 * @vexil/core and the source keeps its previous flags.
 */
import { Evaluator, isFlagConfigError, type ConfigWarning, type FlagMetadata } from '@vexil/core';

/** flagd's per-flag change kinds, as the sync protocol and events name them. */
export type ChangeKind = 'write' | 'update' | 'delete';

export interface FlagChange {
  readonly key: string;
  readonly kind: ChangeKind;
}

export interface StoreChange {
  /** Strictly increasing; starts at 1 with the first data. */
  readonly version: number;
  readonly changes: readonly FlagChange[];
}

export type StoreListener = (change: StoreChange) => void;

/** A source's document was refused; the store kept its previous flags. */
export interface RejectedUpdate {
  readonly source: string;
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

export type UpdateResult =
  | { readonly ok: true; readonly changed: boolean; readonly warnings: readonly ConfigWarning[] }
  | { readonly ok: false; readonly error: RejectedUpdate };

interface SourceState {
  readonly uri: string;
  /** The source's own flags: definitions with `$ref`s inlined and metadata merged in. */
  flags: Map<string, Record<string, unknown>>;
  setMetadata: Readonly<FlagMetadata>;
  lastText: string | undefined;
  synced: boolean;
}

/** What a selector picks: all flags, one source's, or one flag set's. */
type Selection = { kind: 'all' } | { kind: 'source'; source: string } | { kind: 'flagSet'; flagSetId: string };

/** One selector's merged flags, kept current: its own evaluator (so re-syncs reuse compiled flags) and subscribers. */
interface View {
  readonly selection: Selection;
  readonly evaluator: Evaluator;
  /** The merged flag set document, JSON text (what SyncFlags and FetchAllFlags send). */
  json: string;
  readonly listeners: Set<StoreListener>;
}

/** Views for selectors nobody subscribes to are dropped beyond this many (selectors come from clients). */
const MAX_IDLE_VIEWS = 64;

export class FlagStore {
  private readonly sources: SourceState[];
  private readonly byUri = new Map<string, SourceState>();
  private readonly views = new Map<string, View>();
  private version = 0;
  private readonly readyListeners = new Set<() => void>();

  /** `sources` in priority order: a later source wins a flag key collision. */
  constructor(sources: readonly string[]) {
    this.sources = sources.map((uri) => ({ uri, flags: new Map(), setMetadata: {}, lastText: undefined, synced: false }));
    for (const s of this.sources) this.byUri.set(s.uri, s);
    this.view(undefined);
  }

  /** Offers a source's document. Unchanged text is a no-op; a refused document changes nothing. */
  update(source: string, text: string): UpdateResult {
    const state = this.byUri.get(source);
    if (!state) throw new Error(`unknown source ${source}`);
    const wasReady = this.ready;
    try {
      return this.apply(state, source, text);
    } finally {
      if (!wasReady && this.ready) for (const l of [...this.readyListeners]) l();
    }
  }

  /** Calls `listener` once, when every source has synced (at once if that has happened). */
  onReady(listener: () => void): () => void {
    if (this.ready) {
      listener();
      return () => {};
    }
    const once = () => {
      this.readyListeners.delete(once);
      listener();
    };
    this.readyListeners.add(once);
    return () => this.readyListeners.delete(once);
  }

  private apply(state: SourceState, source: string, text: string): UpdateResult {
    if (state.lastText === text) {
      state.synced = true;
      return { ok: true, changed: false, warnings: [] };
    }
    const ev = new Evaluator();
    let warnings: readonly ConfigWarning[];
    try {
      warnings = ev.load(text).warnings;
    } catch (err) {
      if (isFlagConfigError(err)) return { ok: false, error: { source, code: err.code, path: err.path, message: err.message } };
      throw err;
    }
    const setMeta = ev.flagSetMetadata;
    const flags = new Map<string, Record<string, unknown>>();
    for (const key of ev.keys()) {
      const def = ev.getDefinition(key)!;
      const own = (def['metadata'] ?? {}) as Record<string, unknown>;
      flags.set(key, { ...def, metadata: { ...setMeta, ...own } });
    }
    state.flags = flags;
    state.setMetadata = setMeta;
    state.lastText = text;
    state.synced = true;
    const changed = this.rebuild();
    return { ok: true, changed, warnings };
  }

  /** True once every source has delivered one good document (flagd's readiness). */
  get ready(): boolean {
    return this.sources.every((s) => s.synced);
  }

  /** Sources that have not synced yet. */
  pending(): string[] {
    return this.sources.filter((s) => !s.synced).map((s) => s.uri);
  }

  /**
   * The JSON text a source last delivered and the store accepted (what is served from it), or
   * undefined before its first good document. The management API compares its source of truth
   * with this before writing.
   */
  sourceText(source: string): string | undefined {
    return this.byUri.get(source)?.lastText;
  }

  get currentVersion(): number {
    return this.version;
  }

  /** The evaluator for a selector (`flagSetId=x`, `source=uri`, or a bare source uri); all flags without one. */
  evaluator(selector?: string): Evaluator {
    return this.view(selector).evaluator;
  }

  /** The flag set document for a selector, JSON text with `$ref`s inlined. */
  flagSetJson(selector?: string): string {
    return this.view(selector).json;
  }

  /** Flag set metadata for a selector (what GetMetadata and bulk evaluation report). */
  metadata(selector?: string): Readonly<FlagMetadata> {
    return this.view(selector).evaluator.flagSetMetadata;
  }

  /** Calls `listener` with the per-flag diff of every change to the selector's flags. */
  subscribe(listener: StoreListener, selector?: string): () => void {
    const v = this.view(selector);
    v.listeners.add(listener);
    return () => {
      v.listeners.delete(listener);
    };
  }

  private view(selector: string | undefined): View {
    const key = selector?.trim() ?? '';
    let v = this.views.get(key);
    if (v === undefined) {
      const selection = parseSelector(key);
      const doc = this.mergedDocument(selection);
      const evaluator = new Evaluator();
      evaluator.setFlags(doc);
      v = { selection, evaluator, json: JSON.stringify(doc), listeners: new Set() };
      this.dropIdleViews();
      this.views.set(key, v);
    }
    return v;
  }

  private dropIdleViews(): void {
    const idle = [...this.views].filter(([k, v]) => k !== '' && v.listeners.size === 0);
    for (let i = 0; i < idle.length - MAX_IDLE_VIEWS + 1; i++) this.views.delete(idle[i][0]);
  }

  /** Merges the sources a selection covers; later sources override earlier ones per flag key. */
  private mergedDocument(sel: Selection): { flags: Record<string, unknown>; metadata: Record<string, unknown> } {
    const flags: Record<string, unknown> = {};
    const metadata: Record<string, unknown> = {};
    for (const s of this.sources) {
      if (sel.kind === 'source' && !matchesSource(s.uri, sel.source)) continue;
      for (const [key, def] of s.flags) {
        if (sel.kind === 'flagSet' && (def['metadata'] as Record<string, unknown>)['flagSetId'] !== sel.flagSetId) continue;
        assignOwn(flags, { [key]: def });
      }
    }
    // Each flag already carries its own set's metadata. Set-level metadata is only what the
    // selected flags share: one source's (or one flag set's); across sources there is none, else
    // one source's flagSetId would spread onto every other source's flags.
    const covered = this.sources.filter((s) => sel.kind !== 'source' || matchesSource(s.uri, sel.source));
    if (sel.kind === 'flagSet') metadata['flagSetId'] = sel.flagSetId;
    else if (covered.length === 1) assignOwn(metadata, covered[0].setMetadata);
    return { flags, metadata };
  }

  /** Brings every view up to date and tells each view's subscribers what changed in it. */
  private rebuild(): boolean {
    const notices: [View, FlagChange[]][] = [];
    for (const v of this.views.values()) {
      const doc = this.mergedDocument(v.selection);
      const r = v.evaluator.load(doc);
      v.json = JSON.stringify(doc);
      if (r.changed.length === 0) continue;
      notices.push([
        v,
        [
          ...r.added.map((key) => ({ key, kind: 'write' as const })),
          ...r.updated.map((key) => ({ key, kind: 'update' as const })),
          ...r.removed.map((key) => ({ key, kind: 'delete' as const })),
        ],
      ]);
    }
    if (notices.length === 0) return false;
    this.version++;
    for (const [v, changes] of notices) {
      const change: StoreChange = { version: this.version, changes };
      for (const l of v.listeners) {
        try {
          l(change);
        } catch {
          // A failing subscriber must not stop the others; servers log their own errors.
        }
      }
    }
    return true;
  }
}

/** Copies own keys as data properties: a key named `__proto__` stays an ordinary key. */
function assignOwn(target: Record<string, unknown>, source: Readonly<Record<string, unknown>>): void {
  for (const k of Object.keys(source)) Object.defineProperty(target, k, { value: source[k], enumerable: true, configurable: true, writable: true });
}

/** `flagSetId=x`, `source=uri`, or (flagd's older form) a bare source uri. */
function parseSelector(selector: string | undefined): Selection {
  const s = selector?.trim();
  if (!s) return { kind: 'all' };
  const eq = s.indexOf('=');
  if (eq > 0) {
    const k = s.slice(0, eq).trim();
    const v = s.slice(eq + 1).trim();
    if (k === 'flagSetId') return { kind: 'flagSet', flagSetId: v };
    if (k === 'source') return { kind: 'source', source: v };
  }
  return { kind: 'source', source: s };
}

/** A selector names a source by its full URI or, for files, by its path. */
function matchesSource(uri: string, wanted: string): boolean {
  if (uri === wanted) return true;
  const path = uri.startsWith('file:') ? uri.slice('file:'.length) : uri;
  return path === wanted || path.endsWith(`/${wanted}`);
}
