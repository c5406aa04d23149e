/**
 * The slice of Electron the main process uses. main.ts hands startTrayApp the real module (or,
 * in tests, test/support/electron-double, which is type-checked against electron.d.ts, as is
 * this slice). Kept narrow so the logic modules need no Electron to run or test.
 */
export interface MenuItemTemplate {
  label?: string;
  type?: 'normal' | 'separator' | 'submenu';
  enabled?: boolean;
  submenu?: MenuItemTemplate[];
  click?: () => void;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void }, url: string) => void): void;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  loadFile(file: string, options?: { hash?: string }): Promise<void>;
  showInactive(): void;
  show(): void;
  focus(): void;
  isDestroyed(): boolean;
  on(event: 'closed', listener: () => void): void;
}

export interface BrowserWindowOptions {
  width: number;
  height: number;
  show: boolean;
  title: string;
  alwaysOnTop?: boolean;
  resizable?: boolean;
  skipTaskbar?: boolean;
  autoHideMenuBar?: boolean;
  webPreferences: object;
}

export interface TrayLike {
  setContextMenu(menu: unknown): void;
  setImage(image: string): void;
  setToolTip(text: string): void;
}

export interface IpcMainInvokeEventLike {
  senderFrame?: { url: string } | null;
}

export interface ElectronMain {
  app: {
    requestSingleInstanceLock(): boolean;
    whenReady(): Promise<void>;
    quit(): void;
    exit(code?: number): void;
    on(event: string, listener: (...args: never[]) => void): unknown;
    setLoginItemSettings(settings: { openAtLogin: boolean }): void;
    getAppPath(): string;
    dock?: { hide(): void };
  };
  BrowserWindow: new (options: BrowserWindowOptions) => BrowserWindowLike;
  Tray: new (image: string) => TrayLike;
  Menu: { buildFromTemplate(template: MenuItemTemplate[]): unknown };
  ipcMain: { handle(channel: string, listener: (event: IpcMainInvokeEventLike, payload: unknown) => Promise<unknown>): void };
  powerMonitor: { on(event: string, listener: () => void): unknown };
  dialog: { showMessageBox(options: { type?: 'info' | 'error'; message: string; detail?: string }): Promise<unknown> };
}
