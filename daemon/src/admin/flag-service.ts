/**
 * The management API's operations on flags, independent of HTTP. Writes are serialised; each one
 * re-reads the source, checks `If-Match` against the flag's stored version, builds the whole
 * next document, validates it with @vexil/core, stages it, appends the audit entry (fsynced),
 * and only then commits. Any failure before the commit leaves the source untouched.
 *
 * Writes are refused (503 SOURCE_OF_TRUTH_MISMATCH) while the source of truth and what the daemon
 * serves from it disagree: a write builds the next document from the file, so writing to a file
 * that went missing (or holds a document the daemon refused, or a hand edit it has not loaded)
 * would replace every served flag with what the file holds plus one. Reads of a missing file are
 * refused the same way rather than answering "no flags" while evaluation serves them all.
 */
import { readFile, rename } from 'node:fs/promises';
import { Evaluator, isFlagConfigError } from '@vexil/core';
import { writeSynced } from './durable-write.js';
import { AuditAction, type AuditEntry, type AuditLog, type AuditQuery } from './audit-log.js';
import { AdminError, AdminErrorCode } from './errors.js';
import { staleReport, type StaleFlag } from './lifecycle.js';
import { StaleDocumentError, servedFormOf, type FlagDocument, type FlagRepository, type RepositorySnapshot } from './repository.js';
import { etagOf, flagVersion, ifMatchAccepts } from './versions.js';
import { RolloutError, type FlagDefinition, type PrerequisiteRule, type Serve } from '../rollouts/compile.js';
import { ownTargeting, recompile, ruleOf, withRule } from '../rollouts/prerequisites.js';
import {
  ROLLOUT_META,
  SCHEDULE_META,
  dueCount,
  handEdited,
  planOf,
  resumed,
  scheduleEdited,
  scheduleOwnTargeting,
  seconds,
  storedPlan,
  storedSchedule,
  targetingFor,
  withRollout,
  withSchedule,
  withoutSchedule,
  type RolloutRequest,
  type RolloutState,
} from '../rollouts/plan.js';

/** A flag as the API shows it: the stored definition plus key, flag set and version. */
export interface ApiFlag {
  key: string;
  flagSetId?: string;
  state?: unknown;
  variants?: unknown;
  defaultVariant?: unknown;
  targeting?: unknown;
  metadata?: Record<string, unknown>;
  version: string;
  [field: string]: unknown;
}

/** What `vexil refs --upload` sends (see tools/refs.ts), and when it arrived. */
export interface RefsUpload {
  root: string;
  generatedAt: string;
  referenced: string[];
  unknown: { key: string; file: string; line: number }[];
  uploadedAt?: string;
}

export interface FlagFilter {
  state?: 'ENABLED' | 'DISABLED' | 'ARCHIVED';
  flagSet?: string;
  q?: string;
}

export interface WriteResult {
  /** The flag after the write; undefined after a delete. */
  readonly flag: ApiFlag | undefined;
  /** The flag set version after the write. */
  readonly setVersion: string;
  readonly audit: AuditEntry;
}

export interface Precondition {
  /** The `If-Match` header, if any. */
  readonly ifMatch: string | undefined;
  /** 428 without one. */
  readonly required: boolean;
}

/** What the daemon serves from the admin source (the flag store's view of it). */
export interface ServedSource {
  /** The JSON text last loaded from the source; undefined while it has loaded none. */
  text(): string | undefined;
}

export interface ListPage {
  /** Flags per page: default DEFAULT_PAGE_SIZE, at most MAX_PAGE_SIZE. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface FlagList {
  readonly flags: ApiFlag[];
  readonly version: string;
  /** Present when more flags match: pass it as `cursor` for the next page. */
  readonly nextCursor?: string;
}

export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_PAGE_SIZE = 5000;
/** Bytes of list pages kept for the current flag set version. */
const PAGE_CACHE_BYTES = 64 * 1024 * 1024;

/** List pages as sent, for one flag set version (a new version drops them all), least recently used out first. */
class PageCache {
  private version: string | undefined;
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(version: string, id: string): Buffer | undefined {
    if (version !== this.version) return undefined;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      this.entries.delete(id);
      this.entries.set(id, hit);
    }
    return hit;
  }

  set(version: string, id: string, page: Buffer): void {
    if (version !== this.version) {
      this.entries.clear();
      this.bytes = 0;
      this.version = version;
    }
    if (page.length > this.maxBytes) return;
    this.entries.set(id, page);
    this.bytes += page.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }
}

