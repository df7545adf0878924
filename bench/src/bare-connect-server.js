/**
 * The Connect ceiling for shapes-bench.js: a bare node:http2 server (h2c, prior knowledge, as
 * h2load connects) that reads each request body to its end and answers one constant Connect unary
 * response: HTTP 200, `content-type: application/proto`, the given bytes. No routing, no Connect
 * library, no protobuf decoding, no metrics: the least a server can do for the same wire calls.
 *
 *   node bare-connect-server.js <base64 of the response message>
 *
 * Prints one JSON line `{"msg":"bare connect listening","evaluation":P}`; SIGTERM stops it.
 */
import { createServer } from 'node:http2';

if (!process.argv[2]) throw new Error('usage: bare-connect-server.js <response-base64>');
const answer = Buffer.from(process.argv[2], 'base64');
const HEADERS = { ':status': 200, 'content-type': 'application/proto', 'content-length': answer.length };

const server = createServer();
server.on('stream', (stream) => {
  // The whole body is read first, as any unary server must before it can answer.
  stream.on('data', () => {});
  stream.once('end', () => {
    if (stream.destroyed) return;
    stream.respond(HEADERS);
    stream.end(answer);
  });
  stream.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'bare connect listening', evaluation: server.address().port })}\n`);
});

process.once('SIGTERM', () => {
  server.close();
  process.exit(0);
});
