#!/usr/bin/env node
// The `vexil` command. The code lives in dist/ (built by `npm install` / `npm run build` at the root).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`vexil: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