export interface FlagServiceOptions {
  readonly repository: FlagRepository;
  /** Without it (tests of the service alone) writes are not checked against the served set. */
  readonly served?: ServedSource;
  /**
   * How long a write waits for the daemon to load a source of truth that differs from what it
   * serves (our own previous write, a hand edit, being picked up) before refusing; default 2000 ms.
   */
  readonly catchUpMs?: number;
  readonly audit: AuditLog;
  /** Last evaluation time of a flag key (ms), from the daemon's metrics. */
  readonly lastEvaluated?: (key: string) => number | undefined;
  /** When this daemon started (ms): "not evaluated" cannot reach back further. */
  readonly startedAt?: number;
  readonly now?: () => number;
}

/** Fields the API adds around a stored definition; never stored. */
const API_ONLY = new Set(['key', 'version', 'flagSetId']);

/** What a write does: the flag's next definition from its current one (undefined: delete it). */
type FlagChange = (current: Record<string, unknown> | undefined, doc: FlagDocument) => Record<string, unknown> | undefined;

export class FlagService {
  readonly repository: FlagRepository;
  readonly audit: AuditLog;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly lastEvaluated: (key: string) => number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly served: ServedSource | undefined;
  private readonly catchUpMs: number;
  private readonly pages = new PageCache(PAGE_CACHE_BYTES);

  constructor(options: FlagServiceOptions) {
    this.repository = options.repository;
    this.served = options.served;
    this.catchUpMs = options.catchUpMs ?? 2_000;
    this.audit = options.audit;
    this.now = options.now ?? Date.now;
    this.startedAt = options.startedAt ?? this.now();
    this.lastEvaluated = options.lastEvaluated ?? (() => undefined);
  }

  /**
   * One page of the list, as the JSON of a FlagList. Each flag's API JSON is built once per
   * change of the source and then only concatenated, and recent pages are kept as bytes for the
   * version they were built from: a dashboard walking every page of a large flag set costs the event
   * loop (and with it evaluation) next to nothing after the first walk, and makes no garbage for
   * the collector to trace through the large parsed document.
   */
  async listJson(filter: FlagFilter = {}, page: ListPage = {}): Promise<{ readonly json: Buffer; readonly version: string }> {
    const snap = await this.read();
    const id = JSON.stringify([filter.state, filter.flagSet, filter.q, page.limit, page.cursor]);
    const hit = this.pages.get(snap.version, id);
    if (hit !== undefined) return { json: hit, version: snap.version };
    const { entries, nextCursor } = this.page(filter, page, snap);
    const parts = entries.map(([key, def]) => apiFlagJson(key, def, snap.document));
    const tail = nextCursor !== undefined ? `,"nextCursor":${JSON.stringify(nextCursor)}` : '';
    const json = Buffer.from(`{"flags":[${parts.join(',')}],"version":${JSON.stringify(snap.version)}${tail}}`, 'utf8');
    this.pages.set(snap.version, id, json);
    return { json, version: snap.version };
  }

