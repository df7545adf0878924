/**
 * Semantic versions for `sem_ver`, parsed as flagd-core does: SemVer 2.0.0 strictly (no leading
 * zeros, numeric parts within Number.MAX_SAFE_INTEGER, at most 256 characters, surrounding
 * whitespace ignored), after stripping one leading `v` or `V`; a bare `1` or `1.2` is read as
 * `1.0.0` or `1.2.0`. Anything else is not a version, and the operator answers null.
 */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers; numeric ones as numbers. Empty for a release. */
  pre: (string | number)[];
}

const NUM = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUM}|\\d*[a-zA-Z-][a-zA-Z0-9-]*)`;
const FULL = new RegExp(
  `^v?(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);
const PARTIAL = /^\d+(\.\d+)?$/;
const PARTIAL_PART = /^(0|[1-9]\d{0,15})$/;
const MAX_LENGTH = 256;

function safe(s: string): number | null {
  const n = Number(s);
  return n > Number.MAX_SAFE_INTEGER ? null : n;
}

/**
 * `1.2.3` or `v1.2.3`, the shape nearly every version has: exactly what the path below accepts
 * when there is no pre-release, no build and no surrounding space, with parts of at most 15
 * digits (so within MAX_SAFE_INTEGER). One small regex instead of a replace, a trim and FULL.
 */
const PLAIN = /^[vV]?(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;

export function parseSemVer(raw: unknown): SemVer | null {
  const p = typeof raw === 'string' ? PLAIN.exec(raw) : null;
  if (p) return { major: +p[1], minor: +p[2], patch: +p[3], pre: [] };
  const str = String(raw).replace(/^[vV]/, '');
  if (str.length <= MAX_LENGTH) {
    const m = FULL.exec(str.trim());
    if (m) {
      const major = safe(m[1]);
      const minor = safe(m[2]);
      const patch = safe(m[3]);
      if (major === null || minor === null || patch === null) return null;
      const pre = m[4] === undefined ? [] : m[4].split('.').map((id) => (/^\d+$/.test(id) && Number(id) < Number.MAX_SAFE_INTEGER ? Number(id) : id));
      return { major, minor, patch, pre };
    }
  }
  if (PARTIAL.test(str)) {
    const [a, b = '0'] = str.split('.');
    if (!PARTIAL_PART.test(a) || !PARTIAL_PART.test(b)) return null;
    const major = safe(a);
    const minor = safe(b);
    if (major === null || minor === null) return null;
    return { major, minor, patch: 0, pre: [] };
  }
  return null;
}

function cmpId(a: string | number, b: string | number): number {
  const an = typeof a === 'number' || /^\d+$/.test(a);
  const bn = typeof b === 'number' || /^\d+$/.test(b);
  if (an && bn) {
    const x = Number(a);
    const y = Number(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (an) return -1;
  if (bn) return 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** SemVer precedence: -1, 0 or 1. Build metadata never counts. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  // Parts are safe integers, so each difference is exact.
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return d < 0 ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) {
    return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  }
  for (let i = 0; ; i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined && y === undefined) return 0;
    if (y === undefined) return 1;
    if (x === undefined) return -1;
    const c = cmpId(x, y);
    if (c !== 0) return c;
  }
}
