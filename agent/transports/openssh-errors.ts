import { AgentError } from '../errors.js';
import { classifyPrompt } from './ssh-prompt.js';

/**
 * What ssh printed when it gave up, as one line a person can act on, with the code the
 * reconnect logic and tests go by. `asked` holds the prompts ssh showed (an unknown host
 * key's fingerprint is only in its prompt when it could not ask anyone); `unanswered`, how
 * many of them nobody answered.
 */
export function openSshFailure(alias: string, stderr: string, exitCode: number | null, asked: string[] = [], unanswered = 0, known = true): AgentError {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const text = lines.join('\n');
  const fingerprint = /(SHA256:[A-Za-z0-9+/]{43})/.exec(text)?.[1] ?? /(SHA256:[A-Za-z0-9+/]{43})/.exec(asked.join('\n'))?.[1];
  const keyType = /(ED25519|ECDSA|RSA|DSA)[\w-]* (?:host )?key/i.exec(text)?.[1] ?? /(ED25519|ECDSA|RSA|DSA)[\w-]* key fingerprint/i.exec(asked.join('\n'))?.[1];
  const key = [keyType, fingerprint].filter(Boolean).join(' ');
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed|REVOKED HOST KEY|revoked key/i.test(text)) {
    const what = /REVOKED/i.test(text) ? 'REVOKED' : 'CHANGED';
    const line = /Offending .* key in (\S+)/.exec(text)?.[1];
    return new AgentError('host-key-changed', `HOST KEY ${what} for ${alias}${key ? `: it now presents ${key}` : ''}${line ? ` (${line})` : ''}; someone may be intercepting the connection: not connecting (if the server was reinstalled, fix known_hosts with \`ssh-keygen -R\`)`);
  }
  if (/Host key verification failed|No \S+ host key is known for|authenticity of host/i.test(text)) {
    return new AgentError('host-key-unknown', `unknown host key for ${alias}${key ? `: ${key}` : ''}; if that is the server's key, run \`ssh ${alias}\` once to add it to known_hosts (or answer the prompt in the Tether window), then connect again`);
  }
  const denied = /Permission denied \(([^)]*)\)/.exec(text);
  if (denied || /Too many authentication failures|Authentication failed/i.test(text)) {
    return new AgentError('ssh-auth-failed', `SSH login to ${alias} failed: ${denied ? `permission denied (${denied[1]})` : lastWords(lines)}: ${loginHint(alias, asked, unanswered)}`);
  }
  if (/Could not resolve hostname/i.test(text)) {
    const why = known ? 'ssh cannot resolve its host name' : `"${alias}" is not a Host in ~/.ssh/config and ssh cannot resolve it as a host name`;
    return new AgentError('connect-failed', `cannot reach ${alias}: ${why}: \`tether servers list\` shows the servers you can name`);
  }
  if (/Bad configuration option|Unsupported option|Bad owner or permissions|configuration file/i.test(text)) {
    return new AgentError('bad-config', `ssh refuses its configuration for ${alias}: ${lastWords(lines)}`);
  }
  return new AgentError('connect-failed', `cannot reach ${alias} over SSH: ${lastWords(lines) || `ssh exited with ${exitCode ?? 'a signal'}`}`);
}

const WHAT = { passphrase: 'the passphrase', password: 'the password', otp: 'the one-time code' } as const;

/** What went wrong with the login's questions, from what ssh asked and whether anyone answered. */
function loginHint(alias: string, asked: string[], unanswered: number): string {
  const last = [...asked].reverse().map((t) => classifyPrompt(t, alias)).find((p) => p.kind !== 'host-key' && p.kind !== 'confirm');
  if (last && unanswered > 0) return `nobody answered ssh's question (${last.text.replace(/[:\s]+$/, '')}): run \`tether agent\` at a terminal, or answer in the Tether window`;
  if (last && last.kind in WHAT) {
    const times = asked.filter((t) => t.trim() === last.text).length;
    // ssh asks a key's passphrase again only when it was wrong: once means the key was unlocked.
    if (last.kind === 'passphrase' && times === 1) return 'the key was unlocked, but the server did not accept it';
    return `${WHAT[last.kind as keyof typeof WHAT]} was refused${times > 1 ? ` ${times} times` : ''}`;
  }
  return `check the key, ssh-agent or password that \`ssh ${alias}\` uses`;
}

/** ssh's last line that says something (not the "Warning: Permanently added" kind). */
function lastWords(lines: string[]): string {
  const useful = lines.filter((l) => !/^Warning: Permanently added|^debug\d?:|^Pseudo-terminal/.test(l));
  return (useful.at(-1) ?? '').replace(/^ssh: /, '').replace(/\.$/, '').slice(0, 300);
}
