/**
 * The flag set in-process and file modes evaluate against: @vexil/core's Evaluator, loaded from
 * flagd's JSON documents. A refused document keeps the previous set in force (the official
 * provider would go on with no flags) and is logged with the flag key and JSON path.
 */
import { Evaluator, type EvaluationContext as CoreContext } from '@vexil/core';
import { ErrorCode, type EvaluationContext, type JsonValue, type Logger, type ResolutionDetails } from '@openfeature/server-sdk';
import type { FlagType } from './resolver.js';

export type LoadOutcome = { ok: true; changed: string[] } | { ok: false; message: string };

export class LocalFlags {
  private readonly evaluator = new Evaluator();
  private loaded = false;

  constructor(
    private readonly logger: Logger | undefined,
    /** Where documents come from, for log lines: a sync target or a file path. */
    private readonly origin: string,
  ) {}

  get ready(): boolean {
    return this.loaded;
  }

  /** Loads a document; on refusal keeps the current flags and says why. */
  load(document: string | object): LoadOutcome {
    try {
      const r = this.evaluator.load(document);
      this.loaded = true;
      for (const w of r.warnings) this.logger?.warn(`flag set from ${this.origin}: ${w.message} (at ${w.path})`);
      return { ok: true, changed: r.changed };
    } catch (err) {
      // A FlagConfigError's message already ends with "(at <path>)".
      const message = err instanceof Error ? err.message : String(err);
      this.logger?.error(`refused the flag set from ${this.origin}: ${message}; ${this.loaded ? 'still evaluating the last good one' : 'no flags yet'}`);
      return { ok: false, message };
    }
  }

  keys(): string[] {
    return this.evaluator.keys();
  }

  resolve<T extends JsonValue>(type: FlagType, flagKey: string, defaultValue: T, context: EvaluationContext): ResolutionDetails<T> {
    if (!this.loaded) return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.PROVIDER_NOT_READY, errorMessage: 'no flag set received yet' };
    // OpenFeature's and @vexil/core's context and details have the same shape (flagd semantics).
    const ctx = context as CoreContext;
    const d = this.evaluator.resolve(type, flagKey, defaultValue, ctx);
    return d as unknown as ResolutionDetails<T>;
  }
}
