/**
 * The gRPC channel a provider talks over, from the provider's options, as the official flagd
 * provider builds it: `unix:<socketPath>` or `host:port` (or a target URI), TLS with the given
 * root certificate or the system's, `grpc.default_authority` and `grpc.keepalive_time_ms` (only
 * when > 0).
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { ProviderConfigError, type ResolvedConfig } from '../config/index.js';

export type ChannelSettings = Pick<ResolvedConfig, 'grpcTarget' | 'targetUri' | 'socketPath' | 'tls' | 'certPath' | 'keepAliveTime' | 'defaultAuthority'>;

export interface Channel {
  target: string;
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
}

/**
 * `envoy://host:port/service` (flagd's proxy convention) dials host:port with the service as the
 * HTTP/2 authority, which is what envoy routes on; grpc-js has no resolver for the scheme.
 */
function fromTargetUri(uri: string): { target: string; authority?: string } {
  const m = /^envoy:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (m) return { target: m[1], authority: m[2] };
  return { target: uri };
}

export function channelOf(s: ChannelSettings): Channel {
  let target = s.grpcTarget;
  let authority = s.defaultAuthority;
  if (!s.socketPath && s.targetUri) {
    const t = fromTargetUri(s.targetUri);
    target = t.target;
    authority ??= t.authority;
  }
  // The certificate is read once, here: a missing file fails the provider's construction with its path.
  const credentials = s.tls ? grpc.credentials.createSsl(s.certPath ? readCertificate(s.certPath) : undefined) : grpc.credentials.createInsecure();
  const options: grpc.ChannelOptions = {
    // The stream's own backoff decides when to try again; the channel's would add to it.
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 2_000,
  };
  if (authority) options['grpc.default_authority'] = authority;
  if (s.keepAliveTime > 0) options['grpc.keepalive_time_ms'] = s.keepAliveTime;
  return { target, credentials, options };
}

/** The root certificate file; an unreadable one is a configuration error naming the option and path. */
function readCertificate(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new ProviderConfigError('certPath', `cannot read the certificate file ${JSON.stringify(path)} (${reason})`, { cause: err });
  }
}
