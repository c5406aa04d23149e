import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { AgentControlClient } from '../../agent/control/client.js';
import { controlBackend } from '../../agent/control/bridge-backend.js';
import { followEvents } from '../../agent/control/event-stream.js';
import { BridgeRouter } from '../../electron/bridge-router.js';
import { BRIDGE_PREFIX } from '../../protocol/bridge.js';
import { ROOT } from './tether-process.js';

/** Where the built renderer is served from inside the test browser (routed, no socket opened). */
export const UI_ORIGIN = 'http://tether-ui.invalid';
export const RENDERER_DIST = join(ROOT, 'dist/renderer');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Serves dist/renderer at UI_ORIGIN and refuses every other URL: the page may load nothing remote. */
export async function serveRenderer(context: BrowserContext): Promise<string[]> {
  const refused: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== UI_ORIGIN) {
      refused.push(url.href);
      return route.abort();
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '') || 'index.html';
    if (rel.startsWith('..')) return route.abort();
    try {
      const body = await readFile(join(RENDERER_DIST, rel));
      return route.fulfill({ status: 200, body, contentType: TYPES[extname(rel)] ?? 'application/octet-stream' });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
  return refused;
}

/**
 * The preload bridge, as a test double that behaves like the real one: `window.tether.call`
 * goes through the same BridgeRouter main uses (allow-list, sender check, schemas) to the
 * agent's control socket; agent events are pushed into the page as main pushes them. Like the
 * tray, it shows SSH's questions, so the agent asks them here while the page is attached
 * (`answersSshPrompts: false`: a UI that does not, so ssh refuses an unknown host key at once).
 */
export async function attachBridge(page: Page, agentSocket: string, opts: { answersSshPrompts?: boolean } = {}): Promise<{ stop: () => void }> {
  const router = new BridgeRouter(controlBackend(new AgentControlClient(agentSocket)), (url) => url.startsWith(`${UI_ORIGIN}/`));
  await page.exposeBinding('__tetherInvoke', (source, channel: unknown, payload: unknown) => router.handle(channel, payload, source.frame.url()));
  await page.addInitScript((prefix: string) => {
    const listeners = new Set<(e: unknown) => void>();
    const w = window as unknown as Record<string, unknown>;
    const invoke = w.__tetherInvoke as (c: string, p: unknown) => Promise<unknown>;
    w.__tetherEmit = (e: unknown) => listeners.forEach((fn) => fn(e));
    w.tether = Object.freeze({
      call: (channel: string, request: unknown) => invoke(prefix + channel, request),
      onEvent: (fn: (e: unknown) => void) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    });
  }, BRIDGE_PREFIX);
  const events = followEvents(
    agentSocket,
    (e) => {
      page.evaluate((ev) => (window as unknown as { __tetherEmit?: (e: unknown) => void }).__tetherEmit?.(ev), e).catch(() => {});
    },
    () => {},
    { answersSshPrompts: opts.answersSshPrompts ?? true },
  );
  await events.ready;
  return { stop: events.stop };
}
