/** Something an SSH login asks a person: a passphrase, a password, a one-time code, an unknown host key. */
export interface SshPrompt {
  kind: 'passphrase' | 'password' | 'otp' | 'host-key' | 'confirm' | 'text';
  /** What ssh (or the server) said, as it said it; for host keys it includes the fingerprint. */
  text: string;
  /** Whether the answer may be shown as it is typed (a yes/no, not a secret). */
  echo: boolean;
  /** The server as the user named it. */
  host: string;
  /** Unknown host key: the fingerprint and key type ssh showed. */
  fingerprint?: string;
  keyType?: string;
  /** 2 and up when the same ssh asks the same question again: the last answer was refused. */
  attempt?: number;
}

/**
 * Asks a person; resolves undefined when nobody can answer (no terminal, no window), they
 * cancel, or `signal` aborts (ssh went away before anyone answered).
 */
export type SshPrompter = (prompt: SshPrompt, signal?: AbortSignal) => Promise<string | undefined>;

const FINGERPRINT = /\b(SHA256:[A-Za-z0-9+/]{43}|MD5(?::[0-9a-f]{2}){16})/;

/** What kind of question an ssh prompt is, from its words (OpenSSH's and PAM's usual phrasings). */
export function classifyPrompt(text: string, host: string, mode = ''): SshPrompt {
  const t = text.trim();
  if (mode === 'confirm') return { kind: 'confirm', text: t, echo: true, host };
  // The first question, and ssh's re-ask after an answer that was not yes, no or the fingerprint.
  if (/authenticity of host|continue connecting|key fingerprint is|Please type 'yes', 'no' or the fingerprint/i.test(t)) {
    const fingerprint = FINGERPRINT.exec(t)?.[1];
    const keyType = /([A-Z0-9-]+) key fingerprint is/.exec(t)?.[1];
    return { kind: 'host-key', text: t, echo: true, host, ...(fingerprint ? { fingerprint } : {}), ...(keyType ? { keyType } : {}) };
  }
  if (/passphrase/i.test(t)) return { kind: 'passphrase', text: t, echo: false, host };
  if (/verification code|one[- ]time|\botp\b|\btoken\b|passcode|\bcode\b|duo|two-factor|2fa/i.test(t)) return { kind: 'otp', text: t, echo: false, host };
  if (/password|\bpin\b/i.test(t)) return { kind: 'password', text: t, echo: false, host };
  return { kind: 'text', text: t, echo: false, host };
}

/**
 * What may go back to ssh. ssh asks an unknown host key again, forever, until it reads yes,
 * no or the fingerprint, so anything else is "no"; other answers are one line.
 */
export function answerFor(prompt: SshPrompt, answer: string): string | undefined {
  if (prompt.kind === 'host-key') {
    const a = answer.trim();
    if (/^yes$/i.test(a)) return 'yes';
    if (prompt.fingerprint && a === prompt.fingerprint) return a;
    return 'no';
  }
  // A line break would end ssh's read early and leave the rest for the next question.
  return answer.replace(/[\r\n][\s\S]*$/, '');
}
