/** @vexil/server-provider: the public API. */
export {};
