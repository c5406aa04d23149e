// known_hosts matching held to OpenSSH's own reading of the same file (`ssh-keygen -F NAME -f
// FILE` lists the lines that name a host), then the verdicts sshconnect.c reaches.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { entriesFor, hashedKnownHostsLine, keyTypeOf, knownHostsLine, knownKeyTypes, readKnownHosts, sshFingerprint, verifyHostKey } from './known-hosts.js';

const hasKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;
let dir: string;
let cleanup = () => {};
const keys: Record<string, { line: string; blob: Buffer }> = {};

function makeKey(name: string, type: string, bits?: number): void {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', name, '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  keys[name] = { line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
}

/** Line numbers `ssh-keygen -F name -f file` reports (OpenSSH's hostkeys_foreach). */
function opensshLines(file: string, name: string): number[] {
  const r = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
  return [...r.stdout.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
}

describe.skipIf(!hasKeygen)('known_hosts, against ssh-keygen -F', () => {
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    makeKey('ed', 'ed25519');
    makeKey('ed2', 'ed25519');
    makeKey('ec', 'ecdsa');
    makeKey('rsa', 'rsa', 2048);
  });
  afterAll(() => cleanup());

  it('matches the same lines as OpenSSH: brackets, ports, globs, negation, case, hashed, markers, bad lines', () => {
    const k = keys.ed!.line;
    const lines = [
      '# a comment',
      `[127.0.0.1]:2222 ${k}`,
      `127.0.0.1 ${k}`,
      `*.lab,!secret.lab ${k}`,
      `@revoked * ${keys.ed2!.line}`,
      `@cert-authority *.ca.test ${k}`,
      `[gpu]:* ${k}`,
      `g?u,Box.Example ${k}`,
      `[10.0.0.*]:2200 ${k}`,
      hashedKnownHostsLine('hashed.test', 22, 'ssh-ed25519', k.split(' ')[1]!, randomBytes(20)),
      hashedKnownHostsLine('10.1.1.1', 2022, 'ssh-ed25519', k.split(' ')[1]!, randomBytes(20)),
      `@bogus host ${k}`,
      `broken ssh-ed25519`,
      `wrongtype ssh-rsa ${k.split(' ')[1]}`,
      `   indented.test\t${k}`,
      `!neg.test ${k}`,
      `[bracket ${k}`,
      `a.test,b.test,[c.test]:2022 ${k}`,
    ];
    const file = join(dir, 'known_hosts');
    writeFileSync(file, lines.join('\n') + '\n');
    const names = [
      '[127.0.0.1]:2222',
      '127.0.0.1',
      '[127.0.0.1]:22',
      'gpu.lab',
      'secret.lab',
      'x.ca.test',
      '[gpu]:22',
      '[gpu]:2222',
      'gpu',
      'gxu',
      'box.example',
      '[10.0.0.5]:2200',
      '[10.0.0.5]:2201',
      'hashed.test',
      '[10.1.1.1]:2022',
      '10.1.1.1',
      'indented.test',
      'neg.test',
      '[bracket',
      'b.test',
      '[c.test]:2022',
      'c.test',
      'nothing.at.all',
    ];
    const entries = readKnownHosts([file]);
    for (const name of names) {
      expect(entriesFor(entries, name).map((e) => e.line), name).toEqual(opensshLines(file, name));
    }
    // Lines OpenSSH would not parse are not entries at all.
    expect(entries.map((e) => e.line)).not.toContain(12);
    expect(entries.map((e) => e.line)).not.toContain(13);
    expect(entries.map((e) => e.line)).not.toContain(14);
  });

  it('reads what ssh-keygen -H hashes, and what we hash, alike', () => {
    const file = join(dir, 'to_hash');
    writeFileSync(file, `[box.test]:2022 ${keys.ec!.line}\nplain.test ${keys.rsa!.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const ours = join(dir, 'ours');
    writeFileSync(ours, knownHostsLine('[box.test]:2022', 'ecdsa-sha2-nistp256', keys.ec!.line.split(' ')[1]!, true) + '\n');
    for (const f of [file, ours]) {
      expect(readFileSync(f, 'utf8')).toMatch(/^\|1\|/);
      expect(verifyHostKey({ files: [f], hostName: 'box.test', port: 2022 }, keys.ec!.blob)).toMatchObject({ state: 'known', line: 1 });
      expect(opensshLines(f, '[box.test]:2022')).toEqual([1]);
    }
  });

  it('verdicts: known; any other key for the name is CHANGED (whatever its type); @revoked wins', () => {
    const file = join(dir, 'verdicts');
    writeFileSync(file, [`[h.test]:2222 ${keys.rsa!.line}`, `r.test ${keys.ed!.line}`, `@revoked r.test ${keys.ed!.line}`].join('\n') + '\n');
    const q = { files: [file], hostName: 'h.test', port: 2222 };
    expect(verifyHostKey(q, keys.rsa!.blob)).toEqual({ state: 'known', file, line: 1 });
    // OpenSSH: a host known only by its RSA key that presents ed25519 has CHANGED.
    expect(verifyHostKey(q, keys.ed!.blob)).toMatchObject({ state: 'changed', keyType: 'ssh-ed25519', fingerprint: sshFingerprint(keys.ed!.blob), line: 1 });
    expect(verifyHostKey({ ...q, hostName: 'r.test', port: 22 }, keys.ed!.blob)).toMatchObject({ state: 'revoked', line: 3 });
    expect(verifyHostKey({ ...q, hostName: 'unknown.test' }, keys.ed!.blob)).toMatchObject({ state: 'unknown', name: '[unknown.test]:2222', caOnly: false });
    expect(knownKeyTypes(q)).toEqual(['ssh-rsa']);
    expect(keyTypeOf(keys.ec!.blob)).toBe('ecdsa-sha2-nistp256');
  });

  it('a bare host line vouches on another port (only an exact match: a different key there is just unknown)', () => {
    const file = join(dir, 'bare');
    writeFileSync(file, `bare.test ${keys.ed!.line}\n`);
    expect(verifyHostKey({ files: [file], hostName: 'bare.test', port: 2222 }, keys.ed!.blob)).toMatchObject({ state: 'known' });
    expect(verifyHostKey({ files: [file], hostName: 'bare.test', port: 2222 }, keys.ec!.blob)).toMatchObject({ state: 'unknown' });
    // The reordering of host key types looks only at the exact name, as order_hostkeyalgs() does.
    expect(knownKeyTypes({ files: [file], hostName: 'bare.test', port: 2222 })).toEqual([]);
  });

  it('HostKeyAlias is looked up verbatim (no port, no bare-host fallback); files are read in order', () => {
    const user = join(dir, 'user_kh');
    const global = join(dir, 'global_kh');
    writeFileSync(user, `# nothing\n`);
    writeFileSync(global, `myalias ${keys.ec!.line}\n[a.test]:2222 ${keys.ed2!.line}\n`);
    const files = [user, join(dir, 'missing'), global];
    expect(verifyHostKey({ files, hostName: 'a.test', port: 2222, alias: 'MyAlias' }, keys.ec!.blob)).toMatchObject({ state: 'known', file: global, line: 1 });
    expect(verifyHostKey({ files, hostName: 'a.test', port: 2222, alias: 'myalias' }, keys.ed2!.blob)).toMatchObject({ state: 'changed' });
    expect(verifyHostKey({ files, hostName: 'a.test', port: 2222 }, keys.ed2!.blob)).toMatchObject({ state: 'known', file: global, line: 2 });
  });

  it('a name vouched for only by @cert-authority is unknown, and says so', () => {
    const file = join(dir, 'ca');
    writeFileSync(file, `@cert-authority *.ca.test ${keys.ec!.line}\n`);
    expect(verifyHostKey({ files: [file], hostName: 'box.ca.test', port: 22 }, keys.ed!.blob)).toMatchObject({ state: 'unknown', caOnly: true });
  });

  it('CheckHostIP: a different key listed for the address is refused', () => {
    const file = join(dir, 'ip');
    writeFileSync(file, `named.test ${keys.ed!.line}\n10.9.9.9 ${keys.ec!.line}\n`);
    expect(verifyHostKey({ files: [file], hostName: 'named.test', port: 22, ip: '10.9.9.9' }, keys.ed!.blob)).toMatchObject({ state: 'changed', name: '10.9.9.9' });
    expect(verifyHostKey({ files: [file], hostName: 'named.test', port: 22, ip: '10.9.9.8' }, keys.ed!.blob)).toMatchObject({ state: 'known' });
  });
});
