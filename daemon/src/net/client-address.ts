/**
 * A client's address as every per-address limit counts it (the management API's failed-auth
 * limiter, the stream caps): one client reaching a dual-stack listener over IPv4 shows up as
 * `::ffff:10.0.0.1`, and must count as the same client as `10.0.0.1`.
 */
export function clientAddress(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'unknown';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}
