/**
 * gRPC status codes by name, as fixed by the gRPC specification (doc/statuscodes.md). Kept here
 * rather than imported from @grpc/grpc-js so that resolving options loads no transport code.
 */
export const GRPC_STATUS_CODES = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const);

export type GrpcStatusName = keyof typeof GRPC_STATUS_CODES;

const BY_NUMBER = new Map<number, GrpcStatusName>(
  Object.entries(GRPC_STATUS_CODES).map(([name, code]) => [code, name as GrpcStatusName]),
);

/**
 * The numeric code for a status name ("PERMISSION_DENIED", any case) or a decimal code ("7"), or
 * undefined if it is neither. The official provider only knows exact upper-case names; the lower
 * case and numeric spellings are accepted here because they are unambiguous.
 */
export function grpcStatusCode(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,2}$/.test(trimmed)) {
    const code = Number(trimmed);
    return BY_NUMBER.has(code) ? code : undefined;
  }
  const upper = trimmed.toUpperCase();
  return Object.hasOwn(GRPC_STATUS_CODES, upper) ? GRPC_STATUS_CODES[upper as GrpcStatusName] : undefined;
}

/** The name of a numeric status code, or undefined for a number outside 0-16. */
export function grpcStatusName(code: number): GrpcStatusName | undefined {
  return BY_NUMBER.get(code);
}
