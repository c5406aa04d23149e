// The test's side of the Electron double: runs an app folder's built main.mjs under plain Node
// with `electron` resolved to the double, and drives it as a person would (tray menu, power
// events) over the process's IPC channel; its windows are reached with Playwright over CDP.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DriverOps } from './electron.js';

const HERE = import.meta.dirname;
type Answer<K extends keyof DriverOps> = Awaited<ReturnType<DriverOps[K]>>;

let built: Promise<string> | undefined;

/**
 * The double as one ES module (esbuild), under the checkout's .tmp/ so that its one package
 * import, playwright-core, resolves from node_modules.
 */
export function buildDouble(): Promise<string> {
  const file = join(HERE, '../../../.tmp', `electron-double-${process.pid}.mjs`);
  if (!built) process.once('exit', () => rmSync(file, { force: true }));
  built ??= build({
    entryPoints: [join(HERE, 'electron.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  }).then(() => file);
  return built;
}

export interface AppOptions {
  /** The app folder (its package.json and main.mjs), e.g. dist/electron. */
  appDir: string;
  /** Scratch folder: browser profiles, the single-instance socket's neighbours. */
  dir: string;
  env: Record<string, string>;
  logFile: string;
  /** Extra `node --import` modules (e.g. a recorder of opened files). */
  imports?: string[];
}

export class ElectronApp {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private browser: Browser | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output = '';

  private constructor(readonly child: ChildProcess) {
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    child.on('message', (msg: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.value);
      else p?.reject(new Error(msg.error));
    });
    void this.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`the app exited: ${this.output.slice(-500)}`));
      this.pending.clear();
    });
  }

  static async start(opts: AppOptions): Promise<ElectronApp> {
    const double = await buildDouble();
    const imports = [join(HERE, 'register.mjs'), ...(opts.imports ?? [])].flatMap((m) => ['--import', pathToFileURL(m).href]);
    const child = spawn(process.execPath, [...imports, join(opts.appDir, 'main.mjs')], {
      cwd: opts.dir,
      env: { ...process.env, ...opts.env, ELECTRON_DOUBLE_MODULE: pathToFileURL(double).href, ELECTRON_DOUBLE_DIR: opts.dir },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const app = new ElectronApp(child);
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    for (const s of [child.stdout!, child.stderr!]) {
      s.setEncoding('utf8').on('data', (d: string) => {
        app.output += d;
        log.write(d);
      });
    }
    child.on('exit', () => log.end());
    return app;
  }

  get pid(): number {
    return this.child.pid!;
  }

  ask<K extends keyof DriverOps>(op: K, ...args: Parameters<DriverOps[K]>): Promise<Answer<K>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
  }

  /** The tray menu as labels, submenus indented: what a person sees when they open it. */
  async menuLabels(): Promise<string[]> {
    const flat = (items: Answer<'menu'>, depth = 0): string[] => items.flatMap((i) => [i.type === 'separator' ? '---' : `${'  '.repeat(depth)}${i.label}`, ...flat(i.submenu ?? [], depth + 1)]);
    return flat(await this.ask('menu'));
  }

  /** The app's window whose URL ends with `#hash`, once it has one (its page, over CDP). */
  async page(hash: string, timeoutMs = 10_000): Promise<Page> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.browser) {
        const windows = await this.ask('windows');
        if (windows.length) this.browser = await chromium.connectOverCDP(await this.ask('cdp'));
      }
      const page = this.browser?.contexts().flatMap((c) => c.pages()).find((p) => p.url().endsWith(`#${hash}`));
      if (page) return page;
      if (Date.now() > deadline) throw new Error(`no window at #${hash} within ${timeoutMs} ms (windows: ${JSON.stringify(await this.ask('windows'))})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the process is stopped (SIGSTOP), as after `power(event, true)`. */
  async stopped(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'T') {
      if (Date.now() > deadline) throw new Error('the app did not stop');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => {});
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
