// Real logins that need a person: an encrypted key without ssh-agent, a password account
// (PAM, pam_pwdfile) and a key + one-time code account (PAM keyboard-interactive, pam_oath,
// TOTP as HPC clusters do), each against a real sshd with a PAM service of its own. The
// user's ssh asks through askpass; the agent's prompt queue hands the question to its
// terminal (a real pty from util-linux `script`) and to the UI (the renderer in headless
// Chromium), first answer wins. A wrong answer fails in one line without hanging; the
// answer is in no file and in no process's argv or environment.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPaths } from '../agent/paths.js';
import { AgentControlClient, ControlRequestError } from '../agent/control/client.js';
import { OathAccount } from './support/oath.js';
import { watchProcesses, type ProcHit } from './support/proc-scan.js';
import { scanForSecrets } from './support/secret-scan.js';
import { makeClientKey, sshdAvailable, type Sshd } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { LAPTOP_BIN, ROOT, readJsonIfExists, type TetherProcess, waitFor } from './support/tether-process.js';
import { attachBridge, launchChromium, serveRenderer, UI_ORIGIN } from './support/ui-bridge.js';

// `npm run screenshots` refreshes the committed ones in docs/; a plain test run writes to dist/.
const SHOTS = resolve(ROOT, process.env.TETHER_SCREENSHOTS ?? 'dist/screenshots');
/** Whether a PAM module is installed, wherever this architecture keeps them (Debian: /lib/<triplet>/security). */
function hasPamModule(name: string): boolean {
  const roots = ['/lib', '/usr/lib', '/lib64'];
  const dirs = roots.flatMap((r) => [join(r, 'security'), ...(existsSync(r) ? readdirSync(r).filter((d) => d.endsWith('-linux-gnu')).map((d) => join(r, d, 'security')) : [])]);
  return dirs.some((d) => existsSync(join(d, name)));
}
const hasPamModules = hasPamModule('pam_oath.so') && hasPamModule('pam_pwdfile.so');
const hasScript = spawnSync('script', ['--version']).status === 0;
const hasChromium = existsSync('/usr/bin/chromium');

const PASSPHRASE = `pp-${randomBytes(12).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
/** Every answer typed anywhere (right or wrong), for the scans. */
const answers = new Set<string>([PASSPHRASE, PASSWORD]);
/** Codes pam_oath accepted: liboath writes the last one into its usersfile (replay guard). */
const acceptedCodes: string[] = [];
const procHits: ProcHit[] = [];
const screens: string[] = [];

let w: SshWorld;
let oath: OathAccount;
let boxes: Record<'lockbox' | 'pwbox' | 'otpbox' | 'keybox' | 'newbox', Sshd>;
type Box = 'lockbox' | 'pwbox' | 'otpbox';

/** What each box asks, in ssh's or PAM's own words. */
const ASKS: Record<Box, RegExp> = {
  lockbox: /Enter passphrase for key '.*locked_ed25519': /,
  pwbox: /root@127\.0\.0\.1's password: /,
  otpbox: /One-time password \(OATH\) for `root': /,
};

function answerFor(box: Box): string {
  if (box === 'lockbox') return PASSPHRASE;
  if (box === 'pwbox') return PASSWORD;
  const code = oath.nextCode();
  answers.add(code);
  acceptedCodes.push(code);
  return code;
}

function wrong(): string {
  const a = `no-${randomBytes(6).toString('hex')}`;
  answers.add(a);
  return a;
}

/** `tether agent --connect BOX` on a pty; `env` beyond the laptop's (undefined removes). */
function agentOnTerminal(box: string, env: Record<string, string | undefined> = {}): { terminal: ChildProcess; screen: () => string; exited: Promise<number | null> } {
  const command = [process.execPath, LAPTOP_BIN, 'agent', '--connect', box, '--approve', 'allow'].join(' ');
  const full: Record<string, string | undefined> = { ...process.env, ...w.env, TETHER_HOME: w.world.laptopHome, ...env };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], { env: full, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  terminal.stdout!.setEncoding('utf8').on('data', (d: string) => (screen += d));
  terminal.stderr!.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const exited = new Promise<number | null>((resolve) => terminal.on('exit', (code) => resolve(code)));
  const index = screens.push('') - 1;
  return { terminal, screen: () => (screens[index] = screen), exited };
}

