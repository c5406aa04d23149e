/** Why a secret store refused; stable codes so callers and tests never match message text. */
export type VaultErrorCode =
  | 'read-only'
  | 'wrong-passphrase'
  | 'no-passphrase'
  | 'passphrase-mismatch'
  | 'keychain-unavailable'
  | 'corrupt'
  | 'not-found';

/** A secret-store failure a person can act on: the message is one line, never a secret. */
export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isVaultError(err: unknown, code?: VaultErrorCode): err is VaultError {
  return err instanceof VaultError && (code === undefined || err.code === code);
}

/** First line of an underlying error, for messages that must stay one line. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0]?.trim() ?? '';
}
