/**
 * The testbed writes every value as text and names its type separately ("Integer", "Object", ...).
 * These helpers turn such text into the value the testbed means, and compare resolved values by
 * type: numbers numerically ("0.0" equals 0), objects structurally, everything else strictly.
 */

export const VALUE_TYPES = ['Boolean', 'String', 'Integer', 'Float', 'Object'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export function asValueType(name: string): ValueType {
  if ((VALUE_TYPES as readonly string[]).includes(name)) return name as ValueType;
  throw new Error(`unknown value type "${name}" (expected one of ${VALUE_TYPES.join(', ')})`);
}

/**
 * Parses testbed text as a value of `type`: Boolean accepts "true"/"false", Integer and Float
 * become numbers, Object is JSON (callers pass text whose `\"` escapes are already undone),
 * String is taken as is, including the empty string.
 */
export function parseTyped(type: ValueType, text: string): unknown {
  switch (type) {
    case 'String':
      return text;
    case 'Boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw new Error(`not a Boolean: "${text}"`);
    case 'Integer':
    case 'Float': {
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`not a ${type}: "${text}"`);
      if (type === 'Integer' && !Number.isInteger(value)) throw new Error(`not an Integer: "${text}"`);
      return value;
    }
    case 'Object':
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`not JSON: ${text}`);
      }
  }
}

/** Deep equality for JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]))
  );
}

/** Whether `actual` is the value `expected` of the given type (numbers compared numerically). */
export function typedEqual(type: ValueType, expected: unknown, actual: unknown): boolean {
  switch (type) {
    case 'Integer':
    case 'Float':
      return typeof actual === 'number' && actual === expected;
    case 'Object':
      return jsonEqual(expected, actual);
    default:
      return actual === expected;
  }
}

/** Renders a value for a failure message, keeping its type visible ("1" vs 1). */
export function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** Throws `expected <what> to be <expected>, got <actual>` unless `ok`. */
export function check(ok: boolean, what: string, expected: unknown, actual: unknown): void {
  if (!ok) throw new Error(`expected ${what} to be ${show(expected)}, got ${show(actual)}`);
}
