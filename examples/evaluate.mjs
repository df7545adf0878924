// Evaluates examples/flags.json for a few users with @vexil/core and prints what each one gets.
// `npm start` runs this until the daemon (vexil start) lands.
import { readFileSync } from 'node:fs';
import { Evaluator } from '@vexil/core';

const ev = new Evaluator();
ev.setFlags(readFileSync(new URL('./flags.json', import.meta.url), 'utf8'));

const users = [
  { targetingKey: 'user-1', email: 'ann@example.com', appVersion: '2.1.0' },
  { targetingKey: 'user-2', email: 'bob@customer.org', appVersion: '1.9.3' },
  { targetingKey: 'user-3', email: 'cy@customer.org', appVersion: 'v2.0.0' },
];
const rows = users.map((ctx) => {
  const row = { user: ctx.targetingKey };
  for (const f of ev.resolveAll(ctx)) row[f.flagKey] = `${JSON.stringify(f.value)} (${f.reason})`;
  return row;
});
console.table(rows);
