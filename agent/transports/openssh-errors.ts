import { AgentError } from '../errors.js';

/**
 * What ssh printed when it gave up, as one line a person can act on, with the code the
 * reconnect logic and tests go by. `asked` holds the prompts ssh showed (an unknown host
 * key's fingerprint is only in its prompt when it could not ask anyone).
 */
export function openSshFailure(alias: string, stderr: string, exitCode: number | null, asked: string[] = [], known = true): AgentError {
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
    return new AgentError('ssh-auth-failed', `SSH login to ${alias} failed: ${denied ? `permission denied (${denied[1]})` : lastWords(lines)}: check the key, ssh-agent or password that \`ssh ${alias}\` uses`);
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

/** ssh's last line that says something (not the "Warning: Permanently added" kind). */
function lastWords(lines: string[]): string {
  const useful = lines.filter((l) => !/^Warning: Permanently added|^debug\d?:|^Pseudo-terminal/.test(l));
  return (useful.at(-1) ?? '').replace(/^ssh: /, '').replace(/\.$/, '').slice(0, 300);
}