  private page(
    filter: FlagFilter,
    page: ListPage,
    snap: RepositorySnapshot,
  ): { entries: [string, Record<string, unknown>][]; nextCursor?: string } {
    const limit = Math.min(Math.max(1, Math.trunc(page.limit ?? DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE);
    const keys = keysOf(snap.document);
    const start = page.cursor === undefined ? 0 : resumeAt(page.cursor, snap, keys);
    const q = filter.q?.trim().toLowerCase();
    const entries: [string, Record<string, unknown>][] = [];
    const all = snap.document.flags ?? {};
    let i = start;
    let more = false;
    for (; i < keys.length; i++) {
      const key = keys[i];
      const def = all[key];
      if (typeof def !== 'object' || def === null || Array.isArray(def)) continue;
      const meta = def['metadata'] as Record<string, unknown> | undefined;
      const archived = meta?.['archived'] === true;
      if (filter.state === 'ARCHIVED' && !archived) continue;
      if ((filter.state === 'ENABLED' || filter.state === 'DISABLED') && (archived || def['state'] !== filter.state)) continue;
      if (filter.flagSet !== undefined && (meta?.['flagSetId'] ?? snap.document.metadata?.['flagSetId']) !== filter.flagSet) continue;
      if (q) {
        const haystack = [key, meta?.['description'], meta?.['owner']].filter((v) => typeof v === 'string').join('\n').toLowerCase();
        if (!haystack.includes(q)) continue;
      }
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push([key, def]);
    }
    if (!more) return { entries };
    return { entries, nextCursor: cursorOf(snap.version, i, entries[entries.length - 1][0]) };
  }

  async get(key: string): Promise<ApiFlag> {
    const snap = await this.read();
    const def = ownFlag(snap.document, key);
    if (def === undefined) throw notFound(key);
    return toApiFlag(key, def, snap.document);
  }

  /** The source of truth for a read: refused when it is missing while its flags are served. */
  private async read(): Promise<RepositorySnapshot> {
    const snap = await this.repository.read();
    if (snap.missing && this.served?.text() !== undefined) throw this.missingWhileServed();
    return snap;
  }

  private missingWhileServed(): AdminError {
    return new AdminError(
      AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH,
      `${this.repository.uri} is missing, but the daemon still serves the flags it last loaded from it; ` +
        'nothing was written (a write now would replace them all). Restore the file (or object) and retry; ' +
        'to start over with no flags on purpose, write {"flags":{}} to it first',
    );
  }

  /**
   * Throws unless the snapshot is what the daemon serves. A snapshot that differs may be about to
   * load (our previous write, a hand edit): wait up to catchUpMs for the daemon to catch up.
   */
  private async checkServed(snap: RepositorySnapshot): Promise<RepositorySnapshot> {
    if (this.served === undefined) return snap;
    // Nothing served from this source yet: writing cannot drop a served flag.
    if (this.served.text() === undefined) return snap;
    if (snap.missing) throw this.missingWhileServed();
    const deadline = Date.now() + this.catchUpMs;
    for (;;) {
      if (servedFormOf(snap) === this.served.text()) return snap;
      if (Date.now() >= deadline) break;
      // A file source sees a rename within milliseconds; 25 ms keeps S3 at one HeadObject per step.
      await new Promise((resolve) => setTimeout(resolve, 25));
      snap = await this.repository.read();
      if (snap.missing) throw this.missingWhileServed();
    }
    throw new AdminError(
      AdminErrorCode.SOURCE_OF_TRUTH_MISMATCH,
      `${this.repository.uri} (version ${snap.version}) is not what the daemon serves: it changed and has not been loaded, ` +
        'or the daemon refused it (see the daemon log for the source error); nothing was written. Fix the file (or object) ' +
        'so that the daemon loads it, then retry',
    );
  }

  /** The last `vexil refs` report uploaded (POST /api/v1/refs), kept next to the audit log. */
  async refs(): Promise<RefsUpload | undefined> {
    if (this.refsCache === undefined) {
      try {
        this.refsCache = JSON.parse(await readFile(this.refsPath, 'utf8')) as RefsUpload;
      } catch {
        return undefined;
      }
    }
    return this.refsCache;
  }

  /** Stores an uploaded refs report (fsynced, then renamed in place); the stale report reads it. */
  async setRefs(report: RefsUpload): Promise<RefsUpload> {
    const stored: RefsUpload = { ...report, uploadedAt: new Date(this.now()).toISOString() };
    const tmp = `${this.refsPath}.tmp-${process.pid}`;
    try {
      await writeSynced(tmp, `${JSON.stringify(stored)}\n`, 'w', 0o644);
      await rename(tmp, this.refsPath);
    } catch (err) {
      throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `cannot store the refs report at ${this.refsPath}: ${(err as Error).message}`, {}, { cause: err });
    }
    this.refsCache = stored;
    return stored;
  }

  private get refsPath(): string {
    return `${this.audit.path}.refs.json`;
  }

  private refsCache: RefsUpload | undefined;

  async stale(days: number): Promise<{ days: number; flags: StaleFlag[] }> {
    const snap = await this.read();
    const refs = await this.refs();
    const referenced = refs === undefined ? undefined : new Set(refs.referenced);
    return { days, flags: staleReport(snap.document, { days, now: this.now(), startedAt: this.startedAt, lastEvaluated: this.lastEvaluated, ...(referenced ? { referenced } : {}) }) };
  }

  auditEntries(query: AuditQuery): Promise<AuditEntry[]> {
    return this.audit.query(query);
  }

  create(actor: string, body: Record<string, unknown>): Promise<WriteResult> {
    const key = body['key'] as string;
    return this.write(actor, AuditAction.create, key, { ifMatch: undefined, required: false }, (current, doc) => {
      if (current !== undefined) throw new AdminError(AdminErrorCode.FLAG_EXISTS, `flag ${JSON.stringify(key)} already exists`, { current: flagVersion(current) });
      const def = fromApiFlag(body, doc);
      const meta = { ...(def['metadata'] as Record<string, unknown> | undefined) };
      const now = new Date(this.now()).toISOString();
      meta['owner'] ??= actor;
      meta['createdAt'] ??= now;
      meta['updatedAt'] = now;
      return { ...def, metadata: meta };
    });
  }

  replace(actor: string, key: string, body: Record<string, unknown>, pre: Precondition): Promise<WriteResult> {
    checkKey(key, body);
    return this.write(actor, AuditAction.update, key, pre, (current, doc) => {
      const def = fromApiFlag(body, doc);
      // Lifecycle fields survive a replace that leaves them out.
      const before = (current?.['metadata'] ?? {}) as Record<string, unknown>;
      const meta: Record<string, unknown> = { ...(def['metadata'] as Record<string, unknown> | undefined) };
      for (const k of ['createdAt', 'owner'] as const) if (meta[k] === undefined && before[k] !== undefined) meta[k] = before[k];
      return this.touched({ ...def, metadata: meta });
    });
  }

  /** RFC 7396 merge patch of the API representation; `validate` checks the merged flag's shape. */
  patch(actor: string, key: string, patch: Record<string, unknown>, pre: Precondition, validate: (flag: Record<string, unknown>) => void): Promise<WriteResult> {
    checkKey(key, patch);
    return this.write(actor, AuditAction.update, key, pre, (current, doc) => {
      const { version: _v, ...base } = toApiFlag(key, current!, doc);
      const merged = mergePatch(base, patch) as Record<string, unknown>;
      if (typeof merged !== 'object' || merged === null || Array.isArray(merged)) throw new AdminError(AdminErrorCode.INVALID_FLAG, 'the patch must leave a flag object', { path: '$' });
      merged['key'] = key;
      validate(merged);
      return this.touched(fromApiFlag(merged, doc));
    });
  }

  remove(actor: string, key: string, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.delete, key, pre, () => undefined);
  }

