#!/usr/bin/env node
// The `vexil` command. The code lives in dist/ (built by `npm install` / `npm run build` at the root).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a client's idle keep-alive socket must not keep a stopped daemon alive.
    process.exit(typeof code === 'number' ? code : 0);
  },
  (err) => {
    process.stderr.write(`vexil: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
