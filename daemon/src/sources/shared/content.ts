/**
 * Turning fetched bytes into the JSON text a source hands to the store. Sources never interpret
 * flags; this only decides how to read the bytes:
 *
 * - `yaml` (a `.yaml`/`.yml` path or a YAML content type): parsed as YAML and re-serialised as JSON.
 * - `json` (a `.json` path or a JSON content type): must be JSON; passed through as is (no
 *   re-serialisation, so the text the store sees is the text the source holds).
 * - `auto` (anything else: no extension, `text/plain`, `application/octet-stream`, no content type):
 *   JSON if it parses as JSON, otherwise YAML.
 *
 * A YAML document must be a mapping: a YAML scalar (`hello world`, an HTML error page) or an empty
 * document is "neither JSON nor YAML" for our purpose, and yields a parse error rather than the JSON
 * text `"hello world"` or `null` (a source never hands over something that could clear flags).
 * A leading byte-order mark is dropped.
 */
import { parse as parseYaml } from 'yaml';

export type ContentHint = 'json' | 'yaml' | 'auto';

export type Conversion =
  | { readonly ok: true; readonly json: string }
  | { readonly ok: false; readonly message: string; readonly cause: unknown };

const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);
const JSON_TYPES = new Set(['application/json', 'text/json']);

/** The hint for a file name or URL path: by extension. */
export function hintFromPath(path: string): ContentHint {
  const lower = path.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  return 'auto';
}

/** The hint for an HTTP `Content-Type`, or undefined when it says nothing useful (absent, text/plain...). */
export function hintFromContentType(contentType: string | null | undefined): ContentHint | undefined {
  if (!contentType) return undefined;
  const media = contentType.split(';', 1)[0].trim().toLowerCase();
  if (YAML_TYPES.has(media) || media.endsWith('+yaml')) return 'yaml';
  if (JSON_TYPES.has(media) || media.endsWith('+json')) return 'json';
  return undefined;
}

/** Converts fetched text to JSON text, or says why it cannot (a parse_error). */
export function toJsonText(text: string, hint: ContentHint): Conversion {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (hint !== 'yaml') {
    try {
      JSON.parse(body);
      return { ok: true, json: body };
    } catch (error) {
      if (hint === 'json') return { ok: false, message: `invalid JSON: ${errorMessage(error)}`, cause: error };
    }
  }
  let value: unknown;
  try {
    value = parseYaml(body, { logLevel: 'error' });
  } catch (error) {
    const what = hint === 'yaml' ? 'invalid YAML' : 'neither JSON nor YAML';
    return { ok: false, message: `${what}: ${errorMessage(error)}`, cause: error };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null || value === undefined ? 'empty' : Array.isArray(value) ? 'a sequence' : `a ${typeof value}`;
    const what = hint === 'yaml' ? 'YAML document' : 'content is not JSON, and as YAML it';
    return { ok: false, message: `${what} is ${kind}, not a mapping`, cause: undefined };
  }
  try {
    return { ok: true, json: JSON.stringify(value) };
  } catch (error) {
    return { ok: false, message: `YAML cannot be converted to JSON: ${errorMessage(error)}`, cause: error };
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
