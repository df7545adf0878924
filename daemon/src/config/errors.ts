/**
 * Where a setting came from, and the one-line error that names it: the flag (`-p/--port`), the
 * environment variable (`FLAGD_PORT`) or the config file (`--config /x.yaml: port`).
 */
import type { OptionSpec } from './options.js';

export type Origin =
  | { readonly kind: 'cli' }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'file'; readonly path: string };

/** A bad argument; its message is one line, ready for the CLI to print before exiting 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'ConfigError';
  }
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** A value quoted for a message: JSON string syntax keeps control characters on one line. */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}

/** How a setting is named in messages for a given origin. */
export function settingName(spec: OptionSpec, origin: Origin): string {
  switch (origin.kind) {
    case 'cli':
      return spec.short ? `-${spec.short}/--${spec.name}` : `--${spec.name}`;
    case 'env':
      return origin.variable;
    case 'file':
      return spec.name;
  }
}

/** `--config /x.yaml: ` for settings read from a file, nothing otherwise. */
export function filePrefix(origin: Origin): string {
  return origin.kind === 'file' ? `--config ${origin.path}: ` : '';
}

/** `invalid -p/--port "abc": expected an integer 0-65535 (0: any free port)` (prefixed with the file, if any). */
export function invalidValue(spec: OptionSpec, origin: Origin, raw: unknown, expected: string): ConfigError {
  return new ConfigError(`${filePrefix(origin)}invalid ${settingName(spec, origin)} ${quote(raw)}: ${expected}`);
}

/** `-s/--sources: <detail>` (prefixed with the file, if any). */
export function settingError(spec: OptionSpec, origin: Origin, detail: string): ConfigError {
  return new ConfigError(`${filePrefix(origin)}${settingName(spec, origin)}: ${detail}`);
}
