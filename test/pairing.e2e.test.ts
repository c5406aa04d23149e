// First contact and later ones, with the real agent and the real daemon.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { TetherProcess, runTether } from './support/tether-process.js';

let world: World | undefined;

afterEach(async () => {
  await retire(world);
  world = undefined;
});

function agentOnce(w: World, args: string[]): TetherProcess {
  return new TetherProcess(['agent', '--connect', `unix:${w.state.socket}`, '--approve', 'allow', ...args], {
    home: w.laptopHome,
    env: { TETHER_VAULT_PASSPHRASE: w.passphrase },
    logFile: w.logFile('agent'),
  });
}

async function exitOf(p: TetherProcess): Promise<number | null> {
  if (!p.exited) await new Promise((r) => p.child.once('exit', r));
  return p.child.exitCode;
}

describe('pairing', () => {
  it('a right code pairs and pins the daemon key; later connections need no code', async () => {
    world = await World.start({ noAgent: true });
    const status = await world.server(['pair-code', '--json']);
    const { code, fingerprint, expiresAt } = JSON.parse(status.stdout) as { code: string; fingerprint: string; expiresAt: string };
    expect(code.replace(/-/g, '')).toMatch(/^[0-9A-HJKMNP-TV-Z]{13}$/);
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);

    world.agent = agentOnce(world, ['--pair', code]);
    await world.waitForLaptops(1);
    const config = JSON.parse(readFileSync(join(world.laptopHome, 'config.json'), 'utf8')) as { servers: Record<string, { fingerprint: string }> };
    expect(Object.values(config.servers).map((s) => s.fingerprint)).toEqual([fingerprint]);

    await world.agent.stop();
    world.agent = agentOnce(world, []);
    await world.waitForLaptops(1);
  });

  it('a wrong code and a reused code are refused', async () => {
    world = await World.start({ noAgent: true });
    const code = await world.pairCode();
    const wrong = agentOnce(world, ['--pair', 'ABCD-EFGH-JKMN-P']);
    expect(await exitOf(wrong)).not.toBe(0);
    expect(wrong.text).toMatch(/pair/i);

    world.agent = agentOnce(world, ['--pair', code]);
    await world.waitForLaptops(1);
    await world.agent.stop();

    // Same code, a laptop that has never paired (fresh home): the code is spent.
    const other = new World({ noAgent: true });
    try {
      const reuse = new TetherProcess(['agent', '--connect', `unix:${world.state.socket}`, '--pair', code], {
        home: other.laptopHome,
        env: { TETHER_VAULT_PASSPHRASE: other.passphrase },
        logFile: world.logFile('agent-reuse'),
      });
      expect(await exitOf(reuse)).not.toBe(0);
      expect(reuse.text).toMatch(/pair/i);
    } finally {
      await other.dispose();
    }
  });

  it('an agent refuses a daemon whose key differs from the pinned one, before authenticating', async () => {
    world = await World.start();
    await world.agent!.stop();
    // Another daemon (another identity) takes over the same socket path.
    await world.daemon.stop();
    const impostorHome = join(world.root, 'impostor');
    const { SERVER_BIN } = await import('./support/tether-process.js');
    const impostor = new TetherProcess(['serve', '--proxy-port', '0', '--socket', world.state.socket], { home: impostorHome, bin: SERVER_BIN, logFile: world.logFile('impostor') });
    try {
      await impostor.waitForOutput(/ready|listening/i);
      const refused = agentOnce(world, []);
      expect(await exitOf(refused)).not.toBe(0);
      expect(refused.text).toMatch(/SHA256:/);
      expect(refused.text).toMatch(/key/i);
      expect(refused.text).toContain(`tether servers unpin unix:${world.state.socket}`);

      // What the refusal says to do after a reinstall: unpin, then pair with the new daemon.
      const unpin = await world.laptop(['servers', 'unpin', `unix:${world.state.socket}`]);
      expect(unpin.code, unpin.stderr).toBe(0);
      expect(unpin.stderr).toMatch(/forgot daemon key SHA256:/);
      expect((await world.laptop(['servers', 'unpin', `unix:${world.state.socket}`])).code).toBe(1);
      const code = await runTether(['pair-code', '--json'], { home: impostorHome, bin: SERVER_BIN });
      const repaired = agentOnce(world, ['--pair', (JSON.parse(code.stdout) as { code: string }).code]);
      try {
        await repaired.waitForOutput(/paired with/);
      } finally {
        await repaired.stop();
      }
    } finally {
      await impostor.stop();
    }
  });
});