  archive(actor: string, key: string, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.archive, key, pre, (current) => {
      const meta = { ...((current!['metadata'] ?? {}) as Record<string, unknown>) };
      if (meta['archived'] !== true) meta['archivedState'] = current!['state'] ?? 'ENABLED';
      meta['archived'] = true;
      return this.touched({ ...current!, state: 'DISABLED', metadata: meta });
    });
  }

  restore(actor: string, key: string, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.restore, key, pre, (current) => {
      const meta = { ...((current!['metadata'] ?? {}) as Record<string, unknown>) };
      const state = meta['archived'] === true ? (meta['archivedState'] ?? 'ENABLED') : current!['state'];
      meta['archived'] = false;
      delete meta['archivedState'];
      return this.touched({ ...current!, state, metadata: meta });
    });
  }

  /** The kill switch: one write, state DISABLED, killedAt/killedBy recorded. Never refused for staleness. */
  kill(actor: string, key: string): Promise<WriteResult> {
    return this.write(actor, AuditAction.kill, key, { ifMatch: undefined, required: false }, (current) => {
      const now = new Date(this.now()).toISOString();
      const meta = { ...((current!['metadata'] ?? {}) as Record<string, unknown>), killedAt: now, killedBy: actor, updatedAt: now };
      return { ...current!, state: 'DISABLED', metadata: meta };
    });
  }

  /**
   * A progressive rollout compiled into the flag's targeting (plain flagd JSON: every SDK follows
   * the steps on its own clock), its plan and a checksum in metadata; one audited write. A
   * targeting that carries a checksum and was edited since is not overwritten without `force`.
   */
  rollout(actor: string, key: string, req: RolloutRequest & { force?: boolean }, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.rollout, key, pre, (current) => {
      onePlan(key, current!, 'rollout');
      if (req.force !== true && handEdited(current!)) throw editedError(key, current!, this.seconds());
      const plan = rolloutOrError(() => planOf(req));
      const targeting = rolloutOrError(() => targetingFor(current as unknown as FlagDefinition, plan, 'running', this.seconds()));
      return this.touched(withRollout(current!, plan, 'running', targeting));
    });
  }

  /** Pause (hold the share reached), resume (the remaining steps move by the pause) or abort (everyone `off`): one audited write each. */
  rolloutControl(actor: string, key: string, action: 'pause' | 'resume' | 'abort', pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.rollout, key, pre, (current) => {
      const plan = storedPlan(current!);
      if (plan === undefined) throw new AdminError(AdminErrorCode.NO_ROLLOUT, `flag ${JSON.stringify(key)} has no rollout (PUT /api/v1/flags/${key}/rollout starts one)`);
      if (handEdited(current!)) throw editedError(key, current!, this.seconds());
      const meta = (current!['metadata'] ?? {}) as Record<string, unknown>;
      const state = meta[ROLLOUT_META.state];
      const now = this.seconds();
      const refuse = (): never => {
        throw new AdminError(AdminErrorCode.NO_ROLLOUT, `cannot ${action} a rollout that is ${String(state)}`);
      };
      const flag = current as unknown as FlagDefinition;
      switch (action) {
        case 'pause':
          if (state !== 'running') refuse();
          return this.touched(withRollout(current!, plan, 'paused', targetingFor(flag, plan, 'paused', now), new Date(this.now()).toISOString()));
        case 'resume': {
          if (state !== 'paused') refuse();
          const next = resumed(plan, seconds(String(meta[ROLLOUT_META.pausedAt])), now);
          return this.touched(withRollout(current!, next, 'running', rolloutOrError(() => targetingFor(flag, next, 'running', now))));
        }
        default:
          if (state === 'aborted') refuse();
          return this.touched(withRollout(current!, plan, 'aborted', targetingFor(flag, plan, 'aborted', now)));
      }
    });
  }

  /**
   * "This flag applies its own rules only to units for which each prerequisite flag is in one of
   * the given variants; everyone else gets `offVariant`": stored, compiled into plain flagd
   * targeting, and recompiled whenever a prerequisite changes. One audited write.
   */
  setPrerequisites(actor: string, key: string, rule: PrerequisiteRule, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.update, key, pre, (current) => {
      onePlan(key, current!, 'prerequisites');
      return this.touched(withRule(current!, rule, ownTargeting(current!)));
    });
  }

  /** The prerequisites removed: the flag's own targeting back in force. One audited write. */
  removePrerequisites(actor: string, key: string, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.update, key, pre, (current) => {
      if (ruleOf(current!) === undefined) throw new AdminError(AdminErrorCode.NO_ROLLOUT, `flag ${JSON.stringify(key)} has no prerequisites`);
      return this.touched(withRule(current!, undefined, ownTargeting(current!)));
    });
  }

  /**
   * Scheduled changes ("on at T", "kill at T", "50 % at T") compiled into the targeting over
   * `$flagd.timestamp`, so they happen at T in every SDK even with the daemon down; one audited
   * write now, and one (actor `scheduler`) as each change takes effect.
   */
  async schedule(actor: string, key: string, req: { changes: { at: number | string; serve: Serve }[]; force?: boolean }, pre: Precondition): Promise<WriteResult> {
    const result = await this.write(actor, AuditAction.schedule, key, pre, (current) => {
      onePlan(key, current!, 'schedule');
      if (req.force !== true && scheduleEdited(current!)) {
        throw new AdminError(AdminErrorCode.ROLLOUT_HAND_EDITED, `flag ${JSON.stringify(key)}'s scheduled targeting was edited by hand since it was compiled; send "force": true to replace the edit`, {
          path: '$.targeting',
          targeting: { edited: current!['targeting'] ?? null, compiled: withSchedule(current!, storedSchedule(current!) ?? [], scheduleOwnTargeting(current!), 0)['targeting'] ?? null },
        });
      }
      const changes = req.changes.map((c) => ({ at: seconds(c.at), serve: c.serve }));
      return this.touched(rolloutOrError(() => withSchedule(current!, changes, scheduleOwnTargeting(current!), this.seconds())));
    });
    this.onSchedule?.();
    return result;
  }

  /** Called after a schedule is written: the daemon's scheduler re-plans its next wake-up. */
  onSchedule: (() => void) | undefined;

  /** The schedule cancelled: the targeting it started from back in force. One audited write. */
  cancelSchedule(actor: string, key: string, pre: Precondition): Promise<WriteResult> {
    return this.write(actor, AuditAction.schedule, key, pre, (current) => {
      if (storedSchedule(current!) === undefined) throw new AdminError(AdminErrorCode.NO_ROLLOUT, `flag ${JSON.stringify(key)} has no schedule`);
      return this.touched(withoutSchedule(current!));
    });
  }

  /**
   * Records, for every scheduled flag, the changes whose time has come (an audited write by actor
   * `scheduler`; the targeting already did the change). Returns when the next one is due (ms), if any.
   */
  async applyDue(): Promise<number | undefined> {
    const snap = await this.repository.read();
    const now = this.seconds();
    let next: number | undefined;
    for (const [key, def] of Object.entries(snap.document.flags ?? {})) {
      if (def === null || typeof def !== 'object' || Array.isArray(def)) continue;
      const changes = storedSchedule(def);
      if (changes === undefined) continue;
      const applied = Number(((def['metadata'] ?? {}) as Record<string, unknown>)[SCHEDULE_META.applied] ?? 0);
      const due = dueCount(changes, now);
      if (due > applied) {
        await this.write('scheduler', AuditAction.schedule, key, { ifMatch: undefined, required: false }, (current) => {
          const meta = { ...((current!['metadata'] ?? {}) as Record<string, unknown>), [SCHEDULE_META.applied]: dueCount(storedSchedule(current!) ?? [], this.seconds()) };
          return { ...current!, metadata: meta };
        });
      }
      const upcoming = changes.find((c) => c.at > now);
      if (upcoming !== undefined) next = Math.min(next ?? Infinity, upcoming.at * 1000);
    }
    return next;
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private touched(def: Record<string, unknown>): Record<string, unknown> {
    const meta = { ...((def['metadata'] ?? {}) as Record<string, unknown>), updatedAt: new Date(this.now()).toISOString() };
    return { ...def, metadata: meta };
  }

  /** One write, serialised with the others. */
  private write(
    actor: string,
    action: AuditAction,
    key: string,
    pre: Precondition,
    change: FlagChange,
  ): Promise<WriteResult> {
    const run = this.queue.then(() => this.writeNow(actor, action, key, pre, change));
    this.queue = run.catch(() => {});
    return run;
  }

  private async writeNow(
    actor: string,
    action: AuditAction,
    key: string,
    pre: Precondition,
    change: FlagChange,
  ): Promise<WriteResult> {
    const snap = await this.checkServed(await this.repository.read());
    const current = ownFlag(snap.document, key);
    if (action !== AuditAction.create) {
      if (current === undefined) throw notFound(key);
      const version = flagVersion(current);
      if (pre.ifMatch !== undefined) {
        if (!ifMatchAccepts(pre.ifMatch, version)) throw mismatch(key, version);
      } else if (pre.required) {
        throw new AdminError(AdminErrorCode.PRECONDITION_REQUIRED, `If-Match with the flag's version is required (GET /api/v1/flags/${key} sends it as ETag)`, { current: version });
      }
    }
    const written = change(current, snap.document);
    // Prerequisites: this flag compiled if it has a rule, and every flag depending on it recompiled, in the same write.
    const recompiled = rolloutOrError(() => recompile(snap.document.flags ?? {}, key, written));
    const next = written === undefined ? undefined : (recompiled.get(key) ?? written);
    recompiled.delete(key);
    const text = serialize(snap, new Map([[key, next], ...recompiled]));
    validateDocument(text, key);

    let prepared;
    try {
      prepared = await this.repository.prepare(text, snap);
    } catch (err) {
      if (err instanceof StaleDocumentError) {
        const now = err.current ? ownFlag(err.current.document, key) : undefined;
        if (action === AuditAction.create && now !== undefined) throw new AdminError(AdminErrorCode.FLAG_EXISTS, `flag ${JSON.stringify(key)} already exists`, { current: flagVersion(now) });
        if (action === AuditAction.kill) throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, 'the flag set changed during the kill; retry', {}, { cause: err });
        throw mismatch(key, now === undefined ? '' : flagVersion(now), 'the flag set changed since it was read (edited by hand or by another writer); nothing was written');
      }
      throw err;
    }
    const setVersion = etagOf(text);
    let audit: AuditEntry;
    try {
      audit = await this.audit.append({ actor, action, flag: key, before: current ?? null, after: next ?? null, version: setVersion }, new Date(this.now()));
      for (const [k, def] of recompiled) {
        await this.audit.append({ actor, action: AuditAction.update, flag: k, before: ownFlag(snap.document, k) ?? null, after: def, version: setVersion }, new Date(this.now()));
      }
    } catch (err) {
      await prepared.abort();
      throw AdminError.from(err);
    }
    try {
      await prepared.commit();
    } catch (err) {
      await prepared.abort();
      if (err instanceof StaleDocumentError) {
        const now = err.current ? ownFlag(err.current.document, key) : undefined;
        throw mismatch(key, now === undefined ? '' : flagVersion(now), `another writer changed the flag set first (audit entry ${audit.seq} records the refused attempt); nothing was written`);
      }
      throw new AdminError(AdminErrorCode.SOURCE_UNAVAILABLE, `the write could not be committed (audit entry ${audit.seq} records the attempt): ${(err as Error).message}`, {}, { cause: err });
    }
    return { flag: next === undefined ? undefined : toApiFlag(key, next, { ...snap.document, flags: { [key]: next } }), setVersion, audit };
  }
}

