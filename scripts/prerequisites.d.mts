// Types for prerequisites.mjs (plain Node so that it runs before the build), for the TypeScript tests.

export interface Prerequisite {
  readonly name: string;
  readonly why: string;
  /** Found as an executable file at exactly this path. */
  readonly path?: string;
  /** Found as an executable of this name on PATH. */
  readonly command?: string;
  /** The environment variable that set `path`, when it did. */
  readonly override?: string;
  readonly debian: string;
  readonly versionArgs: readonly string[];
}

export declare const CHROMIUM_PATH: string;
export declare const PREREQUISITES: readonly Prerequisite[];
export declare function which(name: string, pathEnv?: string): string | undefined;
export declare function locate(entry: Prerequisite, pathEnv?: string): string | undefined;
export declare function missingPrerequisites(table?: readonly Prerequisite[], pathEnv?: string): Prerequisite[];
export declare function installCommand(packages: readonly string[], root?: boolean): string;
export declare function missingMessage(missing: readonly Prerequisite[], node?: string): string;
export declare function main(argv?: readonly string[], env?: NodeJS.ProcessEnv): number;
