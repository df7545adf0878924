/**
 * Converters: a raw value (a string from the command line or the environment, anything from a
 * config file) to the typed value of one DaemonConfig field, or a ConfigError naming the setting
 * and where it came from. The option table (options.ts) pairs each option with one of these.
 */
import { parseAdminToken, type AdminToken } from '../admin/auth.js';
import type { SourceConfig } from '../sources/source.js';
import { filePathOf } from '../sources/uri.js';
import type { LogFormat } from './daemon-config.js';
import { filePrefix, invalidValue, quote, settingError, settingName, type Origin } from './errors.js';
import { JsonSyntaxError, describeJsonError, parseJson } from './json.js';
import type { OptionSpec } from './options.js';
import { describeType, isHeaderName, isPlainObject, parseBool, sourceFromUri, sourcesFromArray } from './sources.js';

/** What a converter may need besides its own value. */
export interface ConvertContext {
  /** The flag sources, resolved before any other option (--admin-source names one of them). */
  readonly sources: readonly SourceConfig[];
  /** Collects settings accepted but not acted on; the CLI logs them. */
  readonly warn: (message: string) => void;
}

export type Converter<T> = (spec: OptionSpec, raw: unknown, origin: Origin, context: ConvertContext) => T;

/** How a setting is named in messages: `-f/--uri`, `FLAGD_URI`, `--config x.yaml: uri`. */
export function labelFor(spec: OptionSpec, origin: Origin): string {
  return `${filePrefix(origin)}${settingName(spec, origin)}`;
}

function scalarText(spec: OptionSpec, raw: unknown, origin: Origin, expected: string): string {
  if (typeof raw === 'string') return raw;
  if (origin.kind === 'file' && (typeof raw === 'number' || typeof raw === 'boolean')) return String(raw);
  throw invalidValue(spec, origin, raw, expected);
}

export function toPort(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected an integer 0-65535 (0: any free port)';
  const text = scalarText(spec, raw, origin, expected).trim();
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw invalidValue(spec, origin, raw, expected);
  return n;
}

/** Go's time.Duration text (`30s`, `1m30s`, `250ms`, `1h`), as flagd's duration flags take it; ms. */
export function toDurationMs(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected a duration such as 30s, 10m or 1h30m (0 for none)';
  const text = scalarText(spec, raw, origin, expected).trim();
  if (text === '0') return 0;
  // Go also reads a bare number as nanoseconds; a unit is required here so 600 cannot mean 600 ns by surprise.
  const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let end = 0;
  for (let m = part.exec(text); m !== null; m = part.exec(text)) {
    ms += Number(m[1]) * UNITS[m[2]];
    end = part.lastIndex;
  }
  if (end === 0 || end !== text.length || !Number.isFinite(ms)) throw invalidValue(spec, origin, raw, expected);
  return ms;
}

export function toOptionalString(spec: OptionSpec, raw: unknown, origin: Origin): string | undefined {
  if (typeof raw !== 'string') throw invalidValue(spec, origin, raw, 'expected a string');
  return raw === '' ? undefined : raw;
}

export function toHost(spec: OptionSpec, raw: unknown, origin: Origin): string {
  if (typeof raw !== 'string' || raw.trim() === '' || /\s/.test(raw)) {
    throw invalidValue(spec, origin, raw, 'expected an address such as 0.0.0.0, ::, 127.0.0.1 or localhost');
  }
  return raw;
}

/** --admin-source: one of the configured file: or s3:// sources, by URI or (files) by path; its configured URI. */
export function toAdminSource(spec: OptionSpec, raw: unknown, origin: Origin, { sources }: ConvertContext): string | undefined {
  const text = toOptionalString(spec, raw, origin);
  if (text === undefined) return undefined;
  const samePath = (uri: string) => {
    try {
      return filePathOf(uri) === filePathOf(text.startsWith('file:') ? text : `file:${text}`);
    } catch {
      return false;
    }
  };
  const match = sources.find((s) => s.uri === text) ?? sources.find((s) => s.provider === 'file' && samePath(s.uri));
  if (match === undefined) throw invalidValue(spec, origin, raw, 'expected one of the configured sources (-f/--uri, -s/--sources)');
  if (match.provider !== 'file' && match.provider !== 's3') throw invalidValue(spec, origin, raw, 'expected a file: or s3:// source (the API writes there)');
  return match.uri;
}

export function toAdminTokens(spec: OptionSpec, raw: unknown, origin: Origin): AdminToken[] {
  const tokens: AdminToken[] = [];
  for (const item of toList(spec, raw, origin)) {
    const parsed = parseAdminToken(item);
    // The token itself stays out of the message.
    if ('error' in parsed) throw settingError(spec, origin, `invalid token:role[:name] (item ${tokens.length + 1}): ${parsed.error}`);
    if (tokens.some((t) => t.token === parsed.token)) throw settingError(spec, origin, `item ${tokens.length + 1}: the same token is given twice`);
    tokens.push(parsed);
  }
  return tokens;
}

export function toRateLimit(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected a positive integer (requests per minute)';
  const text = scalarText(spec, raw, origin, expected).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw invalidValue(spec, origin, raw, expected);
  return n;
}

