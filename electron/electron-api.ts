/**
 * The slice of Electron the main process uses, typed here because the electron package (and
 * its types) cannot be installed on every build machine. main.ts is written against this;
 * main-entry.ts hands it the real module.
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
}
