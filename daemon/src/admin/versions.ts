/**
 * Versions are strong ETags: `"<sha256 hex>"` of the flag set document's bytes, and of each
 * flag's canonical JSON (keys sorted at every level), so reformatting a file changes the set's
 * version but not its flags'.
 */
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The strong ETag of some bytes. */
export function etagOf(data: string | Uint8Array): string {
  return `"${sha256Hex(data)}"`;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      Object.defineProperty(out, k, { value: sortKeys((value as Record<string, unknown>)[k]), enumerable: true, configurable: true, writable: true });
    }
    return out;
  }
  return value;
}

/** A flag's version: the ETag of its stored definition's canonical JSON. */
export function flagVersion(definition: unknown): string {
  return etagOf(canonicalJson(definition));
}

/** `If-Match` may carry several ETags, or `W/` ones: true when any equals `version` (strong comparison). */
export function ifMatchAccepts(header: string, version: string): boolean {
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === version);
}
