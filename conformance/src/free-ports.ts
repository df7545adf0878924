/**
 * Free loopback ports below Linux's ephemeral range (32768 and up): a daemon killed and restarted
 * on its ports, or a port where nothing must listen, cannot meanwhile be handed to a server
 * elsewhere in the test run that binds port 0. Shared by the conformance harness and the server
 * provider's tests.
 */
import { createServer } from 'node:net';

/** True when 127.0.0.1:port can be bound right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
  });
}

/** `count` free ports from 20000-31999 (below the ephemeral range), starting at a random place. */
export async function freePorts(count: number): Promise<number[]> {
  const found: number[] = [];
  let port = 20_000 + Math.floor(Math.random() * 11_000);
  for (let tries = 0; found.length < count && tries < 2_000; tries++, port = port >= 31_999 ? 20_000 : port + 1) {
    if (await isFree(port)) found.push(port);
  }
  if (found.length < count) throw new Error(`no ${count} free ports between 20000 and 31999`);
  return found;
}
