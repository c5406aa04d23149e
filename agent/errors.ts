/** Stable codes for failures on the laptop side; tests and the CLI match on these. */
export type AgentErrorCode =
  | 'bad-config'
  | 'unknown-provider'
  | 'unknown-credential'
  | 'duplicate-credential'
  | 'no-secret'
  | 'server-key-mismatch'
  | 'unknown-server'
  | 'bad-welcome'
  | 'refused'
  | 'connect-failed'
  | 'handshake-timeout'
  | 'heartbeat-timeout'
  | 'protocol'
  | 'bad-policy'
  | 'bad-url'
  | 'not-found'
  | 'no-agent'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'tls-cert-changed'
  | 'ssh-auth-failed'
  /** The built-in SSH transport cannot honour an ssh_config option that restricts trust: refused, never ignored. */
  | 'ssh-option-unsupported'
  | 'server-setup'
  | 'runtime-mismatch'
  | 'runtime-unavailable'
  | 'mint-failed'
  /** A subscription login's refresh token was refused by the vendor: someone must log in again. */
  | 'login-revoked'
  /** The vendor's token endpoint could not be reached or answered nonsense; the next request tries again. */
  | 'login-refresh-failed'
  /** Importing a CLI's own login would log that CLI out (or there is none): the reason says which. */
  | 'import-refused'
  /** `--login`: the vendor CLI's sign-in did not finish, is not installed, or saved nothing tether can read. */
  | 'sign-in-failed'
  /** Another tether process holds a lock (a renewal of the same login) for too long. */
  | 'lock-busy';

/** An expected failure: one line for a person, and a code for code. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
