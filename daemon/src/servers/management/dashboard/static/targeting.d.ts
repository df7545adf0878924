// Types of targeting.js, for the tests that run it in Node (the page needs none). Not served.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Rule = { [op: string]: Json };

export function parseJson(text: string): { ok: true; value: Json } | { ok: false; message: string; line: number; column: number; offset: number; detail: string };
/** For text JSON.parse refuses: where (offset) and what was expected there; for valid JSON, { offset: text.length, expected: 'valid JSON' }. */
export function locateJsonError(text: string): { offset: number; expected: string };
export function booleanPair(variants: unknown): { on: string; off: string } | undefined;
export function fractionalParts(args: unknown): { bucketBy: Json | undefined; buckets: Json[][] } | undefined;
export function splitOf(fractionalArgs: unknown): { variant: string; weight: number; percent: number }[] | undefined;
export function rolloutSplit(targeting: unknown): { variant: string; weight: number; percent: number }[] | undefined;
export function describeSplit(split: { variant: string; percent: number }[]): string;
export function rolloutPercent(targeting: unknown, pair: { on: string; off: string }): number | undefined;
export function withRollout(targeting: unknown, percent: number, pair: { on: string; off: string }): Rule;
export const RULE_OPERATORS: Record<string, { label: string; build(attribute: string, value: string): Rule }>;
export function buildCondition(attribute: string, operator: string, value: string): Rule;
export function withTargetedRule(targeting: unknown, condition: Rule, variant: string): Rule;
export function jsonDiff(before: unknown, after: unknown): { path: string; before: unknown; after: unknown }[];
export function isKilled(flag: { state: string; metadata?: Record<string, unknown> }): boolean;
export function isArchived(flag: { metadata?: Record<string, unknown> }): boolean;
