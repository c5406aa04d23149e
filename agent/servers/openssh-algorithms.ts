// OpenSSH 9.2's algorithm lists (`ssh -Q …` and the defaults `ssh -G` prints), for Tether's own
// ssh_config parser on laptops without OpenSSH: `Ciphers +x`, `-x`, `^x` and patterns are
// expanded against these exactly as kex_assemble_names() does. With OpenSSH present, ssh -G
// gives the lists and these are not used.
import { matchPattern, matchPatternList } from './ssh-patterns.js';

const HOST_KEY_ALL =
  'ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com';
const HOST_KEY_DEFAULT =
  'ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256';

/** keyword → [every name this OpenSSH knows, its default list]. */
export const OPENSSH_ALGORITHMS: Record<string, [all: string, dflt: string]> = {
  ciphers: [
    '3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com',
    'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com',
  ],
  macs: [
    'hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com',
    'umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1',
  ],
  kexalgorithms: [
    'diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com',
    'sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256',
  ],
  hostkeyalgorithms: [HOST_KEY_ALL, HOST_KEY_DEFAULT],
  pubkeyacceptedalgorithms: [HOST_KEY_ALL, HOST_KEY_DEFAULT],
  hostbasedacceptedalgorithms: [HOST_KEY_ALL, HOST_KEY_DEFAULT],
  casignaturealgorithms: [
    HOST_KEY_ALL.split(',').filter((a) => !a.includes('-cert-')).join(','),
    'ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256',
  ],
};

const EXACT_NAMES = new Set(['ciphers', 'macs', 'kexalgorithms']);

function cat(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

/**
 * kex_assemble_names(): `+list` appends to the default, `-list` removes (patterns), `^list`
 * prepends, anything else replaces; patterns are then expanded against every known name.
 * Returns undefined for a list that names nothing (ssh refuses such a config).
 */
export function assembleAlgorithms(keyword: string, value: string | undefined): string[] | undefined {
  const [allText, defText] = OPENSSH_ALGORITHMS[keyword]!;
  const all = allText.split(',');
  const dflt = defText.split(',');
  if (!value) return dflt;
  let list: string[];
  // readconf.c checks ciphers_valid()/mac_valid()/kex_names_valid(): names only, no patterns.
  if (EXACT_NAMES.has(keyword) && !value.startsWith('-') && value.replace(/^[+^]/, '').split(',').some((n) => !all.includes(n))) return undefined;
  if (value.startsWith('-')) {
    const out = dflt.filter((name) => matchPatternList(name, value.slice(1), false) !== 1);
    return out.length ? out : undefined;
  }
  if (value.startsWith('+')) list = cat(dflt, value.slice(1).split(','));
  else if (value.startsWith('^')) list = cat(value.slice(1).split(','), dflt);
  else list = value.split(',');
  let out: string[] = [];
  for (const pattern of list) {
    if (pattern.startsWith('!')) return undefined;
    out = cat(out, all.filter((name) => matchPattern(name, pattern)));
  }
  return out.length ? out : undefined;
}