function editedError(key: string, flag: Record<string, unknown>, now: number): AdminError {
  const plan = storedPlan(flag);
  const meta = (flag['metadata'] ?? {}) as Record<string, unknown>;
  let compiled: unknown;
  try {
    compiled = plan && targetingFor(flag as unknown as FlagDefinition, plan, (meta[ROLLOUT_META.state] as RolloutState | undefined) ?? 'running', now);
  } catch {
    compiled = undefined;
  }
  return new AdminError(
    AdminErrorCode.ROLLOUT_HAND_EDITED,
    `flag ${JSON.stringify(key)}'s targeting was edited by hand since its rollout compiled it (checksum ${String(meta[ROLLOUT_META.hash])}); send "force": true to replace the edit`,
    { path: '$.targeting', targeting: { edited: flag['targeting'] ?? null, compiled: compiled ?? null } },
  );
}

/**
 * One compiled plan per flag: a rollout, a schedule or prerequisites each own the targeting (and
 * its checksum); combining them is not supported yet, and is refused rather than mangled.
 */
function onePlan(key: string, flag: Record<string, unknown>, wanted: 'rollout' | 'schedule' | 'prerequisites'): void {
  const has = [storedPlan(flag) !== undefined ? 'rollout' : undefined, storedSchedule(flag) !== undefined ? 'schedule' : undefined, ruleOf(flag) !== undefined ? 'prerequisites' : undefined].filter(
    (p): p is string => p !== undefined && p !== wanted,
  );
  if (has.length > 0) {
    throw new AdminError(AdminErrorCode.INVALID_ROLLOUT, `flag ${JSON.stringify(key)} already has a ${has[0]}; one of rollout, schedule and prerequisites per flag (remove the ${has[0]} first)`, { path: '$' });
  }
}

