// OpenSSH is the oracle: every Host below is tried with the real `ssh -F CONFIG -o BatchMode=yes
// HOST true` and with `tether agent --connect HOST` (TETHER_SSH=builtin, the ssh2 transport),
// against real sshds on loopback. Where ssh connects, Tether must connect too, except the gaps
// listed as `builtinGap` (with the reason); where ssh refuses, Tether must refuse, in one line of
// the expected kind, without a crash.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, waitFor } from './support/tether-process.js';
import { SshLab, pool, type Outcome, type Transport } from './support/ssh-lab.js';
import { sshdAvailable, type Sshd } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';

/** The lead adds 'openssh' here once that transport is merged. */
const TRANSPORTS: Transport[] = ['openssh', 'builtin'];
const hasSsh = spawnSync('ssh', ['-V']).error === undefined;

interface Case {
  name: string;
  alias: string;
  /** Lines under `Host ALIAS` (Port, known_hosts…); Host * adds HostName, User, SetEnv. */
  block?: () => string[];
  /** Lines at the top of the config (Match blocks, Includes), before every Host. */
  top?: () => string[];
  /** What the real ssh does (asserted: if OpenSSH changes, the table must change). */
  ssh: 'connects' | 'refuses';
  /** What Tether's built-in transport does. */
  builtin: Outcome;
  /** Why the built-in transport refuses what ssh accepts. */
  builtinGap?: string;
  /** What the built-in transport's one line must also say. */
  says?: RegExp;
  env?: () => Record<string, string>;
  /** Env per tool (copies of files a run may change). */
  perTool?: (tool: string) => Record<string, string>;
  /** Instead of the alias: ssh's arguments and Tether's --connect target. */
  sshArgs?: () => string[];
  target?: () => string;
  /** Sshds the connection must have gone through (each must log one more login per run). */
  via?: () => Sshd[];
  check?: (tool: string) => void;
}

let w: SshWorld;
let lab: SshLab;
const s: Record<string, Sshd> = {};
const results: { name: string; ssh: string; builtin: string; gap?: string; ms: number }[] = [];
const limit = pool(4);

function port(name: string): string {
  return String(s[name]!.port);
}

