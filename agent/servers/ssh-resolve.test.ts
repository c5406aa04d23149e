// resolveSshHost(): `ssh -G` when OpenSSH is there (its output parsed into an SshHost), the
// built-in reader otherwise; ProxyJump chains resolved hop by hop as ssh builds them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { hostFromOptions } from './ssh-host.js';
import { parseSshG, resolveSshHost, resolveSshRoute, sshBinary, sshConfigArgs, type ResolveContext } from './ssh-resolve.js';

const hasSsh = spawnSync('ssh', ['-V']).error === undefined;
let dir: string;
let cleanup = () => {};
let ctx: ResolveContext;

function config(text: string): void {
  writeFileSync(join(dir, '.ssh', 'config'), text, { mode: 0o600 });
}

describe('ssh -G output', () => {
  it('becomes an SshHost: repeated keywords kept, tokens ssh leaves to later expanded, none means none', () => {
    const printed = parseSshG(
      [
        'host box',
        'user alice',
        'hostname 10.0.0.5',
        'port 2222',
        'identityfile ~/.ssh/id_box',
        'identityfile %d/.ssh/%r@%h',
        'certificatefile ${CERTS}/%n-cert.pub',
        'userknownhostsfile /h/.ssh/known_hosts /h/.ssh/known_hosts2',
        'globalknownhostsfile none',
        'stricthostkeychecking true',
        'identitiesonly yes',
        'identityagent /run/agent.sock',
        'setenv TETHER_HOME=/srv/t',
        'setenv FOO=b c',
        'proxycommand ssh -W [%h]:%p %r@jump # %n',
        'hostkeyalgorithms ssh-ed25519,rsa-sha2-512',
        'revokedhostkeys /etc/ssh/revoked',
        'canonicalizePermittedcnames none',
        '',
      ].join('\n'),
    );
    const h = hostFromOptions(printed, { homeDir: '/h', localUser: 'me', env: { CERTS: '/c' }, uid: 1000, thisHost: 'laptop' }, { configured: true, resolvedBy: 'ssh -G' });
    expect(h).toMatchObject({
      alias: 'box',
      user: 'alice',
      hostName: '10.0.0.5',
      port: 2222,
      identityFiles: ['/h/.ssh/id_box', '/h/.ssh/alice@10.0.0.5'],
      certificateFiles: ['/c/box-cert.pub'],
      knownHostsFiles: ['/h/.ssh/known_hosts', '/h/.ssh/known_hosts2'],
      globalKnownHostsFiles: [],
      strictHostKeyChecking: 'yes',
      identitiesOnly: true,
      identityAgent: '/run/agent.sock',
      setEnv: { TETHER_HOME: '/srv/t', FOO: 'b c' },
      proxyCommand: 'ssh -W [10.0.0.5]:2222 alice@jump # box',
      hostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-512'],
      revokedHostKeys: ['/etc/ssh/revoked'],
      resolvedBy: 'ssh -G',
    });
  });
});

describe.skipIf(!hasSsh)('resolveSshHost', () => {
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    mkdirSync(join(dir, '.ssh'));
    ctx = { homeDir: dir, localUser: 'me', env: { ...process.env, HOME: dir } };
  });
  afterAll(() => cleanup());

  it('asks ssh -G about $HOME/.ssh/config (not the passwd home), and maps the default known_hosts under $HOME', () => {
    config('Host box\n  HostName 127.0.0.1\n  Port 2222\nMatch exec "test %p = 2222"\n  User matched\n');
    expect(sshConfigArgs(ctx)).toEqual(['-F', join(dir, '.ssh', 'config')]);
    const h = resolveSshHost('box', ctx);
    expect(h).toMatchObject({ hostName: '127.0.0.1', port: 2222, user: 'matched', resolvedBy: 'ssh -G', configured: true, knownHostsFiles: [join(dir, '.ssh/known_hosts'), join(dir, '.ssh/known_hosts2')] });
    expect(resolveSshHost('ssh://carol@box:2300', ctx)).toMatchObject({ user: 'carol', port: 2300 });
    // Without OpenSSH, Tether's reader gives the same answer.
    const without = resolveSshHost('box', { ...ctx, env: { ...ctx.env, TETHER_SSH_BINARY: 'none' } });
    expect(without).toMatchObject({ hostName: '127.0.0.1', port: 2222, user: 'matched', resolvedBy: 'tether' });
    expect(sshBinary({ PATH: '/nonexistent' })).toBeUndefined();
  });

  it('HostKeyAlgorithms: reordered by known_hosts unless the user wrote a list (then verbatim, as ssh)', () => {
    config('Host a\n  User u\nHost b\n  HostKeyAlgorithms ssh-ed25519,rsa-sha2-512\nHost c\n  HostKeyAlgorithms -ssh-ed25519*\n');
    expect(resolveSshHost('a', ctx).hostKeyAlgorithmsVerbatim).toBeUndefined();
    expect(resolveSshHost('b', ctx)).toMatchObject({ hostKeyAlgorithmsVerbatim: true, hostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-512'] });
    expect(resolveSshHost('c', ctx).hostKeyAlgorithmsVerbatim).toBeUndefined();
  });

  it('ProxyJump chains: a hop with its own ProxyJump is reached through it; `a,b` reaches b through a', () => {
    config('Host target\n  ProxyJump hop2\nHost hop2\n  HostName 10.0.0.2\n  ProxyJump hop1\nHost hop1\n  HostName 10.0.0.1\n  User j\nHost list\n  ProxyJump hop1,hop2\n');
    const nested = resolveSshRoute('target', ctx);
    expect(nested.hops.map((h) => h.hostName)).toEqual(['10.0.0.1', '10.0.0.2']);
    const listed = resolveSshRoute('list', ctx);
    expect(listed.hops.map((h) => [h.hostName, h.proxyJump])).toEqual([
      ['10.0.0.1', []],
      ['10.0.0.2', ['hop1']],
    ]);
    config('Host loop\n  HostName loop\n  ProxyJump loop\n');
    expect(() => resolveSshRoute('loop', ctx)).toThrow(/loop/);
  });

  it('a config ssh rejects is one line naming the problem', () => {
    config('Host x\n  NoSuchOption yes\n');
    expect(() => resolveSshHost('x', ctx)).toThrow(expect.objectContaining({ code: 'bad-config', message: expect.stringMatching(/Bad configuration option/) }));
  });
});