/** A definition the rollout compiler refuses, as a 400 naming where. */
function rolloutOrError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof RolloutError) throw new AdminError(AdminErrorCode.INVALID_ROLLOUT, err.message, { path: err.path });
    if (err instanceof RangeError) throw new AdminError(AdminErrorCode.INVALID_ROLLOUT, err.message, { path: '$' });
    throw err;
  }
}

function notFound(key: string): AdminError {
  return new AdminError(AdminErrorCode.FLAG_NOT_FOUND, `no flag ${JSON.stringify(key)} in the admin source`);
}

function mismatch(key: string, current: string, message?: string): AdminError {
  return new AdminError(AdminErrorCode.VERSION_MISMATCH, message ?? `flag ${JSON.stringify(key)} has changed: If-Match does not match its current version`, { current });
}

function checkKey(key: string, body: Record<string, unknown>): void {
  if (body['key'] !== undefined && body['key'] !== key) {
    throw new AdminError(AdminErrorCode.INVALID_FLAG, `the body's key ${JSON.stringify(body['key'])} differs from the path's ${JSON.stringify(key)}`, { path: '$.key' });
  }
}

export function ownFlag(doc: FlagDocument, key: string): Record<string, unknown> | undefined {
  const flags = doc.flags;
  if (flags === undefined || !Object.hasOwn(flags, key)) return undefined;
  const def = flags[key];
  return typeof def === 'object' && def !== null && !Array.isArray(def) ? def : undefined;
}

