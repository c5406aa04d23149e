// The built tray app, run for real: the app folder's main.mjs (build/app.mjs, what `npm run dist`
// packages; test/support/app-folder.ts makes it once per run, where dist/electron/ would be) under
// Node with Electron played by test/support/electron-double (windows are headless Chromium pages
// loading the built renderer, with the built preload), against a real sshd and the daemon the app
// starts over SSH. What a person does (open the tray menu, click, answer a prompt, sleep, quit) is
// done through the double; what the server sees is checked with the server's own `tether`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../remote/cli/exit-codes.js';
import { builtAppFolder } from './support/app-folder.js';
import { ElectronApp } from './support/electron-double/driver.js';
import { SshWorld } from './support/ssh-world.js';
import { sshdAvailable } from './support/sshd.js';
import { SERVER_BIN, waitFor } from './support/tether-process.js';

let w: SshWorld;
let app: ElectronApp;
let appDir: string;
let doubleDir: string;
const timings: Record<string, number> = {};
const t0 = Date.now();
const mark = (what: string) => (timings[what] = Date.now() - t0);

function appEnv(): Record<string, string> {
  // TETHER_SSH=builtin: the ssh2 transport; OpenSSH's becomes the default later and must pass too.
  return { ...w.env, TETHER_HOME: w.world.laptopHome, TETHER_SSH: 'builtin', PATH: `${join(w.home, '.local/bin')}:${process.env.PATH}` };
}

