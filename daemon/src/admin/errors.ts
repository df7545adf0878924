/**
 * The management API's error catalogue: one closed set of stable codes, each with its HTTP
 * status. Every error the API answers is `{ error: { code, message, path?, current? } }`
 * (docs/management-api.md); a test checks this catalogue against that document.
 */
export const AdminErrorCode = {
  INVALID_FLAG: 'INVALID_FLAG',
  INVALID_REQUEST: 'INVALID_REQUEST',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  LOOPBACK_ONLY: 'LOOPBACK_ONLY',
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  CROSS_ORIGIN_REQUEST: 'CROSS_ORIGIN_REQUEST',
  CSRF_HEADER_REQUIRED: 'CSRF_HEADER_REQUIRED',
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  FLAG_EXISTS: 'FLAG_EXISTS',
  UNSUPPORTED_SOURCE: 'UNSUPPORTED_SOURCE',
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  PRECONDITION_REQUIRED: 'PRECONDITION_REQUIRED',
  RATE_LIMITED: 'RATE_LIMITED',
  SOURCE_UNAVAILABLE: 'SOURCE_UNAVAILABLE',
  SOURCE_OF_TRUTH_MISMATCH: 'SOURCE_OF_TRUTH_MISMATCH',
  AUDIT_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_ROLLOUT: 'INVALID_ROLLOUT',
  ROLLOUT_HAND_EDITED: 'ROLLOUT_HAND_EDITED',
  NO_ROLLOUT: 'NO_ROLLOUT',
  INTERNAL: 'INTERNAL',
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

export const ADMIN_ERROR_STATUS: Readonly<Record<AdminErrorCode, number>> = Object.freeze({
  INVALID_FLAG: 400,
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  LOOPBACK_ONLY: 403,
  HOST_NOT_ALLOWED: 403,
  CROSS_ORIGIN_REQUEST: 403,
  CSRF_HEADER_REQUIRED: 403,
  FLAG_NOT_FOUND: 404,
  NOT_FOUND: 404,
  FLAG_EXISTS: 409,
  INVALID_ROLLOUT: 400,
  ROLLOUT_HAND_EDITED: 409,
  NO_ROLLOUT: 409,
  UNSUPPORTED_SOURCE: 409,
  VERSION_MISMATCH: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  PRECONDITION_REQUIRED: 428,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SOURCE_UNAVAILABLE: 503,
  SOURCE_OF_TRUTH_MISMATCH: 503,
  AUDIT_UNAVAILABLE: 503,
});

export interface AdminErrorBody {
  readonly error: {
    readonly code: AdminErrorCode;
    readonly message: string;
    readonly path?: string;
    readonly current?: string;
    readonly engineCode?: string;
    /** ROLLOUT_HAND_EDITED: the targeting in the source and the one the rollout compiled. */
    readonly targeting?: { readonly edited: unknown; readonly compiled: unknown };
  };
}

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly status: number;

  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly details: { path?: string; current?: string; engineCode?: string; targeting?: { edited: unknown; compiled: unknown } } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ADMIN_ERROR_STATUS[code];
  }

  /** Anything caught, as an AdminError (unknown errors become INTERNAL, keeping the cause). */
  static from(err: unknown): AdminError {
    if (err instanceof AdminError) return err;
    return new AdminError(AdminErrorCode.INTERNAL, err instanceof Error ? err.message : String(err), {}, { cause: err });
  }

  toBody(): AdminErrorBody {
    const { path, current, engineCode, targeting } = this.details;
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(path !== undefined ? { path } : {}),
        ...(current !== undefined ? { current } : {}),
        ...(engineCode !== undefined ? { engineCode } : {}),
        ...(targeting !== undefined ? { targeting } : {}),
      },
    };
  }
}

export function isAdminError(err: unknown): err is AdminError {
  return err instanceof AdminError;
}
