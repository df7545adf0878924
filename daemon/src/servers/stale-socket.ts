/**
 * A unix socket file outlives a process that was killed (SIGKILL, OOM): the next start would fail
 * with EADDRINUSE. Before listening, a socket file nobody answers on is removed; one a live process
 * still serves is left alone, so two daemons cannot steal each other's socket.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';

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