/** `tether token` on the server, in the background: it waits while the laptop asks its person. */
function tokenInBackground(provider: string) {
  const child = spawn(process.execPath, [SERVER_BIN, 'token', provider], { env: { ...process.env, TETHER_HOME: w.world.serverHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return once(child, 'exit').then(([code]) => {
    if (stdout.trim()) w.world.tokens.add(stdout.trim());
    return { code: code as number | null, stdout: stdout.trim(), stderr };
  });
}

/** A request, answered in the approval window the app opened for it. */
async function answer(provider: string, button: 'Allow once' | 'Deny') {
  const done = tokenInBackground(provider);
  const prompt = await app.page('prompt');
  await prompt.getByRole('alertdialog').waitFor();
  expect(await prompt.getByRole('alertdialog').getByRole('heading').textContent()).toContain(provider);
  await prompt.getByRole('button', { name: button }).click();
  return done;
}

async function leaseWorks(): Promise<string> {
  const r = await answer('openai', 'Allow once');
  expect(r.code, r.stderr).toBe(ExitCode.ok);
  expect(r.stdout).toMatch(/^tth_/);
  expect((await w.world.proxy('/openai/v1/chat/completions', r.stdout)).status).toBe(200);
  return r.stdout;
}

async function serverLabel(): Promise<string> {
  return (await app.menuLabels()).find((l) => l.startsWith('gpu — ')) ?? '(no gpu entry)';
}

describe.skipIf(!sshdAvailable)('the built tray app, end to end (Electron double, real sshd)', () => {
  beforeAll(async () => {
    [appDir, w] = await Promise.all([builtAppFolder(), SshWorld.create('ask')]);
    mark('app folder built, world made');
    const box = await w.sshd('box');
    w.trust(box);
    w.writeConfig([{ alias: 'gpu', sshd: box }]);
    doubleDir = join(w.world.root, 'electron-double');
    mkdirSync(doubleDir);
    app = await ElectronApp.start({ appDir, dir: doubleDir, env: appEnv(), logFile: w.world.logFile('tray-app') });
    mark('world and app started');
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    if (!w) return;
    w.stopServerDaemon();
    expect(w.world.leaks()).toEqual([]);
    await w.dispose();
    console.log('tray-app e2e timings (ms since start):', JSON.stringify(timings));
  });

  it('the tray menu lists the Host of ~/.ssh/config before anything is connected', async () => {
    await waitFor(async () => (await app.menuLabels()).includes('gpu — disconnected') || undefined, 'gpu in the tray menu');
    expect(await app.menuLabels()).toEqual([
      'gpu — disconnected',
      '  Connect',
      '---',
      '0 live leases',
      'Disconnect all',
      '---',
      'Open Tether…',
      'Install command line tool…',
      'Quit Tether',
    ]);
    mark('menu listed');
  });

  it('Connect links the server over SSH: the daemon starts there and sees this laptop', async () => {
    await app.ask('click', ['gpu — ', 'Connect']);
    await waitFor(async () => (await serverLabel()) === 'gpu — connected' || undefined, 'gpu connected in the menu', 20_000);
    expect(w.daemonState()).toBeDefined();
    await w.world.waitForLaptops(1);
    expect((await app.ask('tray'))[0]).toMatchObject({ toolTip: 'Tether', image: join(appDir, 'icons/tray-idle.png'), imageLoaded: true });
    mark('connected over ssh');
  });

  it('`tether token` on the server opens the approval window without focus; Allow prints a lease, Deny exits 3', async () => {
    await leaseWorks();
    const [prompt] = (await app.ask('windows')).filter((win) => win.url.endsWith('#prompt'));
    expect(prompt).toMatchObject({ visible: true, focused: false, alwaysOnTop: true, title: 'Tether: approve a request' });
    expect(prompt!.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, preload: join(appDir, 'preload.cjs') });
    const denied = await answer('anthropic', 'Deny');
    expect(denied.code).toBe(ExitCode.denied);
    mark('approvals answered');
  });

  it('suspend, then lock-screen: the lease is 401 while the app is frozen right after its handler returned', async () => {
    for (const [sleep, wake] of [['suspend', 'resume'], ['lock-screen', 'unlock-screen']] as const) {
      const token = await leaseWorks();
      const asked = app.ask('power', sleep, true);
      let revokedAfterMs: number;
      try {
        await app.stopped();
        // The OS has frozen the laptop: only what the handler sent before returning can reach the
        // server. It must, well before the dead-man timer (3 heartbeats, 3 s) would end the lease.
        const frozenAt = Date.now();
        await waitFor(async () => (await w.world.proxy('/openai/v1/chat/completions', token)).status === 401 || undefined, `the lease 401 after ${sleep}, the app frozen`, 1000, 10);
        revokedAfterMs = Date.now() - frozenAt;
      } finally {
        app.child.kill('SIGCONT');
      }
      timings[`${sleep}: 401 after (ms, frozen)`] = revokedAfterMs;
      await asked;
      await app.ask('power', wake);
      await waitFor(async () => (await serverLabel()) === 'gpu — connected' || undefined, `reconnected after ${wake}`, 20_000);
      await w.world.waitForLaptops(1);
      expect((await w.world.proxy('/openai/v1/chat/completions', token)).status, `the old lease after ${wake}`).toBe(401);
    }
    mark('sleep and lock');
  });

  it('"Install command line tool" puts `tether` on the PATH; every laptop command answers from the app\'s agent', async () => {
    await app.ask('click', ['Install command line tool']);
    const launcher = join(w.home, '.local/bin/tether');
    await waitFor(() => existsSync(launcher) || undefined, 'the launcher');
    expect(readFileSync(launcher, 'utf8')).toContain(join(appDir, 'tether.mjs'));
    expect(await app.ask('dialogs')).toEqual([expect.objectContaining({ type: 'info', message: `Installed the tether command: ${launcher}` })]);
    // `tether` as a shell finds it on the PATH.
    const tether = (...args: string[]) => spawnSync('tether', args, { encoding: 'utf8', env: { ...process.env, ...appEnv() } });
    const status = tether('status', '--json');
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).agent.servers).toEqual([expect.objectContaining({ server: 'gpu', state: 'READY' })]);
    expect(JSON.parse(tether('servers', 'list', '--json').stdout).map((s: { name: string }) => s.name)).toEqual(['gpu']);
    const revoke = tether('revoke');
    expect(revoke.status, revoke.stderr).toBe(0);
    mark('cli through the launcher');
  });

  it('a second instance exits at once; the first opens its main window', async () => {
    const second = await ElectronApp.start({ appDir, dir: doubleDir, env: appEnv(), logFile: w.world.logFile('tray-app-2') });
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const main = await app.page('servers');
    await main.locator('li.card[data-server="gpu"]').waitFor();
    expect((await app.ask('windows')).find((win) => win.url.endsWith('#servers'))).toMatchObject({ visible: true, focused: true });
    mark('second instance');
  });

  it('Quit says bye: the app exits 0 and the daemon has dropped the lease by then', async () => {
    const token = await leaseWorks();
    const quitting = app.ask('click', ['Quit Tether']);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    await quitting.catch(() => {}); // the answer may not make it out before the exit
    // No waiting for the dead-man timer (3 heartbeats): bye went out before the process ended.
    expect((await w.world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    expect((await w.world.daemonStatus())?.laptops).toEqual([]);
    mark('quit');
  });
});
