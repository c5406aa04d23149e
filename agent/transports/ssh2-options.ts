// What the built-in (ssh2) transport offers in the handshake, from the host's ssh_config
// options: every algorithm list is what OpenSSH would allow AND ssh2 speaks, in OpenSSH's order,
// never ssh2's own defaults. An option it cannot honour is refused in one line naming it.
import { ssh2Constants } from './ssh2-lazy.js';
import { AgentError } from '../errors.js';
import { assembleAlgorithms } from '../servers/openssh-algorithms.js';
import type { SshHost } from '../servers/ssh-host.js';

export interface Ssh2Algorithms {
  serverHostKey: string[];
  kex: string[];
  cipher: string[];
  hmac: string[];
}

/** The plain key type a host key algorithm verifies with (rsa-sha2-* are RSA keys). */
export function plainKeyType(alg: string): string {
  return /^rsa-sha2-(256|512)$/.test(alg) ? 'ssh-rsa' : alg;
}

function refuse(option: string, host: SshHost, why: string): AgentError {
  return new AgentError('ssh-option-unsupported', `${option} for ${host.alias}: ${why}; the built-in SSH transport will not connect without honouring it (use OpenSSH: TETHER_SSH=openssh, or change the option)`);
}

/** The intersection of an OpenSSH list with what ssh2 supports; an empty one is refused, naming the option. */
function offer(option: string, host: SshHost, list: string[] | undefined, keyword: string, supported: string[]): string[] {
  const wanted = list ?? assembleAlgorithms(keyword, undefined)!;
  const out = wanted.filter((a) => supported.includes(a));
  if (!out.length) throw refuse(option, host, `it allows only ${wanted.slice(0, 4).join(',')}${wanted.length > 4 ? ',…' : ''}, none of which the built-in transport speaks`);
  return out;
}

/**
 * The algorithm lists to hand ssh2. Unless the user wrote HostKeyAlgorithms out verbatim,
 * the types known_hosts holds for this host come first (OpenSSH's order_hostkeyalgs), so a
 * host with several keys presents the one we know; the rest keep their order.
 */
export function ssh2Algorithms(host: SshHost, knownTypes: string[]): Ssh2Algorithms {
  let hostKeys = offer('HostKeyAlgorithms', host, host.hostKeyAlgorithms, 'hostkeyalgorithms', ssh2Constants().SUPPORTED_SERVER_HOST_KEY);
  if (!host.hostKeyAlgorithmsVerbatim && knownTypes.length) {
    const known = hostKeys.filter((a) => knownTypes.includes(plainKeyType(a)));
    hostKeys = [...known, ...hostKeys.filter((a) => !known.includes(a))];
  }
  return {
    serverHostKey: hostKeys,
    kex: offer('KexAlgorithms', host, host.kexAlgorithms, 'kexalgorithms', ssh2Constants().SUPPORTED_KEX),
    cipher: offer('Ciphers', host, host.ciphers, 'ciphers', ssh2Constants().SUPPORTED_CIPHER),
    hmac: offer('MACs', host, host.macs, 'macs', ssh2Constants().SUPPORTED_MAC),
  };
}

/**
 * Options the built-in transport cannot honour and must not ignore: connecting anyway would
 * do something else than ssh does. Options that only widen trust (VerifyHostKeyDNS,
 * KnownHostsCommand, NoHostAuthenticationForLocalhost) are not used, which can only refuse more.
 */
export function refuseUnsupported(host: SshHost): void {
  if (host.proxyCommand !== undefined && host.proxyUseFdpass) throw refuse('ProxyUseFdpass', host, 'the built-in transport cannot receive a connected socket from the proxy');
  if (host.proxyCommand === '-') throw refuse('ProxyCommand -', host, "there is no ssh stdin/stdout to use as the connection");
}
