/**
 * Listening for the servers that own a raw net/tls listener (evaluation, sync, management).
 *
 * A unix socket file outlives a process that was killed (SIGKILL, OOM): the next start would fail
 * with EADDRINUSE. Before listening, a socket file nobody answers on is removed; one a live process
 * still serves is left alone, so two daemons cannot steal each other's socket.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect, type Server as NetServer } from 'node:net';

export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) return; // not ours to delete; listen() reports EADDRINUSE with the path
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (!alive) unlinkSync(path);
}

/**
 * Listens on a unix socket (after removing a stale one) or on host:port; resolves with the bound
 * port (0 for a socket). Shared by the servers that own a raw net/tls listener.
 */
export function listenNet(server: NetServer, at: { socketPath?: string; port: number; host: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    };
    if (at.socketPath !== undefined) {
      const path = at.socketPath;
      removeStaleSocket(path).then(() => server.listen(path, done), reject);
    } else server.listen(at.port, at.host, done);
  });
}
