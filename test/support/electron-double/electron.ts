// The `electron` module as the tray app's built main.mjs imports it, played by doubles (a loader
// hook resolves the name here: hooks.mjs). Windows are real headless Chromium pages; the rest is
// Node. A test drives it over the process's IPC channel (driver.ts on the other end): read and
// click the tray menu, send power events, list windows and dialogs, reach the pages over CDP.
import type * as Electron from 'electron';
import type { ElectronMain } from '../../../electron/electron-api.js';
import { AppDouble, DialogDouble, NativeThemeDouble, PowerMonitorDouble, shutdown } from './app.js';
import { MenuDouble, TrayDouble } from './tray.js';
import { BrowserWindowDouble, browser, ipcMain, rendererRequests } from './windows.js';

export const app = new AppDouble();
export const powerMonitor = new PowerMonitorDouble();
export const nativeTheme = new NativeThemeDouble();
export const dialog = new DialogDouble();
export { BrowserWindowDouble as BrowserWindow, ipcMain, MenuDouble as Menu, TrayDouble as Tray };

nativeTheme.onChange = (scheme) => {
  browser.scheme = scheme;
  for (const w of BrowserWindowDouble.all.values()) void w.webContents.page?.emulateMedia({ colorScheme: scheme }).catch(() => {});
};
shutdown.beforeExit = () => browser.kill();

const electron = { app, BrowserWindow: BrowserWindowDouble, Tray: TrayDouble, Menu: MenuDouble, ipcMain, powerMonitor, nativeTheme, dialog };
export default electron;

// What ties the double to Electron: each member above takes what Electron's own takes (the
// classes `implements` the members they play; these check the constructors and statics), and
// the slice the tray app is written against (electron/electron-api.ts) is one that Electron's
// real module fits, so neither the app's slice nor the double can drift from electron.d.ts.
type Constructs<C extends abstract new (...args: never[]) => unknown> = new (...args: ConstructorParameters<C>) => unknown;
electron satisfies {
  BrowserWindow: Constructs<typeof Electron.BrowserWindow>;
  Tray: Constructs<typeof Electron.Tray>;
  Menu: { buildFromTemplate: typeof Electron.Menu.buildFromTemplate };
} & ElectronMain;
type RealElectronFitsTheSlice = typeof Electron extends ElectronMain ? true : never;
export const realElectronFitsTheSlice: RealElectronFitsTheSlice = true;

/** What a test may ask; each answer is plain data. */
export const driverOps = {
  menu: () => TrayDouble.all.at(-1)?.menu?.report() ?? [],
  tray: () => TrayDouble.all.map((t) => ({ image: t.image, imageLoaded: t.imageLoaded, toolTip: t.toolTip })),
  click: (path: string[]) => {
    const menu = TrayDouble.all.at(-1)?.menu;
    if (!menu) throw new Error('the tray has no menu yet');
    menu.click(path);
  },
  /**
   * A power or session event, as Electron's powerMonitor emits it. `freeze`: the process stops
   * (SIGSTOP) the moment the listeners return, as the OS suspends a laptop once its handler is
   * done; whatever the handler did not send by then has not left the machine.
   */
  power: (event: string, freeze = false) => {
    powerMonitor.events.emit(event);
    if (freeze) process.kill(process.pid, 'SIGSTOP');
  },
  windows: () => [...BrowserWindowDouble.all.values()].map((w) => w.report()),
  dialogs: () => dialog.shown,
  loginItem: () => app.loginItem,
  cdp: () => browser.endpoint(),
  rendererRequests: () => rendererRequests,
  theme: (source: 'system' | 'light' | 'dark') => void (nativeTheme.themeSource = source),
};
export type DriverOps = typeof driverOps;

interface DriverRequest {
  id: number;
  op: keyof DriverOps;
  args: unknown[];
}

if (process.send) {
  process.on('message', (msg: DriverRequest) => {
    const op = driverOps[msg.op] as ((...args: unknown[]) => unknown) | undefined;
    void (async () => {
      try {
        if (!op) throw new Error(`no driver op ${String(msg.op)}`);
        process.send!({ id: msg.id, ok: true, value: await op(...msg.args) });
      } catch (err) {
        process.send!({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  // The IPC channel must not keep an app alive that Electron would let exit.
  process.channel?.unref();
}
