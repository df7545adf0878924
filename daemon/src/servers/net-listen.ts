/**
 * Listening for the servers that own a raw net/tls listener (evaluation, sync, management), and
 * telling HTTP/2 from HTTP/1 on the ports that serve both.
 *
 * A unix socket file outlives a process that was killed (SIGKILL, OOM): the next start would fail
 * with EADDRINUSE. Before listening, a socket file nobody answers on is removed; one a live process
 * still serves is left alone, so two daemons cannot steal each other's socket.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect, type Server as NetServer, type Socket } from 'node:net';

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

/** What every HTTP/2 client with prior knowledge (h2c, as gRPC clients use it) sends first. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface SniffOptions {
  /** The connection is destroyed when it has not told its protocol within this long; 0: no limit. */
  readonly timeoutMs: number;
  /** Called (once) when the timeout closed the connection. */
  readonly onTimeout?: () => void;
}

/**
 * Tells an h2c connection from an HTTP/1 one on a plaintext port that serves both. The first TCP
 * segment can be as short as one byte (`P` of POST, PUT and PATCH is also the preface's first
 * byte), so bytes are buffered across chunks until they either differ from the preface (HTTP/1)
 * or hold all 24 of it (HTTP/2). `decided` gets the socket paused with every byte read so far put
 * back, so the protocol handler it hands the socket to reads them first.
 */
export function sniffHttp2(socket: Socket, options: SniffOptions, decided: (http2: boolean) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  const timer =
    options.timeoutMs > 0
      ? setTimeout(() => {
          socket.off('data', onData);
          socket.destroy();
          options.onTimeout?.();
        }, options.timeoutMs)
      : undefined;
  const stop = () => clearTimeout(timer);
  socket.once('close', stop);
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
    const n = Math.min(head.length, H2_PREFACE.length);
    const matches = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matches && n < H2_PREFACE.length) return; // could still be either: wait for more
    socket.off('data', onData);
    socket.off('close', stop);
    stop();
    socket.pause();
    socket.unshift(head);
    decided(matches);
  };
  socket.on('data', onData);
}
