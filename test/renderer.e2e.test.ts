// The tray app's React UI in real headless Chromium, against a real agent and daemon: the
// approval prompt decides what `tether token` on the server gets, and Disconnect ends leases.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { ExitCode } from '../remote/cli/exit-codes.js';
import { agentPaths } from '../agent/paths.js';
import type { TetherBridge } from '../protocol/bridge.js';
import { AgentControlClient } from '../agent/control/client.js';
import { World } from './support/world.js';
import { SshWorld } from './support/ssh-world.js';
import { sshdAvailable } from './support/sshd.js';
import { scanForSecrets } from './support/secret-scan.js';
import { ROOT, SERVER_BIN, waitFor } from './support/tether-process.js';
import { attachBridge, launchChromium, serveRenderer, UI_ORIGIN } from './support/ui-bridge.js';

// `npm run screenshots` refreshes the committed ones in docs/; a plain test run writes to dist/.
const SHOTS = resolve(ROOT, process.env.TETHER_SCREENSHOTS ?? 'dist/screenshots');
let browser: Browser;
let world: World | undefined;
let context: BrowserContext | undefined;
let stops: (() => void)[] = [];
let pageErrors: string[] = [];

beforeAll(async () => {
  await build({ configFile: join(ROOT, 'build/vite.renderer.config.ts'), logLevel: 'silent' });
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const stop of stops) stop();
  stops = [];
  await context?.close();
  context = undefined;
  const errors = pageErrors;
  pageErrors = [];
  expect(errors).toEqual([]);
  if (!world) return;
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
  world = undefined;
});