/** A count cap (--max-streams, --max-connections, ...): an integer, 0 for no cap. */
export function toCap(spec: OptionSpec, raw: unknown, origin: Origin): number {
  const expected = 'expected a whole number (0: no cap)';
  const text = scalarText(spec, raw, origin, expected).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n)) throw invalidValue(spec, origin, raw, expected);
  return n;
}

export function toLogFormat(spec: OptionSpec, raw: unknown, origin: Origin): LogFormat {
  if (raw === 'console' || raw === 'json') return raw;
  throw invalidValue(spec, origin, raw, 'expected console or json');
}

export function toBool(spec: OptionSpec, raw: unknown, origin: Origin): boolean {
  if (typeof raw === 'boolean') return raw;
  const value = typeof raw === 'string' ? parseBool(raw.trim()) : undefined;
  if (value === undefined) throw invalidValue(spec, origin, raw, 'expected true or false');
  return value;
}

/**
 * A list: on the command line each occurrence may hold comma-separated items (pflag's CSV);
 * from the environment, or a string in a file, items are separated by whitespace or commas; a
 * YAML list is taken item by item.
 */
export function toList(spec: OptionSpec, raw: unknown, origin: Origin): string[] {
  const split = (text: string, separators: RegExp) => text.split(separators).map((s) => s.trim()).filter((s) => s !== '');
  if (origin.kind === 'cli' && Array.isArray(raw)) return raw.flatMap((item: string) => split(item, /,/));
  if (typeof raw === 'string') return split(raw, /[\s,]+/);
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return raw.map((s: string) => s.trim()).filter((s) => s !== '');
  throw invalidValue(spec, origin, raw, 'expected a list of strings');
}

/**
 * key=value pairs, pflag style: `a=1,b=2` is two pairs, `a=b=c` gives a the value `b=c`, and a
 * piece without `=` after a comma continues the previous value (`a=x,y` gives a `x,y`).
 */
function parsePairs(spec: OptionSpec, origin: Origin, text: string, expected: string, into: Map<string, string>): void {
  let last: string | undefined;
  for (const piece of text.split(',')) {
    const eq = piece.indexOf('=');
    if (eq < 0) {
      if (last === undefined) throw invalidValue(spec, origin, text, expected);
      into.set(last, `${into.get(last) ?? ''},${piece}`);
      continue;
    }
    const key = piece.slice(0, eq).trim();
    if (key === '') throw invalidValue(spec, origin, text, expected);
    into.set(key, piece.slice(eq + 1));
    last = key;
  }
}

function toPairs(spec: OptionSpec, raw: unknown, origin: Origin, expected: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const fromObject = (object: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(object)) {
      if (key.trim() === '') throw invalidValue(spec, origin, raw, `${expected} with a non-empty key`);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') pairs.set(key.trim(), String(value));
      else throw invalidValue(spec, origin, raw, `${expected}: the value of ${quote(key)} is ${describeType(value)}, expected a string`);
    }
  };
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) {
    for (const item of raw as string[]) parsePairs(spec, origin, item, expected, pairs);
  } else if (typeof raw === 'string') {
    if (origin.kind !== 'cli' && raw.trim().startsWith('{')) {
      let object: unknown;
      try {
        object = parseJson(raw);
      } catch (err) {
        if (err instanceof JsonSyntaxError) throw settingError(spec, origin, describeJsonError(err, raw));
        throw err;
      }
      if (!isPlainObject(object)) throw invalidValue(spec, origin, raw, `${expected} pairs or a JSON object of strings`);
      fromObject(object);
    } else {
      parsePairs(spec, origin, raw, expected, pairs);
    }
  } else if (isPlainObject(raw)) {
    fromObject(raw);
  } else {
    throw invalidValue(spec, origin, raw, `${expected} pairs (a mapping or a list of strings)`);
  }
  return pairs;
}

export function toContextValues(spec: OptionSpec, raw: unknown, origin: Origin): Record<string, string> {
  return Object.fromEntries(toPairs(spec, raw, origin, 'expected key=value'));
}

export function toHeaderMappings(spec: OptionSpec, raw: unknown, origin: Origin): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, key] of toPairs(spec, raw, origin, 'expected header=key')) {
    if (!isHeaderName(header)) throw invalidValue(spec, origin, raw, `${quote(header)} is not a valid header name`);
    if (key.trim() === '') throw invalidValue(spec, origin, raw, `expected header=key with a non-empty context key for ${quote(header)}`);
    out[header.toLowerCase()] = key.trim();
  }
  return out;
}

export function toSources(spec: OptionSpec, raw: unknown, origin: Origin, { warn }: ConvertContext): SourceConfig[] {
  const label = labelFor(spec, origin);
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return [];
    try {
      value = parseJson(raw);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw settingError(spec, origin, describeJsonError(err, raw));
      throw err;
    }
  }
  return sourcesFromArray(value, label, warn);
}

/** -f/--uri: each URI becomes a source, its provider implied by the prefix. */
export function toUriSources(spec: OptionSpec, raw: unknown, origin: Origin): SourceConfig[] {
  const label = labelFor(spec, origin);
  return toList(spec, raw, origin).map((uri) => sourceFromUri(uri, label));
}

/**
 * A duration in ms as toDurationMs reads it back (`0`, `250ms`, `10s`, `2m`, `1h30m`): the help
 * shows defaults in the form the flag takes.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3600e3], ['m', 60e3], ['s', 1e3]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
