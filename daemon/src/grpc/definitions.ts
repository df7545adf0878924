/**
 * grpc-js helpers shared by the daemon's gRPC servers (evaluation, sync) and its grpc:// source,
 * which is why they live outside both `servers/` and `sources/`. The service definitions themselves
 * come from `@vexil/proto/grpc-js` (shared with the server provider) and are re-exported here.
 */
import type { Server } from '@grpc/grpc-js';

export { grpcServiceDefinition, malformedRequest } from '@vexil/proto/grpc-js';

/**
 * Server options that keep long-lived streams alive: clients (the official providers) may ping
 * often, and grpc-js would otherwise answer GOAWAY too_many_pings and drop every stream.
 */
export const STREAM_FRIENDLY_SERVER_OPTIONS = {
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 1_000,
  'grpc.http2.max_ping_strikes': 0,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
} as const;

/** Lets in-flight calls finish for up to `graceMs`, then cancels whatever is left. */
export function shutdownGracefully(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    t.unref();
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
