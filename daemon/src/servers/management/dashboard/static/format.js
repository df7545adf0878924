// @ts-check
// Text the views show: times, versions, API errors, links. No DOM.

/** @typedef {import('./types.js').ApiFailure} ApiFailure */

/** @param {unknown} v */
export const pretty = (v) => JSON.stringify(v, null, 2);

/**
 * An ISO time as "2026-11-24 10:00 UTC"; text that is no time is shown as it is.
 * @param {string | null | undefined} iso
 */
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/**
 * An API error as one line: "CODE: message (at $.path)".
 * @param {ApiFailure} res
 */
export function errorText(res) {
  const e = res.body.error;
  return `${e.code || `HTTP ${res.status}`}: ${e.message || 'request failed'}${e.path ? ` (at ${e.path})` : ''}`;
}

/**
 * A flag version (an ETag) short enough to read.
 * @param {string | null | undefined} v
 */
export const shortVersion = (v) => (v ? String(v).replace(/^W\//, '').replace(/"/g, '').slice(0, 10) : '?');

/** @param {string} key */
export const flagHref = (key) => `#/flags/${encodeURIComponent(key)}`;

/**
 * "1 flag", "2 flags".
 * @param {number} n
 * @param {string} one
 * @param {string} many
 */
export const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
