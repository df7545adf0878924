// The management API's answers as the dashboard receives them (daemon/docs/management-api.md; the
// route schemas in src/servers/management/api/schemas.ts), and the shapes its modules pass each
// other. Written once here so every view reads the same envelope. Only tsc reads this file: the
// page imports nothing from it and the server does not serve `.d.ts` files.

import type { Json, Rule } from './targeting.js';

export type { Json, Rule };

export type FlagState = 'ENABLED' | 'DISABLED';
export type Role = 'viewer' | 'editor' | 'admin';
export type AuditAction = 'create' | 'update' | 'delete' | 'archive' | 'restore' | 'kill';
export type StaleReason = 'unchanged' | 'single-variant' | 'not-evaluated' | 'not-referenced';

/** flagd flag metadata; the API keeps its lifecycle fields here. */
export interface FlagMetadata {
  owner?: string;
  description?: string;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  archivedState?: string;
  killedAt?: string;
  killedBy?: string;
  [name: string]: string | number | boolean | undefined;
}

/** A flag as the API writes it (POST, PUT): flagd's definition plus its key. */
export interface FlagDefinition {
  key: string;
  flagSetId?: string;
  state: FlagState;
  variants: Record<string, Json>;
  defaultVariant: string | null;
  targeting?: Rule;
  metadata?: FlagMetadata;
}

/** A flag as the API answers it (GET, and every write but DELETE). */
export interface Flag extends FlagDefinition {
  /** The flag's strong ETag, also sent as the ETag header. */
  version: string;
}

/** A JSON merge patch of a flag (RFC 7396): null removes. */
export interface FlagPatch {
  state?: FlagState;
  defaultVariant?: string | null;
  metadata?: Record<string, string | number | boolean | null>;
}

/** One page of GET /flags; api.listFlags follows `nextCursor` and answers every page's flags in one. */
export interface FlagList {
  flags: Flag[];
  version: string;
  nextCursor?: string;
}

export interface FlagFilter {
  q?: string;
  state?: '' | FlagState | 'ARCHIVED';
  flagSet?: string;
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  action: AuditAction;
  flag: string;
  before?: Json;
  after?: Json;
  /** The flag set version after the write. */
  version: string;
  prev: string;
  kid?: string;
  hash: string;
}

export interface AuditPage {
  entries: AuditEntry[];
}

export interface AuditFilter {
  flag?: string;
  actor?: string;
  action?: string;
  limit?: string;
}

export interface StaleFlag {
  key: string;
  reasons: StaleReason[];
  updatedAt: string | null;
  lastEvaluatedAt: string | null;
}

export interface StaleReport {
  days: number;
  flags: StaleFlag[];
}

export interface Whoami {
  actor: string;
  role: Role;
}

/** The API's error body, or one api.js makes up for a network failure or a non-JSON answer. */
export interface ApiError {
  code: string;
  message: string;
  /** JSON path of the fault in the flag definition. */
  path?: string;
  /** VERSION_MISMATCH: the flag's current version. */
  current?: string;
  engineCode?: string;
}

export interface ApiSuccess<T> {
  ok: true;
  status: number;
  body: T;
  etag: string | null;
}

export interface ApiFailure {
  ok: false;
  /** 0: the daemon could not be reached. */
  status: number;
  body: { error: ApiError };
  etag: string | null;
}

export type ApiResult<T> = ApiSuccess<T> | ApiFailure;

export interface RequestOptions {
  method?: string;
  body?: unknown;
  ifMatch?: string;
  headers?: Record<string, string>;
}

/** What h() appends: nested arrays are flattened; null, undefined and false are skipped. */
export type Child = Node | string | number | boolean | null | undefined | Child[];

/** h()'s attributes: `testid`, `class`, `dataset`, `value`, `on<event>` handlers, or plain attributes. */
export type Attrs = Record<string, unknown>;

/** Whether the view being built is still the one the route asks for (the user may have moved on). */
export type StillCurrent = () => boolean;

export interface Route {
  name: string;
  arg: string | undefined;
  params: URLSearchParams;
}

/** What outlives one rendering of a view: the list's filter and the flag sets seen so far. */
export interface Store {
  listFilter: { q: string; state: '' | FlagState | 'ARCHIVED'; flagSet: string };
  knownFlagSets: Set<string>;
}

export interface WriteOptions {
  /** Handles a 400 (an invalid flag) instead of the generic error line. */
  onInvalid?: (res: ApiFailure) => void;
}

/** What the flag editor's parts may ask of it. */
export interface EditorContext {
  /** The flag shown, and whose version every write sends as If-Match. */
  flag(): Flag;
  version(): string;
  /** Runs a write; on success shows the flag it answered. Resolves true when it was applied. */
  write(label: string, call: () => Promise<ApiResult<Flag | null>>, options?: WriteOptions): Promise<boolean>;
  /** PUTs the flag with `targeting` (undefined: none); a refusal is shown in the JSON editor. */
  replaceTargeting(targeting: Rule | undefined, label: string): Promise<boolean>;
  reload(): Promise<void>;
}

/** One part of the flag editor: its element, redrawn by show() whenever the flag changes. */
export interface EditorPart {
  /** What the editor places in its layout: one element, or several side by side. */
  element: Child;
  show(flag: Flag, version: string): void;
}
