/**
 * The evaluation context a request is evaluated with, as flagd builds it: the request's context,
 * overridden by the static values of `-X key=value`, overridden by request headers mapped with
 * `-H Header=key`. Shared by every evaluation protocol (gRPC, Connect, OFREP).
 */
import type { EvaluationContext } from '@vexil/core';

export interface ContextOptions {
  /** `-X`: static context entries. */
  readonly contextValues: Readonly<Record<string, string>>;
  /** `-H`: request header name → context key. */
  readonly contextFromHeaders: Readonly<Record<string, string>>;
}

/** Reads one request header by name (case-insensitive, first value). */
export type HeaderGetter = (name: string) => string | undefined;

export function mergeContext(request: object | undefined, header: HeaderGetter, options: ContextOptions): EvaluationContext {
  const values = options.contextValues;
  const mapped = options.contextFromHeaders;
  const valueKeys = Object.keys(values);
  const headerKeys = Object.keys(mapped);
  if (valueKeys.length === 0 && headerKeys.length === 0) return (request ?? {}) as EvaluationContext;
  // Defined as data properties: a key named "__proto__" stays an ordinary key.
  const ctx: Record<string, unknown> = Object.fromEntries(Object.entries(request ?? {}));
  const set = (k: string, v: unknown) => Object.defineProperty(ctx, k, { value: v, enumerable: true, configurable: true, writable: true });
  for (const k of valueKeys) set(k, values[k]);
  for (const h of headerKeys) {
    const v = header(h.toLowerCase());
    if (v !== undefined) set(mapped[h], v);
  }
  return ctx as EvaluationContext;
}
