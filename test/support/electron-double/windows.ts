// BrowserWindow, webContents and ipcMain, where each window is a real headless Chromium page
// (playwright-core, Debian's /usr/bin/chromium) that loads the built renderer from its file, with
// the built preload run against the contextBridge/ipcRenderer double (page-bridge.ts) and its
// IPC answered by the handlers the app registered on this ipcMain.
import type { BrowserWindow, BrowserWindowConstructorOptions, HandlerDetails, IpcMain, IpcMainInvokeEvent, LoadFileOptions, WebContents, WindowOpenHandlerResponse } from 'electron';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { electronEvent } from './app.js';
import { pageBridge } from './page-bridge.js';

const INVOKE = '__electronDoubleInvoke';
const EMIT = '__electronDoubleEmit';

// Electron serves its own file:// pages so that module scripts load (Vite's output has
// type="module" crossorigin); plain Chromium needs --allow-file-access-from-files for that.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-file-access-from-files', '--remote-debugging-port=0'];

/** The one browser of this app process, started with the first window, in a fresh profile. */
class Chromium {
  private context: Promise<BrowserContext> | undefined;
  profile: string | undefined;
  scheme: 'light' | 'dark' = 'light';

  get(): Promise<BrowserContext> {
    this.context ??= (async () => {
      this.profile = mkdtempSync(join(process.env.ELECTRON_DOUBLE_DIR ?? '/tmp', 'chromium-'));
      return chromium.launchPersistentContext(this.profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, colorScheme: this.scheme });
    })();
    return this.context;
  }

  /** The DevTools endpoint, so a test can drive the app's windows with its own Playwright. */
  async endpoint(): Promise<string> {
    await this.get();
    const port = readFileSync(join(this.profile!, 'DevToolsActivePort'), 'utf8').split('\n')[0];
    return `http://127.0.0.1:${port}`;
  }

  /** app.exit: the browser goes with the process (Playwright would leave it to its exit hook). */
  kill(): void {
    if (!this.profile) return;
    try {
      rmSync(this.profile, { recursive: true, force: true });
    } catch {
      // Chromium may still hold it for a moment
    }
  }
}
export const browser = new Chromium();

/** Every file:// URL a window requested and whether it loaded: what the renderer opens at run time. */
export const rendererRequests: { url: string; ok: boolean }[] = [];

export class IpcMainDouble implements Pick<IpcMain, 'handle' | 'removeHandler'> {
  private readonly handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();

  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void {
    // Electron refuses a second handler for one channel.
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** ipcRenderer.invoke from a page: the handler sees the frame that sent it, as in Electron. */
  async invoke(sender: WebContentsDouble, frameUrl: string, channel: string, args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    // The tray app reads senderFrame.url; the rest of Electron's event is not played.
    const event = { ...electronEvent(), sender, senderFrame: { url: frameUrl }, processId: 0, frameId: 0 } as unknown as IpcMainInvokeEvent;
    return structuredClone(await handler(event, ...args.map((a) => structuredClone(a))));
  }
}
export const ipcMain = new IpcMainDouble();

let nextId = 1;

export class WebContentsDouble implements Pick<WebContents, 'id' | 'send' | 'setWindowOpenHandler' | 'on' | 'getURL' | 'isDestroyed'> {
  readonly id = nextId;
  readonly events = new EventEmitter();
  page: Page | undefined;
  destroyed = false;
  private openHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | undefined;

  on(event: string, listener: (...args: never[]) => void): WebContents {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this as unknown as WebContents;
  }

  send(channel: string, ...args: unknown[]): void {
    // Like Electron, a message sent before the page has its preload is lost.
    this.page?.evaluate(([emit, c, a]) => (window as unknown as Record<string, (c: string, a: unknown[]) => void>)[emit]?.(c, a), [EMIT, channel, args.map((x) => structuredClone(x))] as const).catch(() => {});
  }

  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.openHandler = handler;
  }

