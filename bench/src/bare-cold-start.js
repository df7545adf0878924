/**
 * The cold-start ceiling for daemon-bench.js: the least a process can do before it may say it is
 * ready to serve a flag file: start Node, read and JSON.parse the file, listen, and answer
 * `GET /readyz` with 200. No flag validation or compilation, no other servers.
 *
 *   node bare-cold-start.js <flag-file> <port>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, port] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(file, 'utf8'));
const ready = typeof doc.flags === 'object' && doc.flags !== null;

const server = createServer((req, res) => {
  res.writeHead(req.url === '/readyz' && ready ? 200 : 503).end();
});
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
