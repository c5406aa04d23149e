import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { hostMatches, listHostAliases, parseHop, readSshConfig, resolveHost, splitLine } from './ssh-config.js';

let dir: string;
let cleanup = () => {};
afterEach(() => cleanup());

function setup(config: string, extra: Record<string, string> = {}) {
  ({ dir, cleanup } = tempDir());
  mkdirSync(join(dir, '.ssh', 'conf.d'), { recursive: true });
  writeFileSync(join(dir, '.ssh', 'config'), config);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, '.ssh', name), text);
  return readSshConfig(join(dir, '.ssh', 'config'), dir);
}

describe('ssh_config', () => {
  it('first value wins, IdentityFile accumulates, Host * applies last', () => {
    const c = setup(`Host gpu\n  HostName 10.0.0.5\n  User alice\n  IdentityFile ~/.ssh/gpu_key\n\nHost *\n  User nobody\n  Port 2222\n  IdentityFile ~/.ssh/id_ed25519\n`);
    const h = resolveHost(c, 'gpu', { homeDir: dir, localUser: 'me' });
    expect(h).toMatchObject({ hostName: '10.0.0.5', user: 'alice', port: 2222, configured: true });
    expect(h.identityFiles).toEqual([join(dir, '.ssh/gpu_key'), join(dir, '.ssh/id_ed25519')]);
    expect(resolveHost(c, 'other', { homeDir: dir, localUser: 'me' })).toMatchObject({ hostName: 'other', user: 'nobody', configured: false });
  });

  it('follows Include with globs relative to ~/.ssh, and reads ProxyJump and SetEnv', () => {
    const c = setup('Include conf.d/*.conf\nHost b\n  HostName bee\n', {
      'conf.d/10-a.conf': 'Host a\n  HostName ay\n  ProxyJump j1,bob@j2:2200\n  SetEnv TETHER_HOME=/tmp/x FOO="b c"\n',
    });
    expect(listHostAliases(c)).toEqual(['a', 'b']);
    const a = resolveHost(c, 'a', { homeDir: dir, localUser: 'me' });
    expect(a.proxyJump).toEqual(['j1', 'bob@j2:2200']);
    expect(a.setEnv).toEqual({ TETHER_HOME: '/tmp/x', FOO: 'b c' });
    expect(c.files).toHaveLength(2);
  });

  it('patterns, negation, = syntax, quotes and comments', () => {
    expect(hostMatches(['*.lab', '!secret.lab'], 'gpu.lab')).toBe(true);
    expect(hostMatches(['*.lab', '!secret.lab'], 'secret.lab')).toBe(false);
    expect(splitLine('IdentityFile="/a b/c" # comment')).toEqual(['IdentityFile', '/a b/c']);
    expect(splitLine('  # only a comment')).toEqual([]);
    const c = setup('Match host x\n  User matched\nHost x\n  Port=2022\n');
    expect(resolveHost(c, 'x', { homeDir: dir, localUser: 'me' })).toMatchObject({ user: 'me', port: 2022 });
  });

  it('parses hops', () => {
    expect(parseHop('ssh://bob@host:2200')).toEqual({ user: 'bob', host: 'host', port: 2200 });
    expect(parseHop('[::1]:22')).toEqual({ host: '::1', port: 22 });
    expect(parseHop('alias')).toEqual({ host: 'alias' });
  });
});
