// The OpenSSH transport's own promises, against a real sshd: one TCP connection and one login
// per connect, even where the server forbids every forward (the link rides the session's
// stdio); no secret in any process's argv on either side while leases are in use; a killed
// agent leaves a 401 and no process behind on the server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argvLeaks } from './support/secret-scan.js';
import { sshdAvailable } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { waitFor } from './support/tether-process.js';

let w: SshWorld;

/** Processes whose command line names this test's server home: the server side of our links. */
function serverSideBridges(): number[] {
  const found: number[] = [];
  // The cmdline as read in the scan: a process that exits meanwhile has no /proc entry to read again.
  for (const { pid, cmdline: cmd } of argvLeaks([`${w.world.serverHome}/bin/tether`])) {
    if (cmd.includes('attach') && cmd.includes('--stdio')) found.push(pid);
  }
  return found;
}

describe.skipIf(!sshdAvailable)('OpenSSH transport (real sshd, forwarding disabled)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    // What hardened sites set: no TCP, agent, X11 or stream-local forwarding at all.
    const box = await w.sshd('locked-down', { extra: ['DisableForwarding yes'] });
    w.trust(box);
    w.writeConfig([{ alias: 'box', sshd: box }]);
  });

  afterAll(async () => {
    if (!w) return;
    await w.world.agent?.stop();
    w.stopServerDaemon();
    await waitFor(() => !w.daemonState() || undefined, 'daemon gone', 5000).catch(() => undefined);
    expect(w.world.leaks()).toEqual([]);
    await w.dispose();
  });

  it('links over one login where no forward is allowed; no secret in any argv; SIGKILL of the agent → 401, nothing left running there', async () => {
    const logins = () => readFileSync(w.sshds[0]!.log, 'utf8').match(/Accepted publickey for root/g)?.length ?? 0;
    const before = logins();
    const agent = w.startAgent(['--connect', 'box', '--ssh', 'openssh']);
    await agent.waitForOutput(/connected to box/, 20_000);
    w.daemonState();
    await w.world.waitForLaptops(1);
    // Probe, upload, attach and the link: one SSH login, so one TCP connection.
    expect(logins() - before).toBe(1);
    expect(serverSideBridges()).toHaveLength(1);

    const t = await w.world.token('openai');
    expect(t.code, t.stderr).toBe(0);
    const token = t.stdout.trim();
    w.world.tokens.add(token);
    expect((await w.world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
    expect(argvLeaks([...Object.values(w.world.keys), token, w.world.passphrase])).toEqual([]);
    // ssh (and whatever it runs: ProxyCommand, askpass) gets the agent's environment minus Tether's own.
    const ssh = argvLeaks(['RemoteCommand=none']).filter((p) => p.cmdline.includes(w.world.serverHome));
    expect(ssh.length).toBeGreaterThan(0);
    for (const { pid } of ssh) expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(w.world.passphrase);

    agent.child.kill('SIGKILL');
    // ssh sees its stdin close, the server's end of the link closes, the daemon revokes.
    await waitFor(async () => ((await w.world.proxy('/openai/v1/chat/completions', token)).status === 401 ? true : undefined), 'lease refused', 5000, 25);
    await waitFor(() => (serverSideBridges().length === 0 ? true : undefined), 'server side of the link gone', 5000, 50);
  });

  // `no..such` fails in the resolver itself: no DNS query leaves this machine.
  it('a name that is no Host and no host name says so in one line, pointing at `tether servers list`', async () => {
    const r = await w.world.laptop(['agent', '--connect', 'no..such', '--approve', 'allow'], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"no..such" is not a Host in ~/.ssh/config and ssh cannot resolve it as a host name: `tether servers list` shows the servers you can name');
  });
});
