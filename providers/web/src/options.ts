/**
 * The web provider's options, checked once at construction into a frozen WebProviderConfig. A bad
 * option throws a ProviderConfigError whose message starts with the option's name, so a console
 * line alone says what to fix (`retryBackoffMs: -1 is not a number >= 1`).
 */

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

/** What the constructor throws for a bad option; branch on `code` and `option`, not on the message. */
export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
  /** The one code: an option has a value that cannot be used (as @vexil/server-provider's error). */
  readonly code = 'INVALID_OPTION';

  constructor(
    /** The option whose value was refused. */
    readonly option: string,
    problem: string,
  ) {
    super(`${option}: ${problem}`);
  }
}

export function resolveOptions(options: VexilWebProviderOptions): WebProviderConfig {
  const o = (options ?? {}) as unknown as Record<string, never>;
  const bad = (name: string, v: unknown, want: string): never => {
    throw new ProviderConfigError(name, `${JSON.stringify(v)} is not ${want}`);
  };
  // `undefined` and `null` count as not set.
  const opt = <T>(name: keyof VexilWebProviderOptions, type: string, dflt?: T): T => {
    const v = o[name];
    return v == null ? (dflt as T) : typeof v === type ? v : bad(name, v, `a ${type}`);
  };
  const num = (name: keyof VexilWebProviderOptions, dflt: number, min: number): number => {
    const v = opt(name, 'number', dflt);
    return v >= min && v < Infinity ? v : bad(name, v, `a number >= ${min}`);
  };
  const baseUrl = opt<string>('baseUrl', 'string');
  const mode = opt('mode', 'string', 'local');
  // Absolute, or a path on the page's own origin (behind the same reverse proxy).
  if (!/^(https?:\/\/[^/]|\/)/.test(baseUrl)) bad('baseUrl', baseUrl, 'an http(s) URL or a /path');
  if (mode !== 'local' && mode !== 'remote') bad('mode', mode, "'local' or 'remote'");
  const retryBackoffMs = num('retryBackoffMs', 1000, 1);
  const retryBackoffMaxMs = num('retryBackoffMaxMs', 12000, 1);
  if (retryBackoffMaxMs < retryBackoffMs) bad('retryBackoffMaxMs', retryBackoffMaxMs, `>= retryBackoffMs (${retryBackoffMs})`);
  return Object.freeze({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    mode,
    selector: opt<string>('selector', 'string') || undefined,
    retryBackoffMs,
    retryBackoffMaxMs,
    retryGracePeriod: num('retryGracePeriod', 5, 0),
    timeoutMs: num('timeoutMs', 5000, 1),
    cache: opt('cache', 'boolean', true),
    fetch: opt<typeof fetch | undefined>('fetch', 'function'),
  });
}
