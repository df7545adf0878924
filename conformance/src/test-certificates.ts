/**
 * A throwaway CA and a server certificate it signed, made with the `openssl` CLI, for the
 * testbed's `ssl` provider ("a ssl flagd provider", launchpad's TLS configuration). Upstream ships
 * a fixed certificate pair in its test harness; making them per run keeps private keys out of the
 * repository and expiry out of the picture.
 *
 * The server certificate's subjectAltName covers `localhost` and `127.0.0.1`, so a client may dial
 * either name. Providers trust the CA (`certPath`); the daemon serves the server pair (`-c`/`-k`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The CA certificate (PEM): what a client trusts. */
  caCertPath: string;
  /** The server certificate (PEM), signed by the CA. */
  serverCertPath: string;
  /** The server's private key (PEM, unencrypted). */
  serverKeyPath: string;
}

/** Valid for two days: long enough for any run, short enough that a leaked pair is worthless. */
const DAYS = '2';

/** Creates the CA and the server pair in a new temp directory (P-256 keys: fast to make). */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'vexil-conformance-tls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(
      'req', '-x509', ...ecKey, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', DAYS,
      '-subj', '/CN=Vexil conformance test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl('req', ...ecKey, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost');
    writeFileSync(
      path('server.ext'),
      [
        'subjectAltName = DNS:localhost, IP:127.0.0.1',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = serverAuth',
      ].join('\n'),
    );
    openssl(
      'x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'),
      '-CAcreateserial', '-out', path('server.crt'), '-days', DAYS, '-extfile', path('server.ext'),
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl failed to make the test certificates${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
  return { dir, caCertPath: path('ca.crt'), serverCertPath: path('server.crt'), serverKeyPath: path('server.key') };
}

let shared: TestCertificates | undefined;

/**
 * The certificates of this test process, made on first use (so runs that never start a TLS daemon
 * never call openssl) and kept until releaseSharedTestCertificates().
 */
export function sharedTestCertificates(): TestCertificates {
  shared ??= createTestCertificates();
  return shared;
}

/**
 * Removes the shared certificates (if any were made); the next use makes new ones. Test files call
 * it after their last suite: a test worker may be ended without its `exit` event.
 */
export function releaseSharedTestCertificates(): void {
  if (shared) rmSync(shared.dir, { recursive: true, force: true });
  shared = undefined;
}
