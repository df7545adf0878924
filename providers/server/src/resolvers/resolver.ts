/**
 * What a resolver mode (in-process, rpc, file) gives the provider. The provider owns the
 * OpenFeature lifecycle (events, STALE → ERROR grace period); a resolver only reports what
 * happened to its connection and its flags.
 */
import type { EvaluationContext, JsonValue, Logger, ResolutionDetails } from '@openfeature/server-sdk';
import type { FlagValueType } from '@vexil/core';

/** The OpenFeature type a provider method asks for: the engine's FlagValueType. */
export type FlagType = FlagValueType;

export interface ResolverEvents {
  /** Connected again after `lost` (not called for the first connection: `connect` resolving is that). */
  reconnected(flagsChanged: string[]): void;
  /** Flags changed while connected. */
  changed(flagsChanged: string[]): void;
  /** The connection broke; the resolver is already trying again. */
  lost(message: string): void;
  /** The connection is refused for good (a fatal status code): no retries. */
  fatal(message: string): void;
}

export interface Resolver {
  /**
   * Starts the connection. Resolves with the first flag set (or readiness); rejects with a
   * GeneralError / ProviderFatalError when the first attempt fails or `deadlineMs` passes, while
   * the resolver keeps retrying in the background (a later success calls `reconnected`).
   */
  connect(events: ResolverEvents): Promise<void>;
  /** Stops every stream, timer and watcher. */
  disconnect(): Promise<void>;
  resolve<T extends JsonValue>(type: FlagType, flagKey: string, defaultValue: T, context: EvaluationContext, logger: Logger): ResolutionDetails<T> | Promise<ResolutionDetails<T>>;
  /** Drops cached evaluations (rpc); a no-op where nothing is cached. */
  clearCache(): void;
}