/** The table. Paths and ports are known only once the lab runs: every field that needs them is a function. */
function cases(): Case[] {
  const P = () => port('multi');
  const kh = (name: string) => lab.path('kh', name);
  const at = () => `[127.0.0.1]:${P()}`;
  const node = process.execPath;
  const pipe = join(ROOT, 'test/support/tcp-pipe.mjs');
  return [
    // Host keys.
    { name: 'hashed [host]:port line', alias: 'hashed-port', block: () => [`Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    { name: 'unhashed [host]:port line (ssh-keyscan without -H)', alias: 'plain-port', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('plain')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'a bare host line vouches on another port', alias: 'bare-host', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('bare')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'a bare host line with another key: unknown', alias: 'bare-host-other', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('bare-other')}`], ssh: 'refuses', builtin: 'host-key-unknown' },
    { name: 'wildcard host pattern', alias: 'wildcard', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('wildcard')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'negated host pattern', alias: 'negated', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('negated')}`], ssh: 'refuses', builtin: 'host-key-unknown' },
    { name: 'host with ed25519+ecdsa+rsa known only by rsa', alias: 'rsa-only', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('rsa')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'host with ed25519+ecdsa+rsa known only by ecdsa', alias: 'ecdsa-only', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('ecdsa')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'changed key', alias: 'changed', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('changed')}`], ssh: 'refuses', builtin: 'host-key-changed' },
    { name: 'a wrong ed25519 beside the right rsa: changed (any other key for the name is)', alias: 'changed-beside', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('changed-beside')}`], ssh: 'refuses', builtin: 'host-key-changed' },
    { name: '@revoked line', alias: 'revoked-marker', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('revoked')}`], ssh: 'refuses', builtin: 'host-key-revoked' },
    { name: 'RevokedHostKeys: a key list', alias: 'revoked-list', says: /listed in RevokedHostKeys/, block: () => [`Port ${P()}`, `RevokedHostKeys ${lab.path('revoked.list')}`], ssh: 'refuses', builtin: 'host-key-revoked' },
    { name: 'RevokedHostKeys: a KRL', alias: 'revoked-krl', block: () => [`Port ${P()}`, `RevokedHostKeys ${lab.path('revoked.krl')}`], ssh: 'refuses', builtin: 'host-key-revoked' },
    { name: 'RevokedHostKeys: a KRL of other keys', alias: 'revoked-other', block: () => [`Port ${P()}`, `RevokedHostKeys ${lab.path('other.krl')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'RevokedHostKeys: a missing file', alias: 'revoked-missing', says: /RevokedHostKeys for revoked-missing: cannot read/, block: () => [`Port ${P()}`, `RevokedHostKeys ${lab.path('no-such.krl')}`], ssh: 'refuses', builtin: 'bad-config' },
    { name: 'HostKeyAlgorithms excluding the known type', alias: 'hka-excludes', block: () => [`Port ${P()}`, 'HostKeyAlgorithms ecdsa-sha2-nistp256'], ssh: 'refuses', builtin: 'host-key-changed' },
    { name: 'HostKeyAlgorithms naming the known type', alias: 'hka-known', block: () => [`Port ${P()}`, 'HostKeyAlgorithms rsa-sha2-512', `UserKnownHostsFile ${kh('rsa')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'HostKeyAlgorithms: certificates only', alias: 'hka-certs', says: /HostKeyAlgorithms/, block: () => [`Port ${P()}`, 'HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com'], ssh: 'refuses', builtin: 'ssh-option-unsupported' },
    { name: 'KexAlgorithms, Ciphers, MACs restricted', alias: 'algos', block: () => [`Port ${P()}`, 'KexAlgorithms curve25519-sha256', 'Ciphers aes256-gcm@openssh.com', 'MACs hmac-sha2-512-etm@openssh.com'], ssh: 'connects', builtin: 'connects' },
    {
      name: 'KexAlgorithms: only sntrup761x25519',
      alias: 'kex-sntrup', says: /^tether: KexAlgorithms for kex-sntrup/m,
      block: () => [`Port ${P()}`, 'KexAlgorithms sntrup761x25519-sha512@openssh.com'],
      ssh: 'connects',
      builtin: 'ssh-option-unsupported',
      builtinGap: 'ssh2 has no sntrup761x25519 key exchange: the one allowed cannot be offered, so it refuses naming KexAlgorithms',
    },
    { name: 'Ciphers the server does not offer', alias: 'cipher-cbc', block: () => [`Port ${P()}`, 'Ciphers aes128-cbc'], ssh: 'refuses', builtin: 'connect-failed' },
    {
      name: 'MACs umac only',
      alias: 'macs-umac', says: /^tether: MACs for macs-umac/m,
      block: () => [`Port ${P()}`, 'Ciphers aes128-ctr', 'MACs umac-128-etm@openssh.com'],
      ssh: 'connects',
      builtin: 'ssh-option-unsupported',
      builtinGap: 'ssh2 has no UMAC: the one MAC allowed cannot be offered, so it refuses naming MACs',
    },
    {
      name: '@cert-authority host certificate, valid principal',
      alias: 'cert-host', says: /only through a @cert-authority line/,
      block: () => [`Port ${port('cert')}`, `UserKnownHostsFile ${kh('ca')}`],
      ssh: 'connects',
      builtin: 'host-key-unknown',
      builtinGap: 'ssh2 negotiates no *-cert-v01 host key algorithm, so no host certificate can be checked; the plain key is unknown',
    },
    { name: '@cert-authority host certificate, wrong principal', alias: 'cert-wrong', block: () => [`Port ${port('certwrong')}`, `UserKnownHostsFile ${kh('ca-wrong')}`], ssh: 'refuses', builtin: 'host-key-unknown' },
    { name: 'HostKeyAlias', alias: 'alias-known', block: () => [`Port ${P()}`, 'HostKeyAlias Lab-Alias', `UserKnownHostsFile ${kh('alias')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'HostKeyAlias not in known_hosts', alias: 'alias-unknown', block: () => [`Port ${P()}`, 'HostKeyAlias other-alias'], ssh: 'refuses', builtin: 'host-key-unknown' },
    { name: 'GlobalKnownHostsFile', alias: 'global', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('empty')}`, `GlobalKnownHostsFile ${kh('empty')} ${kh('plain')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'UserKnownHostsFile with several files', alias: 'several', block: () => [`Port ${P()}`, `UserKnownHostsFile ${kh('empty')} ${lab.path('kh', 'missing')} ${kh('plain')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'StrictHostKeyChecking yes, unknown key', alias: 'strict-unknown', says: /StrictHostKeyChecking yes/, block: () => [`Port ${P()}`, 'StrictHostKeyChecking yes', `UserKnownHostsFile ${kh('empty')}`], ssh: 'refuses', builtin: 'host-key-unknown' },
    { name: 'StrictHostKeyChecking yes, known key', alias: 'strict-known', block: () => [`Port ${P()}`, 'StrictHostKeyChecking yes'], ssh: 'connects', builtin: 'connects' },
    {
      name: 'StrictHostKeyChecking accept-new writes the line (separate copies per tool)',
      alias: 'accept-new',
      block: () => [`Port ${P()}`, 'StrictHostKeyChecking accept-new', 'UserKnownHostsFile ${TT_COPY}/known_hosts'],
      ssh: 'connects',
      builtin: 'connects',
      perTool: (tool) => ({ TT_COPY: lab.copy('accept-new', tool) }),
      check: (tool) => {
        const file = join(lab.path('copies', `accept-new-${tool}`), 'known_hosts');
        expect(spawnSync('ssh-keygen', ['-F', at(), '-f', file], { encoding: 'utf8' }).stdout).toMatch(/found: line 1/);
        if (tool !== 'ssh') expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(lab.path('copies', 'accept-new-ssh'), 'known_hosts'), 'utf8'));
      },
    },
    {
      name: 'StrictHostKeyChecking accept-new with HashKnownHosts',
      alias: 'accept-new-hashed',
      block: () => [`Port ${P()}`, 'StrictHostKeyChecking accept-new', 'HashKnownHosts yes', 'UserKnownHostsFile ${TT_COPY}/known_hosts'],
      ssh: 'connects',
      builtin: 'connects',
      perTool: (tool) => ({ TT_COPY: lab.copy('accept-new-hashed', tool) }),
      check: (tool) => {
        const file = join(lab.path('copies', `accept-new-hashed-${tool}`), 'known_hosts');
        expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|\S+ ssh-ed25519 \S+\n$/);
        expect(spawnSync('ssh-keygen', ['-F', at(), '-f', file], { encoding: 'utf8' }).stdout).toMatch(/found: line 1/);
      },
    },
    { name: 'StrictHostKeyChecking accept-new, changed key', alias: 'accept-new-changed', block: () => [`Port ${P()}`, 'StrictHostKeyChecking accept-new', `UserKnownHostsFile ${kh('changed')}`], ssh: 'refuses', builtin: 'host-key-changed' },
    {
      name: 'StrictHostKeyChecking no, changed key',
      alias: 'strict-no-changed',
      block: () => [`Port ${P()}`, 'StrictHostKeyChecking no', 'UserKnownHostsFile ${TT_COPY}/known_hosts'],
      perTool: (tool) => ({ TT_COPY: lab.copy('strict-no-changed', tool, { known_hosts: kh('changed') }) }),
      ssh: 'connects',
      builtin: 'host-key-changed',
      builtinGap: 'by design: Tether never accepts a changed host key (ssh connects with password auth and forwarding off)',
    },
    { name: 'RequiredRSASize above the host RSA key', alias: 'rsa-size', says: /below RequiredRSASize 4096/, block: () => [`Port ${P()}`, 'HostKeyAlgorithms rsa-sha2-512', `UserKnownHostsFile ${kh('rsa')}`, 'RequiredRSASize 4096'], ssh: 'refuses', builtin: 'host-key-changed' },
    // Authentication.
    { name: 'IdentityFile, no agent', alias: 'key-file', block: () => [`Port ${P()}`, 'IdentityAgent none', `IdentityFile ${lab.path('keys', 'plain')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'IdentityFile encrypted, no agent, no terminal', alias: 'key-locked', block: () => [`Port ${P()}`, 'IdentityAgent none', `IdentityFile ${lab.path('keys', 'locked')}`], ssh: 'refuses', builtin: 'ssh-auth-failed' },
    { name: 'IdentityAgent: a second ssh-agent', alias: 'agent-second', block: () => [`Port ${P()}`, `IdentityAgent ${lab.agents.second!.socket}`], env: () => ({ SSH_AUTH_SOCK: lab.agents.junk!.socket }), ssh: 'connects', builtin: 'connects' },
    { name: 'IdentityAgent ${VAR}', alias: 'agent-var', block: () => [`Port ${P()}`, 'IdentityAgent ${TT_AGENT}'], env: () => ({ SSH_AUTH_SOCK: lab.agents.junk!.socket, TT_AGENT: lab.agents.second!.socket }), ssh: 'connects', builtin: 'connects' },
    { name: 'IdentityAgent SSH_AUTH_SOCK', alias: 'agent-token', block: () => [`Port ${P()}`, 'IdentityAgent SSH_AUTH_SOCK'], ssh: 'connects', builtin: 'connects' },
    { name: 'IdentityAgent none', alias: 'agent-none', block: () => [`Port ${P()}`, 'IdentityAgent none', `IdentityFile ${lab.path('keys', 'no-such-key')}`], ssh: 'refuses', builtin: 'ssh-auth-failed' },
    { name: 'IdentitiesOnly with an agent holding 8 keys', alias: 'identities-only', block: () => [`Port ${P()}`, 'IdentitiesOnly yes', `IdentityFile ${lab.path('keys', 'key8')}`], env: () => ({ SSH_AUTH_SOCK: lab.agents.eight!.socket }), ssh: 'connects', builtin: 'connects' },
    {
      name: 'IdentitiesOnly with an IdentityFile that is only a .pub (the agent holds the key)',
      alias: 'identities-only-pub',
      block: () => [`Port ${P()}`, 'IdentitiesOnly yes', `IdentityFile ${lab.path('keys', 'selector')}`],
      env: () => ({ SSH_AUTH_SOCK: lab.agents.eight!.socket }),
      ssh: 'connects',
      builtin: 'connects',
    },
    { name: 'an agent holding 8 keys, the right one last (MaxAuthTries 6)', alias: 'too-many-keys', says: /Too many authentication failures/, block: () => [`Port ${P()}`, `IdentityFile ${lab.path('keys', 'no-such-key')}`], env: () => ({ SSH_AUTH_SOCK: lab.agents.eight!.socket }), ssh: 'refuses', builtin: 'ssh-auth-failed' },
    { name: 'stale SSH_AUTH_SOCK falls back to the key file', alias: 'stale-agent', block: () => [`Port ${P()}`, `IdentityFile ${lab.path('keys', 'plain')}`], env: () => ({ SSH_AUTH_SOCK: lab.path('no-agent.sock') }), ssh: 'connects', builtin: 'connects' },
    { name: 'SSH_AUTH_SOCK naming a file that is no socket falls back to the key file', alias: 'not-an-agent', block: () => [`Port ${P()}`, `IdentityFile ${lab.path('keys', 'plain')}`], env: () => ({ SSH_AUTH_SOCK: lab.path('keys', 'plain.pub') }), ssh: 'connects', builtin: 'connects' },
    {
      name: 'user certificate (CertificateFile, TrustedUserCAKeys)',
      alias: 'user-cert',
      block: () => [`Port ${P()}`, 'IdentityAgent none', `IdentityFile ${lab.path('keys', 'cert')}`, `CertificateFile ${lab.path('keys', 'cert-cert.pub')}`],
      ssh: 'connects',
      builtin: 'ssh-auth-failed',
      builtinGap: 'ssh2 cannot log in with an OpenSSH user certificate (it signs with the certificate type as the signature name); the login fails like a missing key',
    },
    { name: 'wrong user', alias: 'wrong-user', block: () => [`Port ${P()}`, 'User tether-no-such-user'], ssh: 'refuses', builtin: 'ssh-auth-failed' },
    { name: 'PubkeyAcceptedAlgorithms excluding the only key', alias: 'pubkey-algos', block: () => [`Port ${P()}`, 'PubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256'], ssh: 'refuses', builtin: 'ssh-auth-failed' },
    // Routing.
    {
      name: 'ProxyCommand (a node TCP pipe), %h %p %r %n %% expanded as ssh does',
      alias: 'proxy-pipe',
      block: () => [`Port ${P()}`, `ProxyCommand ${node} ${pipe} %h %p %r %n %%`],
      perTool: (tool) => ({ TT_PIPE_LOG: join(lab.copy('proxy-pipe', tool), 'args') }),
      ssh: 'connects',
      builtin: 'connects',
      check: (tool) => {
        const run = JSON.parse(readFileSync(join(lab.path('copies', `proxy-pipe-${tool}`), 'args'), 'utf8').trim().split('\n')[0]!) as { args: string[]; tetherVars: string[] };
        expect(run.args).toEqual(['127.0.0.1', P(), 'root', 'proxy-pipe', '%']);
        // Tether's own variables (the vault passphrase among them) stay out of the user's command.
        if (tool !== 'ssh') expect(run.tetherVars).toEqual([]);
      },
    },
    { name: 'ProxyCommand ssh -W %h:%p jump', alias: 'proxy-ssh-w', block: () => [`Port ${P()}`, `ProxyCommand ssh -F ${lab.config} -o BatchMode=yes -W %h:%p jump`], via: () => [s.jump!], ssh: 'connects', builtin: 'connects' },
    { name: 'ProxyCommand none wins over a later ProxyCommand', alias: 'proxy-none', block: () => [`Port ${P()}`, 'ProxyCommand none'], ssh: 'connects', builtin: 'connects' },
    { name: 'ProxyCommand that fails', alias: 'proxy-fails', block: () => [`Port ${P()}`, 'ProxyCommand /bin/false'], ssh: 'refuses', builtin: 'connect-failed' },
    { name: 'ProxyJump, one hop', alias: 'jump-one', block: () => [`Port ${P()}`, 'ProxyJump jump'], via: () => [s.jump!], ssh: 'connects', builtin: 'connects' },
    { name: 'ProxyJump, two hops (a hop with its own ProxyJump)', alias: 'jump-nested', block: () => [`Port ${P()}`, 'ProxyJump hop2'], via: () => [s.hop1!, s.hop2!], ssh: 'connects', builtin: 'connects' },
    { name: 'ProxyJump a,b', alias: 'jump-list', block: () => [`Port ${P()}`, 'ProxyJump lhop1,lhop2'], via: () => [s.lhop1!, s.lhop2!], ssh: 'connects', builtin: 'connects' },
    // Config semantics.
    { name: 'Match host (sees HostName)', alias: 'match-host', block: () => ['HostName localhost', `UserKnownHostsFile ${kh('localhost')}`], top: () => ['Match host localhost', `  Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    { name: 'Match originalhost', alias: 'match-orig', top: () => ['Match originalhost match-orig', `  Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    { name: 'Match user', alias: 'match-user', sshArgs: () => ['root@match-user'], target: () => 'root@match-user', top: () => ['Match originalhost match-user user root', `  Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    { name: 'Match exec', alias: 'match-exec', top: () => ['Match exec "test %n = match-exec"', `  Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    { name: 'Match final', alias: 'match-final', top: () => ['Match originalhost match-final final', `  Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    {
      name: 'CanonicalizeHostname (the address 127.1 made canonical, then Match canonical; CanonicalDomains would need DNS)',
      alias: 'match-canonical',
      block: () => ['HostName 127.1', 'CanonicalizeHostname yes', 'CanonicalDomains example.invalid'],
      top: () => ['Match canonical host 127.0.0.1 originalhost match-canonical', `  Port ${P()}`],
      ssh: 'connects',
      builtin: 'connects',
    },
    { name: 'an Include inside a Host block applies there', alias: 'include-host', block: () => [`Port ${P()}`, `Include ${lab.path('conf.d', 'poison.inc')}`], ssh: 'refuses', builtin: 'ssh-auth-failed' },
    { name: 'an Include inside a Host block does not leak into other hosts', alias: 'include-other', block: () => [`Port ${P()}`], ssh: 'connects', builtin: 'connects' },
    { name: 'Include with a glob', alias: 'include-glob', top: () => [`Include ${lab.path('conf.d', '*.conf')}`], ssh: 'connects', builtin: 'connects' },
    { name: '%n %k %h %p tokens in IdentityFile and UserKnownHostsFile', alias: 'tokens', block: () => [`Port ${P()}`, 'IdentityAgent none', `IdentityFile ${lab.path('keys', '%n-%p')}`, `UserKnownHostsFile ${lab.path('kh', '%k-%h-%p')}`], ssh: 'connects', builtin: 'connects' },
    { name: 'a negated Host pattern keeps a block away', alias: 'neg-skip', block: () => [`Port ${P()}`], top: () => ['Host *-skip !neg-skip', '  Port 1'], ssh: 'connects', builtin: 'connects' },
    { name: '${VAR} in IdentityFile', alias: 'var-key', block: () => [`Port ${P()}`, 'IdentityAgent none', 'IdentityFile ${TT_KEYDIR}/varkey'], env: () => ({ TT_KEYDIR: lab.path('vars') }), ssh: 'connects', builtin: 'connects' },
    { name: 'Port from the command line / the URL', alias: 'url', sshArgs: () => ['-p', P(), 'root@127.0.0.1'], target: () => `ssh://root@127.0.0.1:${P()}`, ssh: 'connects', builtin: 'connects' },
  ];
}

/** Everything the table refers to: sshds, keys, agents, known_hosts files, the config. */
async function buildLab(): Promise<void> {
  lab = new SshLab(w);
  const hostCa = lab.ca('host_ca');
  const userCa = lab.ca('user_ca');
  for (const k of ['plain', 'key2', 'key8', 'junk', 'other', 'cert']) lab.key(k);
  lab.key('locked', { passphrase: 'not-typed-here' });
  for (let i = 1; i <= 7; i++) lab.key(`spare${i}`);
  lab.userCertificate(lab.path('keys', 'cert'), userCa, 'root');
  lab.key('varkey', { dir: lab.path('vars') });
  lab.agent('second', [lab.path('keys', 'key2')]);
  lab.agent('junk', [lab.path('keys', 'junk')]);
  Object.assign(lab.env, { TT_AGENT: lab.agents.junk!.socket, TT_COPY: lab.path('copies'), TT_KEYDIR: lab.path('keys', 'none-here'), TT_PIPE_LOG: lab.path('copies', 'pipe-args') });
  lab.agent('eight', [...[1, 2, 3, 4, 5, 6, 7].map((i) => lab.path('keys', `spare${i}`)), lab.path('keys', 'key8')]);
  const starts = [
    ['multi', { hostKeys: ['ed25519', 'ecdsa', 'rsa'], extra: [`TrustedUserCAKeys ${userCa}.pub`] }],
    ['cert', { hostCertificate: { ca: hostCa, principals: '127.0.0.1' } }],
    ['certwrong', { hostCertificate: { ca: hostCa, principals: 'elsewhere.test' } }],
    ['jump', {}],
    ['hop1', {}],
    ['hop2', {}],
    ['lhop1', {}],
    ['lhop2', {}],
  ] as const;
  await Promise.all(starts.map(async ([name, opts]) => (s[name] = await w.sshd(name, opts as never))));
  for (const k of ['plain', 'locked', 'key2', 'key8']) s.multi!.authorize(lab.path('keys', `${k}.pub`));
  s.multi!.authorize(lab.path('vars', 'varkey.pub'));
  const P = port('multi');
  // %n-%p: the key the `tokens` Host finds only through its tokens.
  execFileSync('cp', [lab.path('keys', 'plain'), lab.path('keys', `tokens-${P}`)]);
  execFileSync('cp', [lab.path('keys', 'plain.pub'), lab.path('keys', `tokens-${P}.pub`)]);
  execFileSync('cp', [lab.path('keys', 'key8.pub'), lab.path('keys', 'selector.pub')]);
  for (const name of ['multi', 'jump', 'hop1', 'hop2', 'lhop1', 'lhop2']) lab.trust(s[name]!);
  const ed = s.multi!.keyLine('ed25519');
  const at = `[127.0.0.1]:${P}`;
  const other = readFileSync(lab.path('keys', 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const caLine = readFileSync(`${hostCa}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  lab.knownHosts('plain', [`${at} ${ed}`]);
  lab.knownHosts('bare', [`127.0.0.1 ${ed}`]);
  lab.knownHosts('bare-other', [`127.0.0.1 ${other}`]);
  lab.knownHosts('wildcard', [`other.test,[127.0.0.*]:${P} ${ed}`]);
  lab.knownHosts('negated', [`[127.0.0.*]:${P},!${at} ${ed}`]);
  lab.knownHosts('rsa', [`${at} ${s.multi!.keyLine('rsa')}`]);
  lab.knownHosts('ecdsa', [`${at} ${s.multi!.keyLine('ecdsa')}`]);
  lab.knownHosts('changed', [`${at} ${other}`]);
  lab.knownHosts('changed-beside', [`${at} ${s.multi!.keyLine('rsa')}`, `${at} ${other}`]);
  lab.knownHosts('revoked', [`${at} ${ed}`, `@revoked * ${ed}`]);
  lab.knownHosts('ca', [`@cert-authority [127.0.0.1]:${port('cert')} ${caLine}`]);
  lab.knownHosts('ca-wrong', [`@cert-authority [127.0.0.1]:${port('certwrong')} ${caLine}`]);
  lab.knownHosts('alias', [`lab-alias ${ed}`]);
  lab.knownHosts('empty', []);
  lab.knownHosts('localhost', [`[localhost]:${P} ${ed}`]);
  lab.knownHosts(`tokens-127.0.0.1-${P}`, [`${at} ${ed}`]);
  writeFileSync(lab.path('revoked.list'), `${ed} revoked\n`);
  writeFileSync(lab.path('multi-ed25519.pub'), `${ed}\n`);
  execFileSync('ssh-keygen', ['-q', '-k', '-f', lab.path('revoked.krl'), lab.path('multi-ed25519.pub')], { stdio: 'ignore' });
  execFileSync('ssh-keygen', ['-q', '-k', '-f', lab.path('other.krl'), lab.path('keys', 'other.pub')], { stdio: 'ignore' });
  writeFileSync(lab.path('conf.d', 'poison.inc'), `IdentityAgent none\nIdentityFile ${lab.path('keys', 'no-such-key')}\n`);
  writeFileSync(lab.path('conf.d', '10-glob.conf'), `Host include-glob\n  Port ${P}\n`);

  const hops = [
    `Host jump\n  Port ${port('jump')}`,
    `Host hop1\n  Port ${port('hop1')}`,
    `Host hop2\n  Port ${port('hop2')}\n  ProxyJump hop1`,
    `Host lhop1\n  Port ${port('lhop1')}`,
    // Overridden by `ProxyJump lhop1,lhop2` (ssh -J lhop1 lhop2): a wrong hop here must not be used.
    `Host lhop2\n  Port ${port('lhop2')}\n  ProxyJump no-such-hop`,
  ];
  lab.writeConfig(
    [
      // Includes first: after a Match line, an Include would belong to that Match.
      ...table.flatMap((c) => c.top?.() ?? []).filter((l) => l.startsWith('Include ')),
      ...table.flatMap((c) => c.top?.() ?? []).filter((l) => !l.startsWith('Include ')),
      ...table.filter((c) => c.block).map((c) => [`Host ${c.alias}`, ...c.block!().map((l) => `  ${l}`)].join('\n')),
      ...hops,
      'Match originalhost proxy-none',
      '  ProxyCommand /bin/false',
      'Host *',
      '  HostName 127.0.0.1',
      '  User root',
      `  UserKnownHostsFile ${lab.mainKnownHosts}`,
      '  GlobalKnownHostsFile none',
      `  SetEnv TETHER_HOME=${w.world.serverHome}`,
      '',
    ].join('\n'),
  );
}

const table: Case[] = cases();

describe.skipIf(!sshdAvailable || !hasSsh)('ssh vs Tether, Host by Host (real sshds, OpenSSH as the oracle)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    await buildLab();
  }, 60_000);

  afterAll(async () => {
    if (!w) return;
    const rows = results.sort((a, b) => a.name.localeCompare(b.name)).map((r) => `${r.ssh.padEnd(9)} ${r.builtin.padEnd(24)} ${String(r.ms).padStart(6)} ms  ${r.name}${r.gap ? `  [gap: ${r.gap}]` : ''}`);
    console.log(`ssh       builtin\n${rows.join('\n')}`);
    w.stopServerDaemon();
    await waitFor(() => !w.daemonState() || undefined, 'daemon gone', 5000).catch(() => undefined);
    lab?.stop();
    const leaks = w.world.leaks();
    await w.dispose();
    expect(leaks).toEqual([]);
  });

  it('the table is well formed: 40+ Hosts, every refusal by ssh refused by Tether, every gap explained', () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
    for (const c of table) {
      if (c.ssh === 'refuses') expect(c.builtin, c.name).not.toBe('connects');
      if (c.ssh === 'connects' && c.builtin !== 'connects') expect(c.builtinGap, c.name).toBeTruthy();
      if (c.builtinGap) expect(c.ssh, c.name).toBe('connects');
    }
  });

  it('a connection through the built-in transport carries leases: lend → token → provider → 200', async () => {
    const agent = w.startAgent(['--connect', 'hashed-port'], { ...lab.env, TETHER_SSH: 'builtin' });
    await agent.waitForOutput(/connected to hashed-port/, 30_000);
    w.daemonState();
    await w.world.waitForLaptops(1);
    const t = await w.world.token('openai');
    expect(t.code, t.stderr).toBe(0);
    expect((await w.world.proxy('/openai/v1/chat/completions', t.stdout.trim())).status).toBe(200);
    await agent.stop();
  });

  it('`tether servers list --json` shows the user, host and port ssh would use', async () => {
    const r = await w.world.laptop(['servers', 'list', '--json'], { env: { ...w.env, ...lab.env } });
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; user?: string; hostName?: string; port?: number; resolvedBy?: string; proxyJump?: string[] }[];
    const byName = new Map(list.map((h) => [h.name, h]));
    const P = Number(port('multi'));
    // Ports set only by Match exec / Match final / an Include glob: what ssh -G says.
    expect(byName.get('match-exec')).toBeUndefined(); // not a Host line: no alias to list
    expect(byName.get('match-host')).toMatchObject({ hostName: 'localhost', port: P, user: 'root', resolvedBy: 'ssh -G' });
    expect(byName.get('match-canonical')).toMatchObject({ hostName: '127.0.0.1', port: P });
    expect(byName.get('include-glob')).toMatchObject({ port: P });
    expect(byName.get('wrong-user')).toMatchObject({ user: 'tether-no-such-user', port: P });
    expect(byName.get('jump-list')?.proxyJump).toEqual(['lhop1', 'lhop2']);
    const text = await w.world.laptop(['servers', 'list'], { env: { ...w.env, ...lab.env } });
    expect(text.stdout).toContain(`match-host  ssh://root@localhost:${P}  (ssh-config)`);
  });

  for (const transport of TRANSPORTS) {
    // One it() per Host; they overlap (a few at a time): every run has its own laptop home.
    for (const c of table) {
      it.concurrent(`${c.ssh === 'connects' ? 'connects' : 'REFUSES'}: ${c.name} [${transport}]`, () => limit(() => runCase(c, transport)), 120_000);
    }
  }
});

async function runCase(c: Case, transport: Transport): Promise<void> {
  const env = (tool: string) => ({ ...(c.env?.() ?? {}), ...(c.perTool?.(tool) ?? {}) });
  const ssh = await lab.runSsh(c.sshArgs?.() ?? [c.alias], env('ssh'));
  const before = (c.via?.() ?? []).map((d) => d.acceptedLogins());
  const tether = await lab.runTether(c.target?.() ?? c.alias, transport, env(transport));
  const after = (c.via?.() ?? []).map((d) => d.acceptedLogins());
  results.push({ name: c.name, ssh: ssh.outcome, builtin: `${tether.outcome}${c.builtinGap ? ' (gap)' : ''}`, ...(c.builtinGap ? { gap: c.builtinGap } : {}), ms: tether.ms });
  expect(ssh.outcome, `ssh: ${ssh.text}`).toBe(c.ssh);
  if (transport === 'builtin') {
    expect(tether.outcome, `tether (builtin): ${tether.text}`).toBe(c.builtin);
    if (c.says) expect(tether.text).toMatch(c.says);
  }
  else if (c.ssh === 'connects') expect(tether.outcome, `tether (${transport}): ${tether.text}`).toBe('connects');
  else expect(tether.outcome, `tether (${transport}) must refuse in one line: ${tether.text}`).not.toMatch(/^(connects|other)$/);
  // Never a crash: no stack, no unhandled 'error'.
  expect(tether.text).not.toMatch(/Unhandled|ERR_UNHANDLED|\n\s+at .+:\d+:\d+\)/);
  if (tether.outcome === 'connects') {
    after.forEach((n, i) => expect(n, `logins through ${c.via!()[i]!.name}`).toBeGreaterThan(before[i]!));
    c.check?.('ssh');
    c.check?.(transport);
  }
}