  getURL(): string {
    return this.page?.url() ?? '';
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /** window.open in the page: the handler decides, as in Electron; a denied popup is closed. */
  popup(popup: Page): void {
    const answer = this.openHandler?.({ url: popup.url(), frameName: '', features: '', disposition: 'new-window', referrer: { url: this.getURL(), policy: 'default' }, postBody: undefined } as unknown as HandlerDetails);
    if (!answer || answer.action === 'deny') void popup.close().catch(() => {});
  }

  /** A navigation the page starts itself: will-navigate first; a listener may cancel it. */
  willNavigate(url: string): boolean {
    const event = electronEvent();
    this.events.emit('will-navigate', event, url, false, true, 0, 0);
    return !event.defaultPrevented;
  }
}

export interface WindowReport {
  id: number;
  title: string;
  url: string;
  visible: boolean;
  /** Whether the last show() took focus (show) or not (showInactive). */
  focused: boolean;
  alwaysOnTop: boolean;
  webPreferences: Record<string, unknown>;
}

export class BrowserWindowDouble implements Pick<BrowserWindow, 'id' | 'on' | 'loadFile' | 'show' | 'showInactive' | 'focus' | 'isDestroyed' | 'isVisible' | 'isFocused' | 'close' | 'destroy' | 'getTitle'> {
  static readonly all = new Map<number, BrowserWindowDouble>();
  readonly id = nextId++;
  readonly events = new EventEmitter();
  readonly webContents = new WebContentsDouble();
  private visible = false;
  private focused = false;
  private destroyed = false;
  private readonly page: Promise<Page>;
  /** The URL loadFile is loading: that navigation is the app's own, not the page's. */
  private loading: string | undefined;

  constructor(readonly options: BrowserWindowConstructorOptions = {}) {
    BrowserWindowDouble.all.set(this.id, this);
    this.page = this.open();
    this.page.catch(() => {});
  }

  private async open(): Promise<Page> {
    const context = await browser.get();
    const page = await context.newPage();
    this.webContents.page = page;
    await page.setViewportSize({ width: this.options.width ?? 800, height: this.options.height ?? 600 });
    const preload = this.options.webPreferences?.preload;
    if (preload) {
      await page.exposeBinding(INVOKE, (source, channel: string, args: unknown[]) => ipcMain.invoke(this.webContents, source.frame.url(), channel, args));
      await page.addInitScript({ content: `(${pageBridge.toString()})(${JSON.stringify(INVOKE)}, ${JSON.stringify(EMIT)}, function (require, module, exports) {\n${readFileSync(preload, 'utf8')}\n});` });
    }
    await page.route('**/*', (route) => {
      const request = route.request();
      if (request.isNavigationRequest() && request.frame() === page.mainFrame() && request.url() !== this.loading && !this.webContents.willNavigate(request.url())) return route.abort();
      return route.continue();
    });
    page.on('requestfinished', (r) => r.url().startsWith('file:') && rendererRequests.push({ url: r.url(), ok: true }));
    page.on('requestfailed', (r) => r.url().startsWith('file:') && rendererRequests.push({ url: r.url(), ok: false }));
    page.on('popup', (p) => this.webContents.popup(p));
    page.on('close', () => this.closed());
    return page;
  }

  on(event: string, listener: (...args: never[]) => void): BrowserWindow {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this as unknown as BrowserWindow;
  }

  async loadFile(filePath: string, options: LoadFileOptions = {}): Promise<void> {
    const page = await this.page;
    const url = new URL(pathToFileURL(filePath).href);
    if (options.hash) url.hash = options.hash;
    if (options.search) url.search = options.search;
    this.loading = url.href;
    await page.goto(url.href);
  }

  show(): void {
    this.visible = true;
    this.focused = true;
  }

  showInactive(): void {
    this.visible = true;
  }

  focus(): void {
    this.focused = true;
  }

  isVisible(): boolean {
    return this.visible;
  }

  isFocused(): boolean {
    return this.focused;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  getTitle(): string {
    return this.options.title ?? '';
  }

  close(): void {
    this.destroy();
  }

  destroy(): void {
    if (this.destroyed) return;
    void this.page.then((p) => p.close()).catch(() => this.closed());
  }

  private closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    BrowserWindowDouble.all.delete(this.id);
    this.events.emit('closed');
  }

  report(): WindowReport {
    const prefs = { ...(this.options.webPreferences ?? {}) } as Record<string, unknown>;
    return { id: this.id, title: this.getTitle(), url: this.webContents.getURL(), visible: this.visible, focused: this.focused, alwaysOnTop: !!this.options.alwaysOnTop, webPreferences: prefs };
  }
}
