import type { Browser, Page } from 'playwright-core';

export declare const CHROMIUM_PATH: string;
export declare function launchChromium(): Promise<Browser>;
export declare function buildPages(outdir: string): Promise<void>;
export declare function serveStatic(dir: string, port?: number): Promise<{ origin: string; close(): Promise<void> }>;
export declare function demoUrl(origin: string, params: Record<string, string>): string;
export declare function writeAtomic(file: string, text: string): void;
export declare function wallMs(): number;

export interface RenderedFlag {
  value: unknown;
  variant: string;
  reason: string;
  errorCode: string;
}
export declare function readFlags(page: Page): Promise<Record<string, RenderedFlag>>;
export declare function readStatus(page: Page): Promise<{ status: string; message: string }>;
export declare function waitForStatus(page: Page, statuses: string | string[], timeout?: number): Promise<{ status: string; message: string }>;
export declare function waitForFlag(page: Page, key: string, value: unknown, timeout?: number): Promise<number>;

export interface LatencySample {
  /** From the start of the write to the page's render that showed the change. */
  ms: number;
  /** Until the test process saw it (adds a CDP round trip). */
  observedMs: number;
}
export declare function measureChangeLatency(
  page: Page,
  options: { file: string; key: string; docFor(i: number): string; valueFor(i: number): unknown; runs?: number; timeout?: number; pauseMs?: number },
): Promise<LatencySample[]>;
export declare function median(values: number[]): number;
export declare function quantile(values: number[], q: number): number;