/** A fresh browser context with the bridge attached; `hash` picks the window (#prompt, #servers…). */
async function openUi(w: World, hash: string, colorScheme: 'light' | 'dark' = 'light', viewport = { width: 860, height: 620 }, answersSshPrompts = true): Promise<{ page: Page; refused: string[] }> {
  context ??= await browser.newContext({ viewport, colorScheme });
  const refused = await serveRenderer(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  const bridge = await attachBridge(page, agentPaths(w.laptopHome).socket, { answersSshPrompts });
  stops.push(bridge.stop);
  await page.goto(`${UI_ORIGIN}/index.html#${hash}`);
  return { page, refused };
}

function tokenInBackground(w: World, provider: string) {
  const child = spawn(process.execPath, [SERVER_BIN, 'token', provider], { cwd: w.root, env: { ...process.env, TETHER_HOME: w.serverHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = once(child, 'exit').then(([code]) => {
    if (stdout.trim()) w.tokens.add(stdout.trim());
    return { code: code as number | null, stdout: stdout.trim(), stderr };
  });
  return { child, done };
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('approval prompt in the renderer', () => {
  it('shows the request from the server; Allow prints a lease, Deny exits 3, waiting exits 4', async () => {
    world = await World.start({ approve: 'ask', agentArgs: ['--approval-timeout', '8s'] });
    const { page } = await openUi(world, 'prompt');
    await expect.poll(() => page.getByRole('heading', { name: 'No requests waiting' }).count()).toBe(1);

    const first = tokenInBackground(world, 'openai');
    const prompt = page.getByRole('alertdialog');
    await prompt.waitFor();
    expect(await prompt.getByRole('heading').textContent()).toContain('openai');
    expect(await page.getByTestId('cmdline').textContent()).toContain('token openai');
    expect(await prompt.textContent()).toContain(`pid ${first.child.pid}`);
    expect(await prompt.textContent()).toContain(world.root);
    const fingerprint = (await new AgentControlClient(agentPaths(world.laptopHome).socket).call('status', {})).servers[0]?.fingerprint;
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(await prompt.textContent()).toContain(fingerprint!);
    await expect.poll(async () => (await page.getByRole('timer').textContent()) ?? '').toMatch(/Denied automatically in \d+ s/);

    await page.getByRole('button', { name: 'Allow once' }).click();
    const allowed = await first.done;
    expect(allowed.code, allowed.stderr).toBe(ExitCode.ok);
    expect(allowed.stdout).toMatch(/^tth_/);
    expect((await world.proxy('/openai/v1/chat/completions', allowed.stdout)).status).toBe(200);

    const second = tokenInBackground(world, 'openai');
    await prompt.waitFor();
    await page.getByRole('button', { name: 'Deny' }).click();
    expect((await second.done).code).toBe(ExitCode.denied);

    const third = tokenInBackground(world, 'anthropic');
    await prompt.waitFor();
    expect((await third.done).code).toBe(ExitCode.approvalTimeout);
    await page.getByRole('heading', { name: 'No requests waiting' }).waitFor();
  });

  it('at its real size (560x520), a 300-character command and a deep parent chain: nothing clipped or broken mid-word; Deny is the default', async () => {
    world = await World.start({ approve: 'ask', agentArgs: ['--approval-timeout', '20s', '--lease-ttl', '5m'] });
    const { page } = await openUi(world, 'prompt', 'light', { width: 560, height: 520 });
    // The requesting command: node with harmless flags until the line is 300 characters long...
    const flags = ['--no-deprecation', '--stack-size=984', '--max-old-space-size=2048', '--unhandled-rejections=strict', '--disable-proto=delete'];
    const words = ['development', 'approval-window', 'long-command-line', 'tether-token-helper', 'wrapping-check'];
    for (let i = 0; [process.execPath, ...flags, SERVER_BIN, 'token', 'openai'].join(' ').length < 300; i++) flags.push(`--conditions=${words[i % words.length]}`);
    const cmdline = [process.execPath, ...flags, SERVER_BIN, 'token', 'openai'];
    // ...started six shells deep (each waits for the next, so the chain is deep), under this test's own parents.
    const step = join(world.root, 'step.sh');
    writeFileSync(step, 'n=$1\nif [ "$n" -gt 0 ]; then sh "$0" $((n - 1)); exit $?; fi\neval "exec $REQUEST"\n');
    const request = cmdline.map((w) => `'${w}'`).join(' ');
    const child = spawn('sh', [step, '6'], { cwd: world.root, env: { ...process.env, TETHER_HOME: world.serverHome, REQUEST: request }, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = once(child, 'exit');

    const prompt = page.getByRole('alertdialog');
    await prompt.waitFor();
    expect(await page.getByTestId('cmdline').textContent()).toBe(cmdline.join(' '));
    expect(cmdline.join(' ').length).toBeGreaterThanOrEqual(300);
    expect(await page.title()).toBe(`Tether: openai requested on unix:${world.state.socket}`);
    expect(await page.getByTestId('lifetime').textContent()).toContain('one lease that lives 5 min');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Deny');

    const layout = await page.evaluate(() => {
      const root = document.documentElement;
      const problems: string[] = [];
      const name = (el: Element) => `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).replace(/ /g, '.') : ''} "${(el.textContent ?? '').slice(0, 30)}"`;
      if (root.scrollWidth > root.clientWidth || root.scrollHeight > root.clientHeight) problems.push(`the page scrolls: ${root.scrollWidth}x${root.scrollHeight}`);
      for (const el of Array.from(document.querySelectorAll('.prompt *'))) {
        const style = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        if (r.left < -0.5 || r.right > innerWidth + 0.5 || r.top < -0.5 || r.bottom > innerHeight + 0.5) problems.push(`${name(el)} outside the window: ${JSON.stringify(r)}`);
        if (style.display !== 'inline' && el.scrollWidth > el.clientWidth + 1) problems.push(`${name(el)} overflows sideways: ${el.scrollWidth} > ${el.clientWidth}`);
        if (style.display !== 'inline' && el.scrollHeight > el.clientHeight + 1) problems.push(`${name(el)} hides content below: ${el.scrollHeight} > ${el.clientHeight}`);
        if (style.textOverflow === 'ellipsis' || (style.overflow === 'hidden' && el.scrollHeight > el.clientHeight)) problems.push(`${name(el)} clips its text`);
      }
      // Every piece of a command line between two break points sits on one line: nothing broken mid-word.
      for (const part of Array.from(document.querySelectorAll('.prompt .piece'))) {
        const range = document.createRange();
        range.selectNodeContents(part);
        const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) problems.push(`"${part.textContent}" is broken across lines`);
      }
      const cmd = getComputedStyle(document.querySelector('[data-testid=cmdline]')!);
      const deny = document.querySelector('button.default')!;
      const allow = document.querySelector('.actions button')!;
      return {
        problems,
        wrap: { wordBreak: cmd.wordBreak, overflowWrap: cmd.overflowWrap },
        lines: Math.round(document.querySelector('[data-testid=cmdline]')!.getBoundingClientRect().height / parseFloat(cmd.lineHeight)),
        parents: document.querySelectorAll('.parents li').length,
        deny: { background: getComputedStyle(deny).backgroundColor, weight: getComputedStyle(deny).fontWeight },
        allow: { background: getComputedStyle(allow).backgroundColor, weight: getComputedStyle(allow).fontWeight },
      };
    });
    expect(layout.problems).toEqual([]);
    expect(layout.wrap).toEqual({ wordBreak: 'normal', overflowWrap: 'anywhere' });
    expect(layout.lines).toBeGreaterThan(3); // it did wrap, and all of it is in view
    expect(layout.parents).toBe(4);
    expect(layout.deny.background).not.toBe(layout.allow.background); // the default looks it
    expect(Number(layout.deny.weight)).toBeGreaterThan(Number(layout.allow.weight));
    await shoot(page, 'approval');

    await page.keyboard.press('Enter');
    const [code] = (await done) as [number | null];
    expect(code).toBe(ExitCode.denied);
    const next = tokenInBackground(world, 'anthropic');
    await expect.poll(async () => ((await prompt.count()) ? await prompt.getByRole('heading').textContent() : ''), { timeout: 15_000 }).toContain('anthropic');
    await page.keyboard.press('Escape');
    expect((await next.done).code).toBe(ExitCode.denied);
  }, 60_000);

  it('queues several requests without losing any, and answers from the keyboard', async () => {
    world = await World.start({ approve: 'ask', agentArgs: ['--approval-timeout', '20s'] });
    const { page } = await openUi(world, 'prompt');
    const a = tokenInBackground(world, 'openai');
    const b = tokenInBackground(world, 'anthropic');
    await page.getByText('1 more waiting').waitFor();
    await page.keyboard.press('d');
    await page.getByRole('alertdialog').waitFor();
    await expect.poll(async () => (await page.getByRole('timer').textContent()) ?? '').not.toContain('more waiting');
    await page.keyboard.press('o');
    const results = await Promise.all([a.done, b.done]);
    // The older request is shown (and answered) first.
    expect(results.map((r) => r.code).sort()).toEqual([ExitCode.ok, ExitCode.denied].sort());
  });
});

describe('servers, credentials and activity pages', () => {
  it('Disconnect on the Servers page makes a live lease 401; Connect does not bring it back', async () => {
    world = await World.start({ approve: 'allow' });
    const lease = await world.token('openai');
    expect(lease.code, lease.stderr).toBe(ExitCode.ok);
    const token = lease.stdout.trim();
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);

    const { page, refused } = await openUi(world, 'servers');
    const card = page.locator('li.card[data-server]');
    await expect.poll(() => card.getAttribute('data-state')).toBe('connected');
    await page.getByText('1 live lease').waitFor();
    await shoot(page, 'servers');

    await page.getByRole('link', { name: 'Credentials' }).click();
    await page.getByRole('cell', { name: 'anthropic', exact: true }).first().waitFor();
    expect(await page.content()).not.toContain(world.keys.openai);
    await shoot(page, 'credentials');

    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('list', { name: 'live leases' }).getByText('openai').waitFor();
    await page.getByRole('cell', { name: /token openai/ }).first().waitFor();
    expect(await page.content()).not.toContain(token);
    await shoot(page, 'activity');

    await page.getByRole('link', { name: 'Servers' }).click();
    await page.getByRole('button', { name: /^Disconnect unix:/ }).click();
    await expect.poll(() => card.getAttribute('data-state')).toBe('disconnected');
    const after = await world.proxy('/openai/v1/chat/completions', token);
    expect(after.status).toBe(401);

    await page.getByRole('button', { name: /^Connect unix:/ }).click();
    await expect.poll(() => card.getAttribute('data-state')).toBe('connected');
    await world.waitForLaptops(1);
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    expect(refused).toEqual([]);
  });
});

describe('credentials, settings and per-lease revoke', () => {
  it('adds a credential through a password field: stored in the vault, listed, never in the DOM or any other file; allow-list and remove', async () => {
    world = await World.start({ approve: 'allow' });
    const secret = world.keys.openai; // the mock answers 401 to any other key: proof the stored key is the typed one
    const { page } = await openUi(world, 'credentials');
    const form = page.getByRole('form', { name: 'Add a credential' });
    await form.getByLabel('Provider').selectOption('openai');
    await form.getByLabel('Name').fill('work');
    await form.getByLabel('Endpoint').fill(world.mock.url);
    await form.getByLabel('API key').fill(secret);
    await form.getByRole('button', { name: 'Add credential' }).click();
    await page.getByRole('status').getByText(/Added work \((file|keychain) store\)/).waitFor();
    await page.locator('tr[data-credential="work"]').waitFor();

    const listed = await world.laptop(['creds', 'list', '--json']);
    expect(JSON.parse(listed.stdout).map((c: { name: string }) => c.name)).toContain('work');
    expect(await form.getByLabel('API key').inputValue()).toBe('');
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate((s) => document.documentElement.outerHTML.includes(s) || Array.from(document.querySelectorAll('input')).some((i) => i.value.includes(s)), secret)).toBe(false);

    // Lent at once, with the key that was typed.
    const lease = await world.token('work');
    expect(lease.code, lease.stderr).toBe(ExitCode.ok);
    expect((await world.proxy('/work/v1/chat/completions', lease.stdout.trim())).status).toBe(200);

    // Allow-list: limited to another server, this one is not offered it; "every server" again, it is.
    const limited = await page.evaluate(() => (window as unknown as { tether: TetherBridge }).tether.call('credentialServers', { name: 'work', servers: ['other-box'] }));
    expect(limited.ok).toBe(true);
    await page.locator('tr[data-credential="work"]').getByText('other-box').waitFor();
    expect((await world.token('work')).code).toBe(ExitCode.unknownCredential);
    expect((await world.token('openai')).code).toBe(ExitCode.ok);
    await page.getByRole('button', { name: 'Choose servers for work' }).click();
    await page.getByRole('checkbox', { name: 'other-box' }).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('tr[data-credential="work"]').getByText('every server').waitFor();
    await waitFor(async () => ((await world!.token('work')).code === ExitCode.ok ? true : undefined), 'work lent again', 5000, 100);

    await page.getByRole('button', { name: 'Remove work' }).click();
    await expect.poll(() => page.locator('tr[data-credential="work"]').count()).toBe(0);
    const after = await world.laptop(['creds', 'list', '--json']);
    expect(JSON.parse(after.stdout).map((c: { name: string }) => c.name)).not.toContain('work');

    // The secret crossed the bridge once: no file under the laptop home (the vault is encrypted),
    // no log, no audit line, nothing on the server holds it.
    await world.stop();
    expect(scanForSecrets([world.laptopHome, world.logs, world.serverHome], [secret])).toEqual([]);
  });

  it('Settings persist through the bridge and apply at once; Revoke ends one lease, not the others', async () => {
    world = await World.start({ approve: 'allow' });
    const a = await world.token('openai');
    const b = await world.token('anthropic');
    expect([a.code, b.code]).toEqual([ExitCode.ok, ExitCode.ok]);
    const { page } = await openUi(world, 'activity');
    const leases = page.getByRole('list', { name: 'live leases' });
    await leases.getByText('anthropic').waitFor();
    await page.getByRole('button', { name: /^Revoke openai lease on unix:/ }).click();
    await expect.poll(() => leases.getByRole('listitem').count()).toBe(1);
    expect((await world.proxy('/openai/v1/chat/completions', a.stdout.trim())).status).toBe(401);
    expect((await world.proxy('/anthropic/v1/messages', b.stdout.trim(), { headerName: 'x-api-key', body: { model: 'mock-1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(200);
    await page.getByLabel('Show').selectOption('revoke');
    await page.getByRole('cell', { name: 'revoke', exact: true }).first().waitFor();

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('radio', { name: 'Deny without asking' }).check();
    await page.getByRole('status').getByText('Saved.').waitFor();
    expect((await world.token('openai')).code).toBe(ExitCode.denied);
    await page.getByRole('checkbox', { name: /Start Tether when I log in/ }).check();
    await expect.poll(() => JSON.parse(readFileSync(join(world!.laptopHome, 'settings.json'), 'utf8')).startAtLogin).toBe(true);
    await page.reload();
    await expect.poll(() => page.getByRole('radio', { name: 'Deny without asking' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: /Start Tether when I log in/ }).isChecked()).toBe(true);
    await shoot(page, 'settings');
  });
});

describe.skipIf(!sshdAvailable)('servers from ~/.ssh/config, trust on first use', () => {
  let w: SshWorld | undefined;
  let stopFreshDaemon: (() => void) | undefined;
  afterEach(async () => {
    try {
      stopFreshDaemon?.();
    } catch {
      // never started
    }
    stopFreshDaemon = undefined;
    await w?.world.daemon?.stop();
    await w?.dispose();
    w = undefined;
  });

  it('lists the Host aliases; an unknown host key is shown with its fingerprint and trusted only from the prompt', async () => {
    w = await SshWorld.create();
    const sshd = await w.sshd('sshd-tofu');
    // fresh-box's daemon gets a home of its own; the headless agent needs one server to start with.
    const freshHome = join(w.world.root, 'server-fresh');
    w.writeConfig([{ alias: 'fresh-box', sshd, serverHome: false, extra: [`SetEnv TETHER_HOME=${freshHome}`] }]);
    const state = await w.world.startDaemon();
    const agent = w.startAgent(['--connect', `unix:${state.socket}`, '--pair', await w.world.pairCode()]);
    await w.world.waitForLaptops(1);
    stopFreshDaemon = () => {
      const pid = (JSON.parse(readFileSync(join(freshHome, 'run/daemon.json'), 'utf8')) as { pid: number }).pid;
      process.kill(pid, 'SIGTERM');
    };
    // A UI that does not answer SSH's questions: ssh refuses the unknown key at once and the
    // Servers page offers to trust it (ssh's own question in the window: test/ssh-logins.e2e.test.ts).
    const { page } = await openUi(w.world, 'servers', 'light', undefined, false);
    const card = page.locator('li.card[data-server="fresh-box"]');
    await card.getByText('~/.ssh/config').waitFor();

    await card.getByRole('button', { name: 'Connect fresh-box' }).click();
    const prompt = card.getByRole('group', { name: /Unknown host key for 127\.0\.0\.1/ });
    await prompt.waitFor({ timeout: 15_000 });
    expect(await prompt.getByTestId('host-fingerprint').textContent()).toContain(sshd.fingerprint);
    // Nothing was written before the person said so.
    expect(() => readFileSync(join(w!.sshDir, 'known_hosts'), 'utf8')).toThrow();
    await prompt.getByRole('button', { name: 'Trust this key and connect fresh-box' }).click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 30_000 }).toBe('connected');
    expect(readFileSync(join(w.sshDir, 'known_hosts'), 'utf8')).toMatch(/^\|1\|.+ ssh-ed25519 /);
    expect(agent.exited).toBeFalsy();
  }, 60_000);
});

/** Interactive nodes in Chromium's own accessibility tree that have no accessible name. */
async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[] };
    const interactive = new Set(['button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'spinbutton', 'menuitem', 'tab', 'switch']);
    return nodes.filter((n) => !n.ignored && interactive.has(n.role?.value ?? '') && !n.name?.value?.trim()).map((n) => n.role!.value);
  } finally {
    await cdp.detach();
  }
}

/** Presses Tab until the focused element's accessible name matches, at most `max` times. */
async function tabTo(page: Page, name: RegExp, max = 25): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return '';
      const labelled = el.getAttribute('aria-label') ?? (el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null) ?? el.closest('label')?.textContent ?? el.textContent ?? '';
      return labelled.trim().replace(/\s+/g, ' ');
    });
    seen.push(label);
    if (name.test(label)) return seen;
  }
  throw new Error(`Tab never reached ${name}: ${seen.join(' → ')}`);
}

describe('accessibility in Chromium', () => {
  it('every control is named on every page; keyboard-only use of the prompt and the pages; light and dark follow the OS', async () => {
    world = await World.start({ approve: 'ask', agentArgs: ['--approval-timeout', '20s'] });
    const { page } = await openUi(world, 'prompt');
    const request = tokenInBackground(world, 'openai');
    await page.getByRole('alertdialog').waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    // The default (Deny) has focus; Shift+Tab walks back to Allow once, Space presses it.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Deny');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Allow once');
    await page.keyboard.press('Space');
    const granted = await request.done;
    expect(granted.code, granted.stderr).toBe(ExitCode.ok);

    // The check itself sees a nameless control.
    await page.evaluate(() => document.body.appendChild(document.createElement('button')).setAttribute('id', 'nameless'));
    expect(await unnamedControls(page)).toEqual(['button']);
    await page.evaluate(() => document.getElementById('nameless')?.remove());

    for (const hash of ['servers', 'credentials', 'activity', 'settings']) {
      await page.goto(`${UI_ORIGIN}/index.html#${hash}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Servers' }).waitFor();
      expect({ hash, unnamed: await unnamedControls(page) }).toEqual({ hash, unnamed: [] });
    }

    // Keyboard only: Tab to the nav link, Enter opens the page, arrows pick a radio.
    await page.goto(`${UI_ORIGIN}/index.html#servers`);
    await page.getByRole('heading', { name: 'Servers' }).waitFor();
    await tabTo(page, /^Settings$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByRole('radio', { name: 'Ask me each time' }).waitFor();
    await tabTo(page, /Ask me each time/);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByRole('radio', { name: 'Allow without asking' }).isChecked()).toBe(true);
    await page.getByRole('status').getByText('Saved.').waitFor();
    await tabTo(page, /Start Tether when I log in/);
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByRole('checkbox', { name: /Start Tether when I log in/ }).isChecked()).toBe(true);

    // The add-credential form in reading order.
    await page.goto(`${UI_ORIGIN}/index.html#credentials`);
    await page.getByRole('heading', { name: 'Credentials' }).waitFor();
    const order = await tabTo(page, /^Add credential$/, 40);
    const form = order.slice(order.findIndex((l) => l === 'Provider'));
    expect(form.slice(0, 4)).toEqual(['Provider', 'Name', 'Endpoint', 'API key']);

    // Colours follow prefers-color-scheme.
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    expect([light, dark]).toEqual(['rgb(247, 247, 248)', 'rgb(23, 24, 28)']);
    await page.emulateMedia({ colorScheme: 'light' });
  });
});
