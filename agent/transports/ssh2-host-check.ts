// The built-in transport's host key decision, as ssh makes it (sshconnect.c verify_host_key):
// RequiredRSASize, RevokedHostKeys, then known_hosts (user files, then global ones, HostKeyAlias,
// CheckHostIP), then StrictHostKeyChecking for a key nobody listed. It only ever refuses more
// than ssh: a changed or revoked key is refused even with StrictHostKeyChecking no.
import { AgentError } from '../errors.js';
import { HostKeyUnknownError } from '../servers/host-key-trust.js';
import { addKnownHost, keyTypeOf, rsaModulusBits, knownHostName, knownHostsLine, lookupName, sshFingerprint, verifyHostKey, type HostKeyVerdict } from '../servers/known-hosts.js';
import { checkRevokedKeys } from '../servers/revoked-keys.js';
import type { SshHost } from '../servers/ssh-host.js';

export type HostKeyDecision = { ok: true; added?: string } | { ok: false; error: AgentError };

function where(host: SshHost): string {
  return host.port === 22 ? host.hostName : `[${host.hostName}]:${host.port}`;
}

function changed(host: SshHost, v: Extract<HostKeyVerdict, { state: 'changed' | 'revoked' }>): AgentError {
  return new AgentError(
    'host-key-changed',
    `HOST KEY ${v.state === 'revoked' ? 'REVOKED' : 'CHANGED'} for ${host.alias} (${where(host)}): it now presents ${v.keyType} ${v.fingerprint}, which ${v.file}:${v.line} does not allow; someone may be intercepting the connection: not connecting (if the server was reinstalled, fix that line)`,
  );
}

/**
 * Decides on the key a server presented. `ip` is the address connected to (CheckHostIP), only
 * for a direct TCP connection. May append to the first UserKnownHostsFile (accept-new / no).
 */
export function decideHostKey(host: SshHost, key: Buffer, ip?: string): HostKeyDecision {
  const keyType = keyTypeOf(key);
  const fingerprint = sshFingerprint(key);
  const minimum = host.requiredRsaSize ?? 1024;
  if (keyType === 'ssh-rsa' && rsaModulusBits(key) < minimum) {
    return { ok: false, error: new AgentError('host-key-changed', `${host.alias} (${where(host)}) presents an RSA host key of ${rsaModulusBits(key)} bits, below RequiredRSASize ${minimum}: not connecting`) };
  }
  for (const file of host.revokedHostKeys ?? []) {
    const r = checkRevokedKeys(file, key);
    if (r.state === 'revoked') return { ok: false, error: new AgentError('host-key-changed', `HOST KEY REVOKED for ${host.alias} (${where(host)}): ${keyType} ${fingerprint} is listed in RevokedHostKeys ${file}: not connecting`) };
    if (r.state === 'error') return { ok: false, error: new AgentError('bad-config', `RevokedHostKeys for ${host.alias}: ${r.reason}; not connecting until it can be checked`) };
  }
  const local = ip !== undefined && (/^127\./.test(ip) || ip === '::1');
  const checkIp = host.checkHostIP && ip !== undefined && !local ? ip : undefined;
  const verdict = verifyHostKey(
    { files: [...host.knownHostsFiles, ...(host.globalKnownHostsFiles ?? [])], hostName: host.hostName, port: host.port, ...(host.hostKeyAlias !== undefined ? { alias: host.hostKeyAlias } : {}), ...(checkIp ? { ip: checkIp } : {}) },
    key,
  );
  if (verdict.state === 'known') return { ok: true };
  if (verdict.state === 'changed' || verdict.state === 'revoked') return { ok: false, error: changed(host, verdict) };
  const strict = host.strictHostKeyChecking ?? 'ask';
  const name = lookupName({ hostName: host.hostName, port: host.port, ...(host.hostKeyAlias !== undefined ? { alias: host.hostKeyAlias } : {}) });
  // ssh never records a name it could not match again, nor into `UserKnownHostsFile none`.
  const writable = host.knownHostsFiles.length > 0 && !/[@?*#[\]|'"\\]/.test(host.hostName);
  if ((strict === 'accept-new' || strict === 'no') && writable) {
    const names = checkIp ? [name, knownHostName(checkIp, host.port)] : [name];
    const b64 = key.toString('base64');
    const lines = host.hashKnownHosts ? names.map((n) => knownHostsLine(n, keyType, b64, true)) : [knownHostsLine(names.join(','), keyType, b64, false)];
    for (const line of lines) addKnownHost(host.knownHostsFiles[0]!, line);
    return { ok: true, added: host.knownHostsFiles[0]! };
  }
  const cert = verdict.caOnly ? '; known_hosts vouches for it only through a @cert-authority line, and the built-in transport cannot check host certificates (use OpenSSH: TETHER_SSH=openssh)' : '';
  // StrictHostKeyChecking yes, or nowhere to record it: no trust-on-first-use offer either.
  if (strict === 'yes' || !host.knownHostsFiles.length) {
    return { ok: false, error: new AgentError('host-key-unknown', `unknown host key for ${host.alias} (${where(host)}): ${keyType} ${fingerprint}, ${strict === 'yes' ? 'and StrictHostKeyChecking yes' : 'and UserKnownHostsFile none'}: add it to known_hosts yourself${cert}`) };
  }
  const presented = { alias: host.alias, host: host.hostName, port: host.port, keyType, key, fingerprint, knownHostsFile: host.knownHostsFiles[0] ?? '', name };
  return {
    ok: false,
    error: new HostKeyUnknownError(
      presented,
      `unknown host key for ${host.alias} (${where(host)}): ${keyType} ${fingerprint}; if that is the server's key, run \`ssh ${host.alias}\` once to add it to known_hosts, then connect again${cert}`,
    ),
  };
}
