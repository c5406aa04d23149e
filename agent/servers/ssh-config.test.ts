// Tether's own ssh_config reader (for laptops without OpenSSH), held to OpenSSH's: each config
// below is resolved by `ssh -G -F FILE` and by resolveWithParser(), and what a connection uses
// must be the same.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../errors.js';
import { tempDir } from '../testing/temp.js';
import { listHostAliases, parseHop, parseLine, resolveWithParser, type CommandLine } from './ssh-config.js';
import { hostFromOptions, type HostContext, type SshHost } from './ssh-host.js';
import { parseSshG } from './ssh-resolve.js';

const hasSsh = spawnSync('ssh', ['-V']).error === undefined;
let dir: string;
let cleanup = () => {};
// `~` and %d are the passwd entry's home for ssh; the reader is given the same home here.
const home = userInfo().homedir;
const env = { ...process.env, TT_KEYS: '/keys', SHELL: '/bin/sh' };
const ctx: HostContext = { homeDir: home, localUser: userInfo().username, env, uid: process.getuid!(), thisHost: hostname() };

function write(name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

function viaOpenssh(file: string, alias: string, cmd: CommandLine = {}): SshHost {
  const args = ['-G', '-F', file, ...(cmd.user ? ['-l', cmd.user] : []), ...(cmd.port ? ['-p', String(cmd.port)] : []), ...(cmd.jump ? ['-J', cmd.jump] : []), alias];
  const out = execFileSync('ssh', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
  return hostFromOptions(parseSshG(out), ctx, { configured: false, resolvedBy: 'ssh -G' });
}

/** The fields a connection depends on. */
function used(h: SshHost) {
  const { configured: _c, resolvedBy: _r, hostKeyAlgorithmsVerbatim: _v, ...rest } = h;
  return rest;
}

const cases: { name: string; config: string; alias: string; cmd?: CommandLine; files?: Record<string, string> }[] = [
  { name: 'first value wins, IdentityFile accumulates, Host * last', alias: 'gpu', config: 'Host gpu\n  HostName 10.0.0.5\n  User alice\n  IdentityFile /k/gpu\nHost *\n  User nobody\n  Port 2222\n  IdentityFile /k/all\n' },
  { name: 'no IdentityFile: the defaults', alias: 'plain', config: 'Host plain\n  User u\n' },
  { name: 'negated and wildcard Host patterns', alias: 'secret.lab', config: 'Host *.lab !secret.lab\n  User lab\nHost secret.*\n  User secret\n' },
  { name: 'Host patterns are case-sensitive', alias: 'BOX', config: 'Host box\n  User lower\nHost BOX\n  User upper\n' },
  { name: 'key=value, quotes, escapes, comments', alias: 'q', config: 'Host q\n  IdentityFile="/a b/c" # comment\n  User=someone\n  SetEnv A="x y" B=z\n' },
  { name: 'an Include inside a Host block applies only to that host', alias: 'b', config: 'Host a\n  Include INCLUDED\nHost b\n  HostName bee\n', files: { included: 'User leaked\nPort 2200\n' } },
  { name: 'an Include inside a Host block applies to that host', alias: 'a', config: 'Host a\n  Include INCLUDED\nHost b\n  HostName bee\n', files: { included: 'User inc\nHost other\n  Port 1\n' } },
  { name: 'a Match inside an Include does not leak out of it', alias: 'c', config: 'Include INCLUDED\nUser after\n', files: { included: 'Match host nomatch\n  User inside\n' } },
  { name: 'Include with a glob, in name order', alias: 'g', config: 'Include DIR/*.conf\n', files: { 'conf.d/20-b.conf': 'User b\n', 'conf.d/10-a.conf': 'Host g\n  User a\n  Port 2022\n' } },
  { name: 'Match host sees HostName', alias: 'mh', config: 'Host mh\n  HostName real.example\nMatch host real.example\n  User matched\n' },
  { name: 'Match originalhost sees the alias', alias: 'mo', config: 'Host mo\n  HostName elsewhere\nMatch originalhost mo\n  Port 2201\n' },
  { name: 'Match user (from -l)', alias: 'mu', cmd: { user: 'bob' }, config: 'Match user bob\n  Port 2202\nMatch user alice\n  Port 2203\n' },
  { name: 'Match localuser, negated', alias: 'ml', config: `Match !localuser ${userInfo().username}\n  Port 2204\nMatch localuser ${userInfo().username}\n  Port 2205\n` },
  { name: 'Match exec, true and false, with tokens', alias: 'mx', config: 'Match exec "test %n = mx"\n  User execd\nMatch exec false\n  Port 2206\n' },
  { name: 'Match final: a second pass, Host lines matched against HostName', alias: 'mf', config: 'Host mf\n  HostName final.example\nMatch final host final.example\n  User final\nHost final.example\n  Port 2207\n' },
  { name: 'Match canonical without canonicalization never matches', alias: 'mc', config: 'Match canonical\n  User canon\n' },
  { name: 'Match all', alias: 'ma', config: 'Match all\n  User everyone\n' },
  { name: 'tokens: %h %p %r %n %u %d %% %k, ${VAR}', alias: 'tk', config: 'Host tk\n  HostName Tok.Example\n  User tu\n  Port 2208\n  HostKeyAlias KeyAlias\n  IdentityFile ${TT_KEYS}/%n-%r@%h:%p-%u-%k-%%\n  IdentityFile %d/x\n  IdentityFile ~/y\n  UserKnownHostsFile /kh/%h_%p /kh/%k\n' },
  { name: 'HostName %h', alias: 'short', config: 'Host short\n  HostName %h.corp.example\n' },
  { name: 'ProxyCommand with tokens; first of ProxyCommand/ProxyJump wins', alias: 'pc', config: 'Host pc\n  ProxyCommand /bin/nc -X 5 %h %p # kept\n  ProxyJump j1\n  User pu\n' },
  { name: 'ProxyCommand none', alias: 'pn', config: 'Host pn\n  ProxyCommand none\nHost *\n  ProxyCommand /bin/false %h\n' },
  { name: 'ProxyJump list; -J wins over the config', alias: 'pj', cmd: { jump: 'cmd@j9:2022' }, config: 'Host pj\n  ProxyJump j1,bob@j2:2200\n' },
  { name: 'ProxyJump from the config', alias: 'pj2', config: 'Host pj2\n  ProxyJump j1,bob@[10.0.0.1]:2200\n' },
  { name: 'SetEnv: only the first applying line', alias: 'se', config: 'Host se\n  SetEnv A=1 B=2\nHost *\n  SetEnv C=3\n' },
  { name: 'algorithm lists: + - ^ and patterns', alias: 'al', config: 'Host al\n  HostKeyAlgorithms -*-cert-v01@openssh.com\n  KexAlgorithms +diffie-hellman-group14-sha1\n  Ciphers ^aes256-ctr\n  MACs hmac-sha2-512,hmac-sha2-256\n  PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-*\n' },
  { name: 'trust options', alias: 'tr', config: 'Host tr\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n  CheckHostIP yes\n  GlobalKnownHostsFile /g1 /g2\n  UserKnownHostsFile none\n  RevokedHostKeys /revoked\n  RequiredRSASize 2048\n  HostKeyAlgorithms ssh-ed25519\n' },
  { name: 'StrictHostKeyChecking no / off', alias: 'sn', config: 'Host sn\n  StrictHostKeyChecking off\n  IdentitiesOnly yes\n  IdentityAgent none\n  BatchMode yes\n' },
  { name: 'IdentityAgent path with tokens, CertificateFile', alias: 'ia', config: 'Host ia\n  IdentityAgent /run/%u/agent-%n.sock\n  CertificateFile /certs/%r-cert.pub\n  IdentityFile /k/id\n  IdentitiesOnly yes\n' },
  { name: 'auth options', alias: 'au', config: 'Host au\n  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n  PreferredAuthentications password,publickey\n  NumberOfPasswordPrompts 1\n  AddressFamily inet\n  ConnectTimeout 7\n' },
  { name: 'CanonicalizeHostname with ProxyJump: no lookup, but a final pass', alias: 'cj', config: 'Host cj\n  HostName cj.real\n  CanonicalizeHostname yes\n  ProxyJump hop\nHost cj.real\n  User final-pass\n' },
  { name: 'user@host:port on the command line', alias: 'cl', cmd: { user: 'cli', port: 2300 }, config: 'Host cl\n  User config\n  Port 22\n' },
];

describe.skipIf(!hasSsh)("Tether's ssh_config reader against ssh -G", () => {
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  for (const c of cases) {
    it(c.name, () => {
      for (const [name, text] of Object.entries(c.files ?? {})) write(name === 'included' ? 'included' : name, text);
      const text = c.config.replace('INCLUDED', join(dir, 'included')).replace('DIR', join(dir, 'conf.d'));
      const file = write(`${c.alias}.config`, text);
      const ours = resolveWithParser(c.alias, c.cmd ?? {}, { ...ctx, configFile: file });
      expect(used(ours)).toEqual(used(viaOpenssh(file, c.alias, c.cmd)));
    });
  }

  it('refuses, in one line, what it cannot evaluate (and ssh -G would): an unknown Match criterion, DNS canonicalization', () => {
    const bad = write('bad.config', 'Match tagged foo\n  User x\n');
    expect(() => resolveWithParser('x', {}, { ...ctx, configFile: bad })).toThrow(expect.objectContaining({ code: 'ssh-option-unsupported', message: expect.stringMatching(/Match tagged/) }));
    const canon = write('canon.config', 'Host c\n  CanonicalizeHostname yes\n  CanonicalDomains example.com\n');
    let err: unknown;
    try {
      resolveWithParser('c', {}, { ...ctx, configFile: canon });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'ssh-option-unsupported', message: expect.stringMatching(/CanonicalizeHostname/) });
    expect(() => resolveWithParser('x', {}, { ...ctx, configFile: write('tok.config', 'Host x\n  IdentityFile /k/%z\n') })).toThrow(/unknown token %z/);
    // As ssh, an explicit MACs/Ciphers/KexAlgorithms list names algorithms, not patterns.
    expect(() => resolveWithParser('x', {}, { ...ctx, configFile: write('mac.config', 'Host x\n  MACs hmac-sha2-*\n') })).toThrow(/macs/);
    expect(() => resolveWithParser('x', {}, { ...ctx, configFile: write('var.config', 'Host x\n  IdentityFile ${TT_NOT_SET}/k\n') })).toThrow(/TT_NOT_SET/);
  });

  it('lists the aliases a person wrote, Includes too', () => {
    const file = write('list.config', `Host a b *.wild !neg\nHost a\nMatch host x\n  Include ${join(dir, 'inc-list')}\n`);
    write('inc-list', 'Host c\n');
    expect(listHostAliases({ ...ctx, configFile: file })).toEqual(['a', 'b', 'c']);
  });
});

describe('ssh_config lines and hops', () => {
  it('splits lines as readconf.c does', () => {
    expect(parseLine('IdentityFile="/a b/c" # comment')).toMatchObject({ keyword: 'identityfile', args: ['/a b/c'] });
    expect(parseLine('  # only a comment')).toBeUndefined();
    expect(parseLine('ProxyCommand ssh -W %h:%p "jump host"')).toMatchObject({ keyword: 'proxycommand', rest: 'ssh -W %h:%p "jump host"' });
    expect(parseLine('IdentityFile a\\ b')?.args).toEqual(['a b']);
  });

  it('parses hops', () => {
    expect(parseHop('ssh://bob@host:2200')).toEqual({ user: 'bob', host: 'host', port: 2200 });
    expect(parseHop('[::1]:22')).toEqual({ host: '::1', port: 22 });
    expect(parseHop('alias')).toEqual({ host: 'alias' });
  });
});
