/**
 * The web provider's options, checked once at construction into a frozen WebProviderConfig. A bad
 * option throws a ProviderConfigError whose message starts with the option's name, so a console
 * line alone says what to fix (`retryBackoffMs: -1 is not a number >= 1`).
 */
import { ProviderConfigError } from '@vexil/shared';

/** `local`: rules come to the page and are evaluated there. `remote`: the daemon evaluates (OFREP). */
export type WebProviderMode = 'local' | 'remote';

export interface VexilWebProviderOptions {
  /** The daemon's OFREP port, e.g. `http://localhost:8016`, or a same-origin path such as `/flags`. */
  baseUrl: string;
  /** @default 'local' */
  mode?: WebProviderMode;
  /** Which flags (`flagSetId=web`, a source); none means every flag. */
  selector?: string;
  /** First delay before the stream is retried, in ms. @default 1000 */
  retryBackoffMs?: number;
  /** Longest delay between stream retries, in ms. @default 12000 */
  retryBackoffMaxMs?: number;
  /** Seconds the provider stays STALE after losing the stream before it turns ERROR. @default 5 */
  retryGracePeriod?: number;
  /** Time allowed for a request (rules, bulk evaluation, opening the stream), in ms. @default 5000 */
  timeoutMs?: number;
  /** Keep the last good rule set in localStorage (local mode) for a start while the daemon is away. @default true */
  cache?: boolean;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
}

export type WebProviderConfig = Readonly<Required<Omit<VexilWebProviderOptions, 'selector' | 'fetch'>> & Pick<VexilWebProviderOptions, 'selector' | 'fetch'>>;

type OptionType = 'string' | 'number' | 'boolean' | 'function';

/**
 * One entry per option, in the order they are checked: its type, its default (none: undefined) and,
 * for numbers, the least value allowed. Parsing and defaults come from here; README.md's option
 * table lists the same names and defaults, and a test compares the two. Tuples, not objects, as
 * minifiers shorten neither property names nor string keys.
 */
export const WEB_PROVIDER_OPTIONS = {
  baseUrl: ['string'],
  mode: ['string', 'local'],
  selector: ['string'],
  retryBackoffMs: ['number', 1000, 1],
  retryBackoffMaxMs: ['number', 12000, 1],
  retryGracePeriod: ['number', 5, 0],
  timeoutMs: ['number', 5000, 1],
  cache: ['boolean', true],
  fetch: ['function'],
} as const satisfies { readonly [K in keyof VexilWebProviderOptions]-?: readonly [OptionType, unknown?, number?] };

export function resolveOptions(options: VexilWebProviderOptions): WebProviderConfig {
  const o = (options ?? {}) as unknown as Record<string, unknown>;
  const bad = (name: string, v: unknown, want: string): never => {
    throw new ProviderConfigError(name, `${JSON.stringify(v)} is not ${want}`);
  };
  // Typed loosely while it is filled in; the checks below and the freeze make it a WebProviderConfig.
  const c: Record<string, any> = {};
  for (const name in WEB_PROVIDER_OPTIONS) {
    const [type, dflt, min] = WEB_PROVIDER_OPTIONS[name as keyof typeof WEB_PROVIDER_OPTIONS] as readonly [OptionType, unknown?, number?];
    const v = o[name];
    // `undefined` and `null` count as not set.
    c[name] =
      v == null
        ? dflt
        : typeof v !== type
          ? bad(name, v, `a ${type}`)
          : min !== undefined && !((v as number) >= min && (v as number) < Infinity)
            ? bad(name, v, `a ${type} >= ${min}`)
            : v;
  }
  // Absolute, or a path on the page's own origin (behind the same reverse proxy).
  if (!/^(https?:\/\/[^/]|\/)/.test(c.baseUrl)) bad('baseUrl', c.baseUrl, 'an http(s) URL or a /path');
  if (c.mode !== 'local' && c.mode !== 'remote') bad('mode', c.mode, "'local' or 'remote'");
  if (c.retryBackoffMaxMs < c.retryBackoffMs) bad('retryBackoffMaxMs', c.retryBackoffMaxMs, `>= retryBackoffMs (${c.retryBackoffMs})`);
  c.baseUrl = c.baseUrl.replace(/\/+$/, '');
  c.selector ||= undefined;
  return Object.freeze(c) as WebProviderConfig;
}
