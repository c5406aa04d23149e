// The built-in transport's questions to the person (keyboard-interactive, password, an
// encrypted key's passphrase) go through the prompt function in its one shape, against an SSH
// server on loopback (ssh2's Server: sshd cannot be given a password here). BatchMode asks
// nothing; a declined question fails the login in one line.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshHost } from '../servers/ssh-host.js';
import { tempDir } from '../testing/temp.js';
import { openSshChain, type SshAuthOptions } from './ssh-session.js';

const { Server, utils } = ssh2;
type Req = Parameters<NonNullable<SshAuthOptions['prompt']>>[0];

let dir: string;
let cleanup = () => {};
let server: InstanceType<typeof Server>;
let port = 0;
let knownHosts = '';
let lockedKey = '';
let lockedPublic: ParsedKey;
const PASSWORD = 'correct horse';
const CODE = '123456';

function host(extra: Partial<SshHost> = {}): SshHost {
  return { alias: 'box', hostName: '127.0.0.1', user: 'me', port, identityFiles: [], proxyJump: [], setEnv: {}, knownHostsFiles: [knownHosts], configured: true, ...extra };
}

describe('prompts of the built-in transport', () => {
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    const hostKey = utils.generateKeyPairSync('ed25519');
    lockedKey = join(dir, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass-phrase', '-f', lockedKey]);
    lockedPublic = utils.parseKey(execFileSync('cat', [`${lockedKey}.pub`])) as ParsedKey;
    server = new Server({ hostKeys: [hostKey.private] }, (client: Connection) => {
      client.on('error', () => {});
      client.on('authentication', (ctx) => {
        if (ctx.method === 'publickey' && ctx.key.data.equals(lockedPublic.getPublicSSH())) return ctx.accept();
        if (ctx.method === 'password' && ctx.password === PASSWORD) return ctx.accept();
        if (ctx.method === 'keyboard-interactive') {
          return ctx.prompt(
            [
              { prompt: 'Password: ', echo: false },
              { prompt: 'Verification code: ', echo: true },
            ],
            'Two factors',
            'Answer both',
            (answers) => (answers[0] === PASSWORD && answers[1] === CODE ? ctx.accept() : ctx.reject()),
          );
        }
        ctx.reject(['publickey', 'keyboard-interactive', 'password']);
      });
      client.on('ready', () => client.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const blob = (utils.parseKey(hostKey.public) as ParsedKey).getPublicSSH();
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ssh-ed25519 ${blob.toString('base64')}\n`);
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    cleanup();
  });

  it('keyboard-interactive: each question in the prompt shape, with its echo flag and kind', async () => {
    const asked: Req[] = [];
    const clients = await openSshChain(host({ pubkeyAuthentication: false }), [], {
      homeDir: dir,
      prompt: async (req) => {
        asked.push(req);
        return req.kind === 'password' ? PASSWORD : CODE;
      },
    });
    clients.forEach((c) => c.end());
    expect(asked).toEqual([
      { kind: 'password', text: 'Two factors\nAnswer both\nPassword: ', echo: false, host: 'box' },
      { kind: 'otp', text: 'Verification code: ', echo: true, host: 'box' },
    ]);
  });

  it('password, when keyboard-interactive is off', async () => {
    const asked: Req[] = [];
    const clients = await openSshChain(host({ pubkeyAuthentication: false, kbdInteractiveAuthentication: false }), [], {
      homeDir: dir,
      prompt: async (req) => (asked.push(req), PASSWORD),
    });
    clients.forEach((c) => c.end());
    expect(asked).toEqual([{ kind: 'password', text: "me@127.0.0.1's password: ", echo: false, host: 'box' }]);
  });

  it("an encrypted IdentityFile's passphrase goes through the prompt too", async () => {
    const asked: Req[] = [];
    const clients = await openSshChain(host({ identityFiles: [lockedKey], kbdInteractiveAuthentication: false, passwordAuthentication: false }), [], {
      homeDir: dir,
      prompt: async (req) => (asked.push(req), 'pass-phrase'),
    });
    clients.forEach((c) => c.end());
    expect(asked).toEqual([{ kind: 'passphrase', text: `Enter passphrase for key '${lockedKey}': `, echo: false, host: 'box' }]);
  });

  it('BatchMode asks nothing; a declined question fails the login in one line', async () => {
    let asked = 0;
    const prompt = async () => (asked++, undefined);
    // A copy: the key unlocked above is kept (by path) for reconnects, as ssh-agent would.
    const copy = join(dir, 'locked-copy');
    execFileSync('cp', [lockedKey, copy]);
    await expect(openSshChain(host({ batchMode: true, identityFiles: [copy] }), [], { homeDir: dir, prompt })).rejects.toMatchObject({ code: 'ssh-auth-failed' });
    expect(asked).toBe(0);
    await expect(openSshChain(host({ pubkeyAuthentication: false }), [], { homeDir: dir, prompt })).rejects.toMatchObject({ code: 'ssh-auth-failed', message: expect.stringMatching(/^SSH login to box as me failed/) });
    expect(asked).toBeGreaterThan(0);
  });
});
