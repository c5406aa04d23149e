/**
 * Stable error codes carried in `error` frames and control API answers. Tests and clients
 * match on these, never on message text.
 */
export const ErrorCodes = [
  'bad-json',
  'bad-message',
  'unknown-type',
  'unexpected-message',
  'version-mismatch',
  'frame-too-large',
  'bad-frame',
  'handshake-timeout',
  'auth-failed',
  'not-authorized',
  'pair-failed',
  'server-key-mismatch',
  'rate-limited',
  'unknown-stream',
  'flow-control',
  'unknown-lease',
  'internal',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** WebSocket close codes. 4xxx mirror HTTP where a reader would guess them. */
export const CloseCodes = {
  normal: 1000,
  tooBig: 1009,
  protocolError: 4400,
  handshakeTimeout: 4401,
  authFailed: 4403,
  heartbeatTimeout: 4408,
  versionMismatch: 4426,
  rateLimited: 4429,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** A protocol violation: what went wrong on the wire, with a stable code. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly closeCode: CloseCode = CloseCodes.protocolError,
  ) {
    super(message);
  }
}
