/**
 * Conditional bulk evaluation. As flagd (flagd/pkg/service/flag-evaluation/ofrep/etag.go), the
 * ETag is a strong validator over the response body: it changes with the flags, the selector and
 * the context alike, so a client's cached evaluation is never wrongly confirmed. `If-None-Match`
 * is compared as RFC 9110 says for it: `*`, or a comma-separated list of tags, compared weakly.
 */
import { createHash } from 'node:crypto';

/** The quoted strong ETag of a response body. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('hex')}"`;
}

/** Whether an If-None-Match header selects the representation tagged `etag`. */
export function ifNoneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.slice(1, -1);
  for (const field of Array.isArray(header) ? header : [header]) {
    for (let tag of splitTags(field)) {
      if (tag === '*') return true;
      if (tag.startsWith('W/')) tag = tag.slice(2);
      // A lenient client may drop the quotes.
      if (tag === etag || tag === opaque) return true;
    }
  }
  return false;
}

/** Splits an entity-tag list on the commas outside quotes. */
function splitTags(list: string): string[] {
  const tags: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === '"') quoted = !quoted;
    else if (i === list.length || (c === ',' && !quoted)) {
      const tag = list.slice(start, i).trim();
      if (tag !== '') tags.push(tag);
      start = i + 1;
    }
  }
  return tags;
}
