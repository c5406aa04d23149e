/** Something an SSH login asks a person: a passphrase, a password, a one-time code, an unknown host key. */
export interface SshPrompt {
  kind: 'passphrase' | 'password' | 'otp' | 'host-key' | 'confirm' | 'text';
  /** What ssh (or the server) said, as it said it; for host keys it includes the fingerprint. */
  text: string;
  /** Whether the answer may be shown as it is typed (a yes/no, not a secret). */
  echo: boolean;
  /** The server as the user named it. */
  host: string;
}

/** Asks a person; resolves undefined when nobody can answer (no terminal, no window) or they cancel. */
export type SshPrompter = (prompt: SshPrompt) => Promise<string | undefined>;

/** What kind of question an ssh prompt is, from its words (OpenSSH's and PAM's usual phrasings). */
export function classifyPrompt(text: string, host: string, mode = ''): SshPrompt {
  const t = text.trim();
  if (mode === 'confirm') return { kind: 'confirm', text: t, echo: true, host };
  if (/authenticity of host|continue connecting|key fingerprint is/i.test(t)) return { kind: 'host-key', text: t, echo: true, host };
  if (/passphrase/i.test(t)) return { kind: 'passphrase', text: t, echo: false, host };
  if (/verification code|one[- ]time|otp|token|passcode|\bcode\b|duo|two-factor|2fa/i.test(t)) return { kind: 'otp', text: t, echo: false, host };
  if (/password|pin\b/i.test(t)) return { kind: 'password', text: t, echo: false, host };
  return { kind: 'text', text: t, echo: false, host };
}
