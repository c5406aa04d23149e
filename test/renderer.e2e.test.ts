// The tray app's React UI in real headless Chromium, against a real agent and daemon: the
// approval prompt decides what `tether token` on the server gets, and Disconnect ends leases.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { ExitCode } from '../remote/cli/exit-codes.js';
import { agentPaths } from '../agent/paths.js';
import { ControlClient } from '../agent/control/client.js';
import { World } from './support/world.js';
import { ROOT, SERVER_BIN } from './support/tether-process.js';
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
async function openUi(w: World, hash: string, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; refused: string[] }> {
  context ??= await browser.newContext({ viewport: { width: 860, height: 620 }, colorScheme });
  const refused = await serveRenderer(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  const bridge = await attachBridge(page, agentPaths(w.laptopHome).socket);
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
    const fingerprint = (await new ControlClient(agentPaths(world.laptopHome).socket).status()).servers[0]?.fingerprint;
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(await prompt.textContent()).toContain(fingerprint!);
    await expect.poll(async () => (await page.getByRole('timer').textContent()) ?? '').toMatch(/Denied automatically in \d+ s/);
    await shoot(page, 'approval');

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
