/**
 * The one error both providers throw for configuration they cannot use. Callers branch on `code`
 * and `option`, never on the message; the message starts with the option or environment variable
 * at fault, so a log line alone says what to fix (`FLAGD_PORT: "abc" is not a port number (1-65535)`).
 */
export const ProviderConfigErrorCode = {
  /** An option or environment variable has a value that cannot be used. */
  INVALID_OPTION: 'INVALID_OPTION',
} as const;
export type ProviderConfigErrorCode = (typeof ProviderConfigErrorCode)[keyof typeof ProviderConfigErrorCode];

export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
  // One code so far, hence no constructor argument for it. A literal rather than
  // ProviderConfigErrorCode.INVALID_OPTION, so that a bundle of the web provider does not carry
  // the catalogue object for one string.
  readonly code: ProviderConfigErrorCode = 'INVALID_OPTION';

  /** The option (`port`) or environment variable (`FLAGD_PORT`) whose value was refused. */
  // Declared and assigned rather than a parameter property, which would also emit a field
  // declaration: bytes in every page that bundles the web provider.
  declare readonly option: string;

  constructor(option: string, problem: string, options?: { cause?: unknown }) {
    // The options bag goes to Error as is, which installs `cause` only when the bag has one.
    super(`${option}: ${problem}`, options);
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
