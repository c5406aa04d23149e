// Electron's `app`, `powerMonitor`, `nativeTheme` and `dialog`, as the tray app uses them, played in
// a plain Node process. Each class implements the members it plays of Electron's own type
// (electron.d.ts, the pinned version), so a signature that drifts from Electron stops the typecheck.
import type { App, Dialog, Event as ElectronEvent, MessageBoxOptions, MessageBoxReturnValue, NativeTheme, PowerMonitor, Settings } from 'electron';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** An Electron event object: listeners may cancel what follows (before-quit, will-quit). */
export function electronEvent(): ElectronEvent {
  const e = { defaultPrevented: false, preventDefault: () => void (e.defaultPrevented = true) };
  return e;
}

/** The folder with the app's package.json: Electron's app path, here the folder of the main script. */
function findAppPath(): string {
  let dir = dirname(process.argv[1] ?? process.cwd());
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** What happens when the app exits: windows and the browser go first (set by the window module). */
export const shutdown: { beforeExit: () => void } = { beforeExit: () => {} };

/**
 * Electron's `on` returns the emitter itself, typed as Electron's class; the doubles keep an
 * EventEmitter inside and return themselves under that type, so `on` is checked against every
 * one of Electron's overloads (event names and listener types) without playing the whole class.
 */
export class AppDouble implements Pick<App, 'on' | 'requestSingleInstanceLock' | 'whenReady' | 'isReady' | 'quit' | 'exit' | 'setLoginItemSettings' | 'getAppPath' | 'getPath' | 'getName'> {
  readonly events = new EventEmitter();
  readonly loginItem: Settings[] = [];
  private ready = false;
  private readonly readyPromise: Promise<void>;
  private singleton: Server | undefined;
  private readonly appPath = findAppPath();
  private readonly manifest = JSON.parse(readFileSync(join(this.appPath, 'package.json'), 'utf8')) as { name: string; productName?: string };

  constructor() {
    // Electron is ready once the main script's first turn is over.
    this.readyPromise = new Promise((resolve) =>
      setImmediate(() => {
        this.ready = true;
        this.events.emit('ready', electronEvent(), {});
        resolve();
      }),
    );
  }

  on(event: string, listener: (...args: never[]) => void): App {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this as unknown as App;
  }

  getName(): string {
    return this.manifest.productName ?? this.manifest.name;
  }

  getAppPath(): string {
    return this.appPath;
  }

  getPath(name: Parameters<App['getPath']>[0]): string {
    const home = process.env.HOME || homedir();
    if (name === 'home') return home;
    if (name === 'exe') return process.execPath;
    if (name === 'appData') return process.env.XDG_CONFIG_HOME || join(home, '.config');
    if (name === 'userData' || name === 'sessionData') return join(this.getPath('appData'), this.getName());
    if (name === 'temp') return process.env.TMPDIR || '/tmp';
    throw new Error(`electron double: app.getPath('${name}') is not played`);
  }

  isReady(): boolean {
    return this.ready;
  }

  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * As Electron on Linux (ProcessSingleton): the first instance listens on a socket in userData;
   * a later one reaches it, hands over its argv (the first emits 'second-instance') and gets false.
   * Synchronous like Electron's, so the socket is probed with a child `sh` that connects.
   */
  requestSingleInstanceLock(additionalData?: Record<string, unknown>): boolean {
    const dir = this.getPath('userData');
    mkdirSync(dir, { recursive: true });
    const socket = join(dir, 'SingletonSocket');
    if (existsSync(socket) && handOver(socket, { argv: process.argv, cwd: process.cwd(), additionalData: additionalData ?? {} })) return false;
    try {
      unlinkSync(socket);
    } catch {
      // none left behind
    }
    this.singleton = createServer((conn) => {
      let text = '';
      conn.setEncoding('utf8').on('data', (d: string) => (text += d));
      conn.on('end', () => {
        const msg = JSON.parse(text) as { argv: string[]; cwd: string; additionalData: unknown };
        this.events.emit('second-instance', electronEvent(), msg.argv, msg.cwd, msg.additionalData);
      });
    }).listen(socket);
    this.singleton.unref();
    return true;
  }

  setLoginItemSettings(settings: Settings): void {
    this.loginItem.push(settings);
  }

  /** Electron: before-quit (cancellable), will-quit (cancellable), quit, then the process ends with 0. */
  quit(): void {
    const before = electronEvent();
    this.events.emit('before-quit', before);
    if (before.defaultPrevented) return;
    const will = electronEvent();
    this.events.emit('will-quit', will);
    if (will.defaultPrevented) return;
    this.events.emit('quit', electronEvent(), 0);
    this.exit(0);
  }

  /** Ends at once, without events (Electron's app.exit). */
  exit(exitCode = 0): void {
    shutdown.beforeExit();
    this.singleton?.close();
    process.exit(exitCode);
  }
}

/** Sends the message to a running first instance; false when nothing listens there (a stale socket). */
function handOver(socket: string, message: object): boolean {
  const script = `const s=require('net').connect(process.argv[1]);s.on('connect',()=>s.end(process.argv[2]));s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));`;
  return spawnSync(process.execPath, ['-e', script, socket, JSON.stringify(message)], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

export class PowerMonitorDouble implements Pick<PowerMonitor, 'on' | 'getSystemIdleState' | 'getSystemIdleTime' | 'isOnBatteryPower'> {
  readonly events = new EventEmitter();

  on(event: string, listener: (...args: never[]) => void): PowerMonitor {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this as unknown as PowerMonitor;
  }

  getSystemIdleState(): 'active' {
    return 'active';
  }

  getSystemIdleTime(): number {
    return 0;
  }

  isOnBatteryPower(): boolean {
    return false;
  }
}

/** nativeTheme: `themeSource` sets the pages' prefers-color-scheme, as in Electron. */
export class NativeThemeDouble implements Pick<NativeTheme, 'themeSource' | 'shouldUseDarkColors'> {
  private source: NativeTheme['themeSource'] = 'system';
  onChange: (scheme: 'light' | 'dark') => void = () => {};

  get themeSource(): NativeTheme['themeSource'] {
    return this.source;
  }

  set themeSource(value: NativeTheme['themeSource']) {
    this.source = value;
    this.onChange(this.shouldUseDarkColors ? 'dark' : 'light');
  }

  get shouldUseDarkColors(): boolean {
    return this.source === 'dark';
  }
}

export interface ShownMessage {
  type?: string;
  message: string;
  detail?: string;
}

/** dialog.showMessageBox: recorded for the test to read, answered with the first button. */
export class DialogDouble implements Pick<Dialog, 'showMessageBox'> {
  readonly shown: ShownMessage[] = [];

  showMessageBox(windowOrOptions: unknown, maybeOptions?: MessageBoxOptions): Promise<MessageBoxReturnValue> {
    const options = (maybeOptions ?? windowOrOptions) as MessageBoxOptions;
    this.shown.push({ ...(options.type ? { type: options.type } : {}), message: options.message, ...(options.detail ? { detail: options.detail } : {}) });
    return Promise.resolve({ response: 0, checkboxChecked: false });
  }
}