async function endTerminal(t: { terminal: ChildProcess; exited: Promise<number | null> }): Promise<void> {
  t.terminal.stdin!.write('\u0003');
  t.terminal.kill('SIGTERM');
  await t.exited;
}

let rendererBuilt = false;
/** The built renderer (once per file) and a browser page on #prompt, attached to the agent's control socket. */
async function openPromptWindow(browser: Browser, socket: string, pageErrors: string[]): Promise<{ context: BrowserContext; page: Page; stop: () => void }> {
  const context = await browser.newContext({ viewport: { width: 640, height: 560 } });
  await serveRenderer(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const { stop } = await attachBridge(page, socket);
  await page.goto(`${UI_ORIGIN}/index.html#prompt`);
  await page.getByRole('heading', { name: 'No requests waiting' }).waitFor();
  return { context, page, stop };
}

async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function browserWithRenderer(): Promise<Browser> {
  if (!rendererBuilt) await build({ configFile: join(ROOT, 'build/vite.renderer.config.ts'), logLevel: 'silent' });
  rendererBuilt = true;
  return launchChromium();
}

/** What the tray's Connect does (the connect call); resolves 'ok' or with the agent's refusal. */
function connectVia(control: AgentControlClient, server: string): Promise<'ok' | ControlRequestError> {
  return control.call('connect', { server }).then(
    () => 'ok' as const,
    (err: unknown) => err as ControlRequestError,
  );
}

const serverHome = (box: string) => join(w.world.root, `server-${box}`);
const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, 'g'))?.length ?? 0;
/** Without an ssh-agent: the encrypted key and the password box must not be helped by one. */
const noAgent = (box: Box) => (box === 'otpbox' ? {} : { SSH_AUTH_SOCK: undefined });