/**
 * Per-definition versions and API JSON, and per-document key orders. Repositories hand back the
 * same parsed objects until the source changes, so a list of a large flag set hashes and
 * serialises each flag once per change. These are memos of pure functions of the objects they are
 * keyed by, not state: weak keys let an old document's entries go with it, and no instance could
 * hold them better (the same objects reach several services only in tests).
 */
const versions = new WeakMap<object, string>();
const keyOrders = new WeakMap<object, string[]>();
const apiJson = new WeakMap<object, string>();

/** A stored definition's API view as JSON text, built once per parsed definition. */
function apiFlagJson(key: string, def: Record<string, unknown>, doc: FlagDocument): string {
  let json = apiJson.get(def);
  if (json === undefined) apiJson.set(def, (json = JSON.stringify(toApiFlag(key, def, doc))));
  return json;
}

function cachedVersion(def: Record<string, unknown>): string {
  let v = versions.get(def);
  if (v === undefined) versions.set(def, (v = flagVersion(def)));
  return v;
}

function keysOf(doc: FlagDocument): string[] {
  const flags = doc.flags ?? {};
  let keys = keyOrders.get(flags);
  if (keys === undefined) keyOrders.set(flags, (keys = Object.keys(flags)));
  return keys;
}

/** A cursor: where the next page starts, for the version it was made for, and the last key returned. */
function cursorOf(version: string, index: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: version, i: index, k: lastKey })).toString('base64url');
}

