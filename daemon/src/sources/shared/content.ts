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
 *
 * Error messages name the position (line, column) and the parser's error kind, never the content:
 * the bytes may be anything the path or URL points at (a symlink to /etc/passwd, an HTML page with
 * a session token), and the message is logged at error level and answered to API callers. The
 * parsers' own messages quote the text around the fault (V8: `"root:x:0:0"... is not valid JSON`;
 * yaml: a code frame), so they are never passed on. A short escaped excerpt is kept apart, in
 * `excerpt`, for debug logging only.
 */
import { YAMLError, parse as parseYaml } from 'yaml';
import { locateJsonError } from '../../config/json.js';

export type ContentHint = 'json' | 'yaml' | 'auto';

export type Conversion =
  | { readonly ok: true; readonly json: string }
  | {
      readonly ok: false;
      /** Where and what kind of fault, without any of the content. */
      readonly message: string;
      /** A short escaped excerpt around the fault, for debug logs only (never at info level or above). */
      readonly excerpt?: string;
      /** The parser's error: its message quotes content, so never log it as is. */
      readonly cause: unknown;
    };

/** Characters of content shown (at debug level) around a parse fault. */
const EXCERPT_CHARS = 24;

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
      if (hint === 'json') return jsonFault(body, error);
    }
  }
  let value: unknown;
  try {
    value = parseYaml(body, { logLevel: 'error' });
  } catch (error) {
    return yamlFault(body, error, hint === 'yaml' ? 'invalid YAML' : 'neither JSON nor YAML');
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

/** A JSON fault by position: `invalid JSON at line 3, column 7 (position 41): unexpected character`. */
function jsonFault(text: string, error: unknown): Conversion {
  const located = locateJsonError(text);
  if (located === undefined) return { ok: false, message: 'invalid JSON', cause: error };
  const what = located.position >= text.length ? 'unexpected end of input' : 'unexpected character';
  return {
    ok: false,
    message: `invalid JSON at line ${located.line}, column ${located.column} (position ${located.position}): ${what}`,
    excerpt: excerptAt(text, located.position),
    cause: error,
  };
}

/** A YAML fault by position and the yaml library's error code (its message carries a code frame). */
function yamlFault(text: string, error: unknown, what: string): Conversion {
  if (!(error instanceof YAMLError)) return { ok: false, message: what, cause: error };
  const pos = error.linePos?.[0];
  const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  return { ok: false, message: `${what}${where} (${error.code})`, excerpt: excerptAt(text, error.pos[0]), cause: error };
}

/** Up to EXCERPT_CHARS characters either side of `at`, JSON-escaped (no raw control characters). */
function excerptAt(text: string, at: number): string {
  const start = Math.max(0, at - EXCERPT_CHARS);
  const end = Math.min(text.length, at + EXCERPT_CHARS);
  return JSON.stringify(`${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