describe.skipIf(!sshdAvailable || !hasPamModules || !hasScript)('SSH logins that need a person (real sshd with PAM)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    const locked = makeClientKey(join(w.world.root, 'locked_ed25519'), PASSPHRASE);
    const lockbox = await w.sshd('lockbox');
    // Only the encrypted key may log in there: the ssh-agent's key is not authorized.
    writeFileSync(lockbox.authorizedKeys, '');
    lockbox.authorize(`${locked}.pub`);

    // The password database holds a crypt(3) hash only (made through stdin, never an argv).
    const pwfile = join(w.world.root, 'pwbox.passwd');
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: `${PASSWORD}\n`, encoding: 'utf8' }).trim();
    writeFileSync(pwfile, `root:${hash}\n`, { mode: 0o600 });
    const pwbox = await w.sshd('pwbox', {
      pam: [`auth required pam_pwdfile.so pwdfile=${pwfile} nodelay`],
      config: ['AuthenticationMethods password', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PermitRootLogin yes'],
    });

    oath = new OathAccount(join(w.world.root, 'otpbox.oath'));
    const otpbox = await w.sshd('otpbox', {
      pam: [`auth required pam_oath.so usersfile=${oath.usersFile} window=20 digits=8`],
      config: ['AuthenticationMethods publickey,keyboard-interactive', 'KbdInteractiveAuthentication yes', 'PasswordAuthentication no', 'PermitRootLogin yes'],
    });
    const keybox = await w.sshd('keybox');
    const newbox = await w.sshd('newbox');
    boxes = { lockbox, pwbox, otpbox, keybox, newbox };
    for (const b of [lockbox, pwbox, otpbox, keybox]) w.trust(b);
    // A server home (so a daemon) per box: one laptop's links to one daemon replace each other.
    const home = (box: string) => [`SetEnv TETHER_HOME=${serverHome(box)}`];
    w.writeConfig([
      { alias: 'lockbox', sshd: lockbox, serverHome: false, extra: [...home('lockbox'), `IdentityFile ${locked}`, 'IdentitiesOnly yes'] },
      { alias: 'pwbox', sshd: pwbox, serverHome: false, extra: home('pwbox') },
      { alias: 'otpbox', sshd: otpbox, serverHome: false, extra: home('otpbox') },
      { alias: 'keybox', sshd: keybox, serverHome: false, extra: home('keybox') },
      { alias: 'newbox', sshd: newbox, serverHome: false, extra: home('newbox') },
    ]);
  });

  afterAll(async () => {
    if (!w) return;
    const pamFiles = Object.values(boxes ?? {}).map((b) => b.pamFile).filter((f): f is string => !!f);
    // The daemons the agents started over SSH are detached: stop each by its pid.
    const daemons = Object.keys(boxes ?? {}).map((box) => readJsonIfExists<{ pid: number }>(join(serverHome(box), 'run/daemon.json'))?.pid).filter((pid): pid is number => !!pid);
    for (const pid of daemons) process.kill(pid, 'SIGTERM');
    await waitFor(() => daemons.every((pid) => !existsSync(`/proc/${pid}`)) || undefined, 'daemons gone', 5000).catch(() => undefined);
    expect(w.world.leaks()).toEqual([]);
    // In no process's argv or environment, sampled while each question was open and after.
    expect(procHits).toEqual([]);
    // On no screen (secrets are read with echo off) and in no file of the laptop's or the
    // servers' trees, logs included. The one exception is the server's own: liboath records
    // the last code it accepted in its usersfile, to refuse a replay; finding it there shows
    // the scan finds what it looks for.
    expect(screens.join('\n')).not.toMatch(new RegExp([...answers].join('|')));
    const leaks = scanForSecrets([w.world.root], [...answers]);
    expect(leaks.filter((l) => l.file !== oath.usersFile)).toEqual([]);
    expect(leaks.map((l) => l.file)).toContain(oath.usersFile);
    expect(readFileSync(oath.usersFile, 'utf8')).toContain(acceptedCodes.at(-1));
    await w.dispose();
    for (const f of pamFiles) expect(existsSync(f), `${f} removed`).toBe(false);
  });

  it('runs each sshd under a PAM service of its own, not the system sshd one', () => {
    for (const box of [boxes.pwbox, boxes.otpbox]) {
      expect(box.pamFile).toMatch(/^\/etc\/pam\.d\/tether-test-sshd-[0-9a-f]{10}$/);
      expect(readFileSync(box.pamFile!, 'utf8')).toMatch(/pam_(pwdfile|oath)\.so/);
      // sshd's process title starts with its __progname, the name it opens PAM with.
      const service = box.pamFile!.slice('/etc/pam.d/'.length);
      expect(readFileSync(`/proc/${box.child!.pid}/cmdline`, 'utf8')).toMatch(new RegExp(`^${service}: ${join(box.dir, service)} `));
    }
  });

  describe('answered at the agent\'s terminal (real pty)', () => {
    it.each<Box>(['lockbox', 'pwbox', 'otpbox'])('%s: the question shows in ssh\'s words; the answer logs in', async (box) => {
      const t = agentOnTerminal(box, noAgent(box));
      try {
        await waitFor(() => (ASKS[box].test(t.screen()) ? true : undefined), `${box}'s question`, 20_000, 25);
        // Sampled from while the question is open until the link is up.
        const answer = answerFor(box);
        const watch = watchProcesses([answer]);
        t.terminal.stdin!.write(`${answer}\r`);
        await waitFor(() => (new RegExp(`connected to ${box}`).test(t.screen()) ? true : undefined), `connected to ${box}`, 20_000, 25);
        const seen = watch.stop();
        procHits.push(...seen.hits);
        expect(seen.samples).toBeGreaterThan(1);
        expect(seen.processes).toBeGreaterThan(5);
        expect(count(t.screen(), ASKS[box])).toBe(1);
      } finally {
        await endTerminal(t);
      }
    });

    it('pwbox: a wrong password, each time ssh asks (NumberOfPasswordPrompts, 3), ends in one line', async () => {
      const t = agentOnTerminal('pwbox', noAgent('pwbox'));
      try {
        for (let i = 1; i <= 3; i++) {
          await waitFor(() => (count(t.screen(), ASKS.pwbox) >= i ? true : undefined), `question ${i}`, 20_000, 25);
          t.terminal.stdin!.write(`${wrong()}\r`);
        }
        const code = await Promise.race([t.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
        expect(code).toBe(1);
        // One line on the screen says it, and what was wrong.
        const said = t.screen().split(/\r?\n/).filter((l) => /pwbox failed|refused|denied/i.test(l));
        expect(said).toEqual([expect.stringMatching(/^tether: SSH login to pwbox failed: permission denied \(password\): the password was refused 3 times$/)]);
      } finally {
        await endTerminal(t);
      }
    });
  });

  describe.skipIf(!hasChromium)('answered in the Tether window (the renderer in headless Chromium)', () => {
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let agent: TetherProcess;
    let control: AgentControlClient;
    let stopBridge: () => void;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      browser = await browserWithRenderer();
      // No terminal: the agent asks only the window, as the tray does.
      agent = w.startAgent(['--connect', 'keybox']);
      await agent.waitForOutput(/connected to keybox/, 20_000);
      control = new AgentControlClient(agentPaths(w.world.laptopHome).socket);
      ({ context, page, stop: stopBridge } = await openPromptWindow(browser, control.socketPath, pageErrors));
    }, 60_000);

    afterAll(async () => {
      stopBridge?.();
      await context?.close();
      await browser?.close();
      await agent?.stop();
      expect(pageErrors).toEqual([]);
    });

    const connect = (server: string) => connectVia(control, server);

    it('otpbox: a wrong code each time ssh asks fails the connect in one line; the window says the last one was refused', async () => {
      const connecting = connect('otpbox');
      const dialog = page.getByRole('alertdialog');
      for (let i = 1; i <= 3; i++) {
        await dialog.getByRole('heading', { name: /otpbox asks for a one-time code/ }).waitFor({ timeout: 20_000 });
        if (i > 1) await dialog.getByRole('status').getByText(`attempt ${i}`).waitFor();
        const field = dialog.locator('input[name="ssh-answer"]');
        const code = oath.wrongCode();
        answers.add(code);
        await field.fill(code);
        await field.press('Enter');
        if (i < 3) await dialog.getByRole('status').getByText(`attempt ${i + 1}`).waitFor({ timeout: 20_000 });
      }
      const failure = await Promise.race([connecting, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(failure).toBeInstanceOf(ControlRequestError);
      const message = (failure as ControlRequestError).message;
      expect(message).not.toContain('\n');
      expect(message).toMatch(/^SSH login to otpbox failed: permission denied \(keyboard-interactive\): the one-time code was refused 3 times$/);
      await page.getByRole('heading', { name: 'No requests waiting' }).waitFor();
    });

    it.each<[Box, RegExp]>([
      ['lockbox', /lockbox asks for the passphrase of your SSH key/],
      ['pwbox', /pwbox asks for your password/],
      ['otpbox', /otpbox asks for a one-time code/],
    ])('%s: the window names the server and what it wants; the answer logs in and leaves the page', async (box, heading) => {
      const connecting = connect(box);
      const dialog = page.getByRole('alertdialog');
      await dialog.getByRole('heading', { name: heading }).waitFor({ timeout: 20_000 });
      expect(await page.getByTestId('ssh-text').textContent()).toMatch(new RegExp(ASKS[box].source.trim()));
      const field = dialog.locator('input[name="ssh-answer"]');
      expect(await field.getAttribute('type')).toBe('password');
      if (box === 'otpbox') await shoot(page, 'ssh-code');
      const answer = answerFor(box);
      const watch = watchProcesses([answer]);
      await field.fill(answer);
      await field.press('Enter');
      expect(await connecting).toBe('ok');
      const seen = watch.stop();
      procHits.push(...seen.hits);
      expect(seen.samples).toBeGreaterThan(1);
      // The field was emptied as it was sent; nothing on the page holds the answer.
      await page.getByRole('heading', { name: 'No requests waiting' }).waitFor();
      const dom = await page.evaluate(() => document.documentElement.outerHTML + Array.from(document.querySelectorAll("input"), (i) => i.value).join('\n'));
      expect(dom).not.toContain(answer);
      expect((await control.call('status', {})).servers.find((s) => s.server === box)?.state).toBe('READY');
    });

    it('an unknown host key: the window shows its fingerprint; "Don\'t connect" refuses in one line, "Trust and connect" connects and ssh records it', async () => {
      const dialog = page.getByRole('alertdialog');
      const refused = connect('newbox');
      await dialog.getByRole('heading', { name: /newbox presents an unknown host key/ }).waitFor({ timeout: 20_000 });
      expect(await page.getByTestId('fingerprint').textContent()).toBe(`ED25519 ${boxes.newbox.fingerprint}`);
      await shoot(page, 'ssh-host-key');
      await dialog.getByRole('button', { name: "Don't connect" }).click();
      const refusal = await refused;
      expect(refusal).toBeInstanceOf(ControlRequestError);
      expect((refusal as ControlRequestError).message).not.toContain('\n');
      expect((refusal as ControlRequestError).message).toContain(boxes.newbox.fingerprint);

      const trusted = connect('newbox');
      await dialog.getByRole('button', { name: 'Trust and connect' }).click();
      expect(await trusted).toBe('ok');
      const known = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${boxes.newbox.port}`, '-f', join(w.sshDir, 'known_hosts')], { encoding: 'utf8' });
      expect(known).toContain(boxes.newbox.hostKeyLine.split(' ')[1]);
    });
  });

  describe.skipIf(!hasChromium)('a terminal and the window both ask: the first answer wins', () => {
    it('answered in the window, the terminal\'s question is withdrawn; answered at the terminal, the window\'s is', async () => {
      const pageErrors: string[] = [];
      const browser = await browserWithRenderer();
      const t = agentOnTerminal('keybox');
      let ui: Awaited<ReturnType<typeof openPromptWindow>> | undefined;
      try {
        await waitFor(() => (/connected to keybox/.test(t.screen()) ? true : undefined), 'connected to keybox', 20_000, 25);
        const control = new AgentControlClient(agentPaths(w.world.laptopHome).socket);
        ui = await openPromptWindow(browser, control.socketPath, pageErrors);
        const dialog = ui.page.getByRole('alertdialog');

        const pw = connectVia(control, 'pwbox');
        await waitFor(() => (ASKS.pwbox.test(t.screen()) ? true : undefined), 'the question on the terminal', 20_000, 25);
        await dialog.getByRole('heading', { name: /pwbox asks for your password/ }).waitFor();
        const watch = watchProcesses([PASSWORD]);
        await dialog.locator('input[name="ssh-answer"]').fill(PASSWORD);
        await dialog.locator('input[name="ssh-answer"]').press('Enter');
        expect(await pw).toBe('ok');
        procHits.push(...watch.stop().hits);
        await waitFor(() => (/\(answered in the Tether window\)/.test(t.screen()) ? true : undefined), 'the terminal told', 10_000, 25);

        const key = connectVia(control, 'lockbox');
        await dialog.getByRole('heading', { name: /lockbox asks for the passphrase/ }).waitFor({ timeout: 20_000 });
        await waitFor(() => (ASKS.lockbox.test(t.screen()) ? true : undefined), 'the question on the terminal', 20_000, 25);
        t.terminal.stdin!.write(`${PASSPHRASE}\r`);
        expect(await key).toBe('ok');
        await ui.page.getByRole('heading', { name: 'No requests waiting' }).waitFor();
        expect(count(t.screen(), /answered in the Tether window/)).toBe(1);
      } finally {
        ui?.stop();
        await ui?.context.close();
        await browser.close();
        await endTerminal(t);
      }
      expect(pageErrors).toEqual([]);
    });
  });
});