/**
 * Where a cursor's page starts. Pages keep the document's order; when the flag set changed between
 * pages, the next page starts after the cursor's last key (API writes keep keys in place and add new
 * ones at the end), and if that key is gone the caller must start over.
 */
function resumeAt(cursor: string, snap: RepositorySnapshot, keys: string[]): number {
  let parsed: { v?: unknown; i?: unknown; k?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    parsed = {};
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.v !== 'string' || typeof parsed.k !== 'string' || !Number.isSafeInteger(parsed.i) || (parsed.i as number) < 0) {
    throw new AdminError(AdminErrorCode.INVALID_REQUEST, 'cursor is not a nextCursor this API returned', { path: 'cursor' });
  }
  const index = parsed.i as number;
  if (parsed.v === snap.version) return Math.min(index, keys.length);
  const at = keys.indexOf(parsed.k);
  if (at === -1) {
    throw new AdminError(AdminErrorCode.VERSION_MISMATCH, 'the flag set changed while paging and the page boundary is gone: list again from the first page', {
      current: snap.version,
    });
  }
  return at + 1;
}

/** The API view of a stored definition. */
export function toApiFlag(key: string, def: Record<string, unknown>, doc: FlagDocument): ApiFlag {
  const own = def['metadata'] as Record<string, unknown> | undefined;
  const flagSetId = own?.['flagSetId'] ?? doc.metadata?.['flagSetId'];
  const out: ApiFlag = { key, ...(typeof flagSetId === 'string' ? { flagSetId } : {}), version: cachedVersion(def) };
  for (const [k, v] of Object.entries(def)) if (!API_ONLY.has(k)) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
  // `version` last reads better, and `key` first.
  const { version, ...rest } = out;
  return { ...rest, version } as ApiFlag;
}

/** The stored definition for an API body: API-only fields dropped, a differing flagSetId kept in metadata. */
function fromApiFlag(body: Record<string, unknown>, doc: FlagDocument): Record<string, unknown> {
  const def: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!API_ONLY.has(k)) Object.defineProperty(def, k, { value: v, enumerable: true, configurable: true, writable: true });
  const flagSetId = body['flagSetId'];
  if (typeof flagSetId === 'string' && flagSetId !== doc.metadata?.['flagSetId']) {
    def['metadata'] = { ...(def['metadata'] as Record<string, unknown> | undefined), flagSetId };
  }
  return def;
}

/** RFC 7396: objects merge recursively, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else Object.defineProperty(out, k, { value: mergePatch(out[k], v), enumerable: true, configurable: true, writable: true });
  }
  return out;
}

/** The next document's text, indented like the current one. */
/** The next document: `changes` applied in place (undefined deletes), new keys at the end, the file's indent kept. */
function serialize(snap: RepositorySnapshot, changes: ReadonlyMap<string, Record<string, unknown> | undefined>): string {
  const flags: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => Object.defineProperty(flags, k, { value: v, enumerable: true, configurable: true, writable: true });
  for (const [k, v] of Object.entries(snap.document.flags ?? {})) {
    if (!changes.has(k)) put(k, v);
    else if (changes.get(k) !== undefined) put(k, changes.get(k));
  }
  for (const [k, v] of changes) if (v !== undefined && !Object.hasOwn(flags, k)) put(k, v);
  const doc = { ...snap.document, flags };
  const indent = /^\{\r?\n([ \t]+)"/.exec(snap.text)?.[1] ?? (snap.text.trim() === '' ? '  ' : /^\{"/.test(snap.text.trim()) ? '' : '  ');
  return `${JSON.stringify(doc, null, indent)}\n`;
}

/** Loads the whole next document as the daemon would; problems with the written flag are 400 INVALID_FLAG. */
function validateDocument(text: string, key: string): void {
  let warnings;
  try {
    warnings = new Evaluator().load(text).warnings;
  } catch (err) {
    if (isFlagConfigError(err)) throw new AdminError(AdminErrorCode.INVALID_FLAG, err.message, { path: err.path, engineCode: err.code }, { cause: err });
    throw err;
  }
  // The engine only warns about (and skips) a single bad flag; the API refuses to write one.
  const prefixes = [`$.flags["${key.replace(/["\\]/g, '\\$&')}"]`, `$.flags[${JSON.stringify(key)}]`, `$.flags.${key}`];
  const own = warnings.find((w) => prefixes.some((p) => w.path === p || w.path.startsWith(`${p}.`) || w.path.startsWith(`${p}[`)));
  if (own !== undefined) throw new AdminError(AdminErrorCode.INVALID_FLAG, own.message, { path: own.path, engineCode: own.code });
}
