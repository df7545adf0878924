/**
 * The provider's working part: the flags resolved for the current context, how they are fetched
 * (local: the rule set, evaluated here; remote: OFREP bulk evaluation on the daemon), the SSE
 * stream that keeps them current, and the events that tell the SDK. Written as closures over
 * local state rather than a class, because the bundle's size is a requirement (issue #5): a
 * minifier shortens local names, never property names.
 */
import {
  ErrorCode,
  GeneralError,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Logger,
  type OpenFeatureEventEmitter,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import { asType, Engine, type FlagValueType, type ResolvedDetails } from '@vexil/core';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import type { WebProviderConfig } from './options.js';
import { readEvents } from './sse.js';

export interface FlagSession {
  /** Resolves with the flags for `context`; see VexilWebProvider.initialize. */
  start(context: EvaluationContext): Promise<void>;
  setContext(context: EvaluationContext): Promise<void> | void;
  /** Ends the stream, requests in flight and every timer. */
  stop(): void;
  resolve<T>(type: FlagValueType, key: string, defaultValue: T): ResolutionDetails<T>;
}

type Details = Omit<ResolutionDetails<JsonValue>, 'value'> & { value?: JsonValue };
type Timer = ReturnType<typeof setTimeout>;
/** What localStorage offers that the cache uses. */
type Store = { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
type Arm = (ms: number) => void;

/** The daemon sends a keep-alive every 15 s: after 40 s of silence the connection is taken for dead. */
const IDLE_MS = 40_000;

/** What a page renders of a result: value and variant, whatever the reason or metadata. */
const shown = (d: Details | undefined): string | undefined => d && JSON.stringify([d.value, d.variant]);

export function createFlagSession(c: WebProviderConfig, events: OpenFeatureEventEmitter, logger?: Logger): FlagSession {
  const local = c.mode === 'local';
  const query = c.selector ? `selector=${encodeURIComponent(c.selector)}` : '';
  const cacheKey = `vexil:${c.baseUrl}|${c.selector ?? ''}`;
  const ev = new Engine();
  const open = new Set<AbortController>();
  let ctx: EvaluationContext = {};
  /** Every flag resolved for `ctx`: what resolve answers from. */
  let results = new Map<string, Details>();
  let resultsFor: EvaluationContext | undefined;
  /** A flag set (local) or a bulk result (remote) is in hand. */
  let loaded = false;
  let etag: string | null = null;
  /** The stream broke (or never worked) since the flags were last known current. */
  let down = false;
  /** Session number: work begun before a stop() sees it changed and ends. */
  let run = 0;
  /** Remote refreshes: only the latest one's answer is applied. */
  let seq = 0;
  let latest: Promise<string[]>;
  let attempt = 0;
  let grace: Timer | undefined;
  let sleep: Timer | undefined;

  /** localStorage when there is one and `cache` is on (only local mode loads rules); it may be missing, full or forbidden. */
  const store = (use: (s: Store) => unknown): void => {
    try {
      const s = (globalThis as { localStorage?: Store }).localStorage;
      if (c.cache && s) use(s);
    } catch {}
  };

  /**
   * Replaces the results (always for `ctx`); returns the flags whose value or variant changed. For
   * a new context that is none: the SDK announces the context change itself (CONTEXT_CHANGED).
   */
  const swap = (next: Map<string, Details>): string[] => {
    const old = results;
    const changed: string[] = [];
    results = next;
    if (resultsFor === ctx) {
      for (const [k, d] of next) if (shown(old.get(k)) !== shown(d)) changed.push(k);
      for (const k of old.keys()) if (!next.has(k)) changed.push(k);
    }
    resultsFor = ctx;
    return changed;
  };

  /** Local mode: every enabled flag for `ctx` (< 1 ms for 100 flags). */
  const evaluate = (): string[] => {
    const next = new Map<string, Details>();
    for (const { flagKey, type: _, ...d } of ev.resolveAll(ctx as never)) next.set(flagKey, d as Details);
    return swap(next);
  };

  /** Loads a rule set, keeping the last good one if it is refused. */
  const load = (rules: string, tag: string | null, save = true): void => {
    try {
      ev.load(rules);
    } catch (err) {
      return logger?.error(`refused a flag set: ${(err as Error).message}`);
    }
    loaded = true;
    etag = tag;
    if (save) store((s) => s.setItem(cacheKey, JSON.stringify([rules, tag])));
  };

  /** fetch, aborted by stop(), and after `timeoutMs` (or what `arm` sets next) without progress. */
  const call = async <T>(url: string, init: RequestInit, use: (res: Response, arm: Arm) => Promise<T>): Promise<T> => {
    const ac = new AbortController();
    let t: Timer | undefined;
    const arm: Arm = (ms) => {
      clearTimeout(t);
      t = setTimeout(() => ac.abort(new GeneralError(`${url}: no answer in ${ms} ms`)), ms);
    };
    arm(c.timeoutMs);
    open.add(ac);
    try {
      init.signal = ac.signal;
      // Called as a plain function: the browser's fetch called as a method of another object throws "Illegal invocation".
      return await use(await (c.fetch ?? fetch)(c.baseUrl + url, init), arm);
    } finally {
      clearTimeout(t);
      open.delete(ac);
    }
  };

  /** The error for an unexpected status: fatal for 401 and 403, which no retry mends. */
  const failed = async (res: Response): Promise<Error> => {
    // The daemon's error bodies are OFREP's `{ errorCode?, errorDetails }`; a proxy's may be anything.
    const body = (await res.json().catch(() => ({}))) as { errorCode?: string; errorDetails?: string };
    const message = `HTTP ${res.status} ${body.errorCode ?? ''}: ${body.errorDetails ?? ''}`;
    if (res.status !== 401 && res.status !== 403) return new GeneralError(message);
    // Kept rules must not outlive their exposure: targeting may hold personal data.
    store((s) => s.removeItem(cacheKey));
    return new ProviderFatalError(body.errorCode === 'RULES_NOT_EXPOSED' ? `${message}; use mode 'remote'` : message);
  };

  /**
   * Fetches what is current, unless the ETag says the flags in hand are (304). Local mode: the rule
   * set, loaded (the caller evaluates it). Remote mode: every flag for `ctx` by OFREP bulk
   * evaluation; returns the flags that changed.
   */
  const refresh = (): Promise<string[]> => {
    const n = ++seq;
    // The selector goes in the rules URL: a custom header would cost a first load a CORS preflight.
    const headers: Record<string, string> = local ? {} : { 'content-type': 'application/json' };
    if (etag) headers['if-none-match'] = etag;
    if (c.selector && !local) headers[FLAGD_SELECTOR_HEADER] = c.selector;
    const init: RequestInit = local ? { headers } : { method: 'POST', headers, body: JSON.stringify({ context: ctx }) };
    return (latest = call(local ? `/vexil/v1/rules?${query}` : '/ofrep/v1/evaluate/flags', init, async (res) => {
      if (n === seq && res.status !== 304) {
        if (res.status !== 200) throw await failed(res);
        const tag = res.headers.get('etag');
        if (local) return load(await res.text(), tag), [];
        const next = new Map<string, Details>();
        for (const f of ((await res.json()) as { flags: Record<string, never>[] }).flags) {
          // A per-flag error has no value: resolve answers the caller's default with its errorCode.
          next.set(f.key, {
            value: f.value,
            variant: f.variant,
            reason: f.errorCode ? 'ERROR' : f.reason,
            errorCode: f.errorCode,
            errorMessage: f.errorDetails,
            flagMetadata: f.metadata ?? {},
          });
        }
        if (n === seq) {
          etag = tag;
          loaded = true;
          return swap(next);
        }
      }
      // A newer refresh (another context, a later change) was started meanwhile: its answer counts.
      return n === seq ? [] : latest.then(() => []);
    }));
  };

  /** STALE now, ERROR after the grace period; once per outage. */
  const lost = (message: string): void => {
    if (down) return;
    down = true;
    events.emit(ProviderEvents.Stale, { message });
    grace = setTimeout(() => events.emit(ProviderEvents.Error, { message }), c.retryGracePeriod * 1000);
  };

  const onEvent = async (type: string, data: string, id: string): Promise<void> => {
    let changed: string[] = [];
    if (local) {
      if (type !== 'rules') return;
      // The first event after connecting usually repeats the rule set in hand: its id is the ETag.
      const tag = `"${id}"`;
      if (tag !== etag) {
        load(data, tag);
        changed = evaluate();
      }
    } else if (type === 'ready' || type === 'change') changed = await refresh();
    else return;
    if (!loaded) return;
    attempt = 0;
    if (down) {
      down = false;
      clearTimeout(grace);
      events.emit(ProviderEvents.Ready);
    }
    if (changed.length) events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed });
  };

  /** Keeps the stream open, reconnecting with exponential backoff and jitter, until the session ends. */
  const stream = async (r: number): Promise<void> => {
    while (r === run) {
      let why = 'the stream ended';
      try {
        await call(`/vexil/v1/stream?${local ? '' : 'rules=false&'}${query}`, {}, async (res, arm) => {
          if (res.status !== 200 || !res.body) throw await failed(res);
          await readEvents(res.body, onEvent, () => arm(IDLE_MS));
        });
      } catch (err) {
        if (r !== run) return;
        if (err instanceof ProviderFatalError) {
          stop();
          return events.emit(ProviderEvents.Error, { message: err.message, errorCode: ErrorCode.PROVIDER_FATAL });
        }
        why = (err as Error).message;
      }
      if (r !== run) return;
      lost(why);
      const d = Math.min(c.retryBackoffMaxMs, c.retryBackoffMs * 2 ** attempt++); // 2 ** 1024 is Infinity: still capped
      // Jitter over the upper half: pages that lost the same daemon do not come back in lockstep.
      await new Promise((wake) => (sleep = setTimeout(wake, d / 2 + (Math.random() * d) / 2)));
    }
  };

  const stop = (): void => {
    run++;
    down = false;
    attempt = 0;
    clearTimeout(grace);
    clearTimeout(sleep);
    for (const ac of open) ac.abort();
  };

  return {
    async start(context) {
      stop();
      const r = run;
      ctx = context;
      let failure: string | undefined;
      // A missing or unreadable entry throws inside `store`, which ignores it.
      if (local)
        store((s) => load(...(JSON.parse(s.getItem(cacheKey) as string) as [string, string | null]), false));
      try {
        await refresh();
      } catch (err) {
        if (err instanceof ProviderFatalError) throw err;
        failure = (err as Error).message;
      }
      if (r !== run) return;
      if (local) evaluate();
      // After the SDK's READY (a `.then` on this promise), which would otherwise overwrite a STALE.
      setTimeout(() => {
        if (r !== run) return;
        if (failure) lost(failure);
        void stream(r);
      });
      if (!loaded) {
        down = true;
        throw new GeneralError(failure ?? 'no flag set');
      }
    },

    setContext(context) {
      ctx = context;
      if (local) return void evaluate();
      return refresh().then(
        () => {},
        (err) => {
          // The answers in hand are another context's: drop them and reconnect the stream, whose
          // `ready` refetches and announces READY (the SDK shows ERROR meanwhile).
          loaded = false;
          etag = null;
          results = new Map();
          down = true;
          for (const ac of open) ac.abort();
          throw err;
        },
      );
    },

    stop,

    resolve<T>(type: FlagValueType, key: string, dflt: T): ResolutionDetails<T> {
      const r = results.get(key);
      if (r === undefined) {
        // Disabled and unknown flags are not in the results: the engine answers them (DISABLED,
        // FLAG_NOT_FOUND). In remote mode it holds no flags, so every such key is FLAG_NOT_FOUND.
        if (loaded) return ev.resolve(type, key, dflt, ctx as never) as ResolutionDetails<T>;
        return { value: dflt, reason: 'ERROR', errorCode: ErrorCode.PROVIDER_NOT_READY, flagMetadata: {} };
      }
      // The engine's type check, on the answer resolved (locally or by the daemon) for this context.
      return asType(r as ResolvedDetails, key, type, dflt) as ResolutionDetails<T>;
    },
  };
}
