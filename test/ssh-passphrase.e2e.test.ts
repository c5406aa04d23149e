// A passphrase-protected SSH key, no ssh-agent: `tether agent` asks for the passphrase on its
// terminal (a real pty from util-linux `script`), the link comes up; a wrong passphrase ends in
// one line, without hanging; the passphrase is in no log, no file and not on the screen.
// Both transports: the user's ssh asks through askpass (and again at each new login, as ssh
// does); the built-in one keeps the unlocked key in memory like ssh-agent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientKey, sshdAvailable } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { scanForSecrets } from './support/secret-scan.js';
import { LAPTOP_BIN, waitFor } from './support/tether-process.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const PASSPHRASE = `pp-${randomBytes(12).toString('hex')}`;
let w: SshWorld;
let keyFile: string;
/** Everything every terminal showed, for the final scan. */
const screens: string[] = [];

/** `tether agent --connect box` on a pty, with no ssh-agent in its environment. */
function agentOnTerminal(transport: Transport): { terminal: ChildProcess; screen: () => string; exited: Promise<number | null> } {
  const command = [process.execPath, LAPTOP_BIN, 'agent', '--connect', 'box', '--approve', 'allow', '--ssh', transport].join(' ');
  const env: Record<string, string | undefined> = { ...process.env, ...w.env, TETHER_HOME: w.world.laptopHome };
  delete env.SSH_AUTH_SOCK;
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  terminal.stdout!.setEncoding('utf8').on('data', (d: string) => (screen += d));
  terminal.stderr!.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const exited = new Promise<number | null>((resolve) => terminal.on('exit', (code) => resolve(code)));
  screens.push('');
  const index = screens.length - 1;
  return {
    terminal,
    screen: () => (screens[index] = screen),
    exited,
  };
}

type Transport = 'openssh' | 'builtin';
/** What each transport prints when it asks, and after a wrong answer. */
const PROMPT: Record<Transport, RegExp> = { openssh: /passphrase for key '.*locked_ed25519': /, builtin: /passphrase for .*locked_ed25519: / };

describe.skipIf(!sshdAvailable || !hasScript)('passphrase-protected SSH key on a terminal (real sshd, no ssh-agent)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    const box = await w.sshd('box');
    keyFile = makeClientKey(join(w.world.root, 'locked_ed25519'), PASSPHRASE);
    // Only the encrypted key may log in: the ssh-agent's key is not authorized here.
    writeFileSync(box.authorizedKeys, '');
    box.authorize(`${keyFile}.pub`);
    w.trust(box);
    w.writeConfig([{ alias: 'box', sshd: box, extra: [`IdentityFile ${keyFile}`] }]);
  });

  afterAll(async () => {
    if (!w) return;
    w.stopServerDaemon();
    await waitFor(() => !w.daemonState() || undefined, 'daemon gone', 5000).catch(() => undefined);
    expect(w.world.leaks()).toEqual([]);
    // The passphrase: on no screen, in no log, in no file on either side.
    expect(screens.join('\n')).not.toContain(PASSPHRASE);
    expect(scanForSecrets([w.world.root], [PASSPHRASE])).toEqual([]);
    await w.dispose();
  });

  it.each<Transport>(['openssh', 'builtin'])('%s: asks for the passphrase, and the link comes up once it is typed', async (transport) => {
    const t = agentOnTerminal(transport);
    try {
      await waitFor(() => (PROMPT[transport].test(t.screen()) ? true : undefined), 'the passphrase prompt', 20_000, 25);
      t.terminal.stdin!.write(`${PASSPHRASE}\r`);
      await waitFor(() => (/connected to box/.test(t.screen()) ? true : undefined), 'connected to box', 20_000, 25);
      w.daemonState();
      await w.world.waitForLaptops(1);
      const r = await w.world.token('openai');
      expect(r.code, r.stderr).toBe(0);
      expect((await w.world.proxy('/openai/v1/chat/completions', r.stdout.trim())).status).toBe(200);
      w.world.tokens.add(r.stdout.trim());

      // The SSH session dies (sshd's per-connection processes killed): the agent logs in again.
      // The built-in client uses the key it unlocked; ssh asks again, as it would for `ssh box`.
      const connectedAt = async () => ((await w.world.daemonStatus())?.laptops[0] as { connectedAt?: string } | undefined)?.connectedAt;
      const before = await connectedAt();
      expect(before).toBeDefined();
      for (const pid of w.sshds[0]!.sessionPids()) process.kill(pid, 'SIGTERM');
      if (transport === 'openssh') {
        await waitFor(() => ((t.screen().match(/passphrase for /g)?.length ?? 0) >= 2 ? true : undefined), 'the second prompt', 20_000, 25);
        t.terminal.stdin!.write(`${PASSPHRASE}\r`);
      }
      await waitFor(async () => {
        const now = await connectedAt();
        return now && now !== before ? true : undefined;
      }, 'the agent back on a new SSH login', 20_000, 100);
      expect(t.screen().match(/passphrase for /g)).toHaveLength(transport === 'openssh' ? 2 : 1);
    } finally {
      t.terminal.stdin!.write('\u0003');
      t.terminal.kill('SIGTERM');
      await t.exited;
    }
    await waitFor(async () => ((await w.world.daemonStatus())?.laptops.length === 0 ? true : undefined), 'laptop gone', 10_000).catch(() => undefined);
  });

  it.each<Transport>(['openssh', 'builtin'])('%s: a wrong passphrase ends in one line naming the key, without hanging', async (transport) => {
    const t = agentOnTerminal(transport);
    try {
      await waitFor(() => (PROMPT[transport].test(t.screen()) ? true : undefined), 'the passphrase prompt', 20_000, 25);
      t.terminal.stdin!.write(`not-${PASSPHRASE.slice(3, 9)}\r`);
      if (transport === 'openssh') {
        // ssh asks NumberOfPasswordPrompts (3) times, then gives up on the key.
        for (let i = 1; i <= 2; i++) {
          await waitFor(() => ((t.screen().match(/passphrase for key/g)?.length ?? 0) > i ? true : undefined), 'the prompt asked again', 20_000, 25);
          t.terminal.stdin!.write(`not-${PASSPHRASE.slice(3, 9)}\r`);
        }
      }
      const code = await Promise.race([t.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(code).not.toBe('hung');
      expect(code).toBe(1);
      const errors = t.screen().split(/\r?\n/).filter((l) => /^tether: /.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(transport === 'openssh' ? /SSH login to box failed: permission denied \(publickey\)/ : /wrong passphrase for .*locked_ed25519/);
    } finally {
      t.terminal.kill('SIGTERM');
      await t.exited;
    }
  });
});
