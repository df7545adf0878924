/**
 * The one error resolveConfig throws. Callers branch on `code`, never on the message; the message
 * always starts with the option or environment variable at fault so a log line alone says what to
 * fix, e.g. `FLAGD_PORT: "abc" is not a port number (1-65535)`.
 */
export const ProviderConfigErrorCode = {
  /** An option or FLAGD_* environment variable has a value that cannot be used. */
  INVALID_OPTION: 'INVALID_OPTION',
} as const;
export type ProviderConfigErrorCode = (typeof ProviderConfigErrorCode)[keyof typeof ProviderConfigErrorCode];

export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
  readonly code: ProviderConfigErrorCode;
  /** The option (`port`) or environment variable (`FLAGD_PORT`) whose value was refused. */
  readonly option: string;

  constructor(option: string, problem: string, options?: { cause?: unknown; code?: ProviderConfigErrorCode }) {
    super(`${option}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? ProviderConfigErrorCode.INVALID_OPTION;
    this.option = option;
  }
}

/** Type guard that also works across bundle copies of this package, where `instanceof` does not. */
export function isProviderConfigError(err: unknown): err is ProviderConfigError {
  return (
    err instanceof ProviderConfigError ||
    (err instanceof Error &&
      err.name === 'ProviderConfigError' &&
      typeof (err as Partial<ProviderConfigError>).code === 'string' &&
      typeof (err as Partial<ProviderConfigError>).option === 'string')
  );
}
