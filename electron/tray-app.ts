import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_LEASE_TTL_MS } from '../protocol/index.js';
import { BRIDGE_CHANNELS, BRIDGE_EVENT_CHANNEL, BRIDGE_PREFIX } from '../protocol/bridge.js';
import type { AgentStatus, ControlEvent } from '../protocol/control.js';
import { createAgent } from '../agent/agent.js';
import { readAppSettings } from '../agent/app-settings.js';
import { ApprovalPolicy } from '../agent/approvals.js';
import { AgentControlClient } from '../agent/control/client.js';
import { controlBackend } from '../agent/control/bridge-backend.js';
import { ControlServer } from '../agent/control/server.js';
import { agentHome, agentPaths, ensureDirs } from '../agent/paths.js';
import { SleepGuard } from '../agent/power/sleep-guard.js';
import { defaultStoreKind, openStore } from '../agent/vault/index.js';
import { BridgeRouter } from './bridge-router.js';
import { installCli } from './cli-install.js';
import type { BrowserWindowLike, ElectronMain, MenuItemTemplate } from './electron-api.js';
import { wirePowerEvents } from './power-events.js';
import { opensPromptWindow } from './prompt-events.js';
import { readSettings, settingsFile, writeSettings } from './settings.js';
import { hasCountdown, trayIcon, trayIconFile, trayMenu, type TrayAction, type TrayItem } from './tray-menu.js';
import { guardContents, isOwnPage, secureWebPreferences } from './window-policy.js';

/** Paths of what the packaged app ships beside main: the built renderer, preload, icons, its CLI. */
export interface TrayAppFiles {
  rendererDir: string;
  preload: string;
  iconsDir: string;
  /** The app's own `tether` CLI (tether.mjs), which "Install command line tool" puts on the PATH. */
  cli: string;
}

/** Turns the tray model into Electron's menu template; `act` runs the item's action. */
export function toTemplate(items: TrayItem[], act: (a: TrayAction) => void): MenuItemTemplate[] {
  return items.map((item) => {
    if (item.type === 'separator') return { type: 'separator' };
    if (item.type === 'submenu') return { label: item.label, submenu: toTemplate(item.items, act) };
    const action = item.action;
    return { label: item.label, enabled: item.enabled, ...(action ? { click: () => act(action) } : {}) };
  });
}

/**
 * The tray app: hosts the agent in-process (same object and control socket as `tether agent`),
 * the tray menu, the windows and the power hooks. Glue only; the logic lives in tested modules.
 */
export async function startTrayApp(e: ElectronMain, files: TrayAppFiles, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!e.app.requestSingleInstanceLock()) {
    e.app.quit();
    return;
  }
  await e.app.whenReady();
  const home = agentHome({ env });
  const paths = agentPaths(home);
  ensureDirs(paths);
  const sFile = settingsFile(home);
  let settings = readSettings(sFile);
  // The Settings page saves through the agent (settings.json); the tray applies what is the OS's.
  let prefs = readAppSettings(home);
  e.app.setLoginItemSettings({ openAtLogin: prefs.startAtLogin });
  e.app.dock?.hide();

  const agent = createAgent({
    home,
    policy: ApprovalPolicy.fixed(prefs.approvalDefault),
    approvalTimeoutMs: prefs.approvalTimeoutS * 1000,
    leaseTtlMs: DEFAULT_LEASE_TTL_MS,
    openStore: (kind) => openStore(kind, { home, env }),
    identityStore: await defaultStoreKind({ home, env }),
    env,
  });
  await agent.loadIdentity();
  // The tray can always ask: SSH's questions (passphrase, password, code, host key) go to its prompt window.
  agent.sshPrompts.attach();
  agent.on('settings', (next) => {
    if (next.startAtLogin !== prefs.startAtLogin) e.app.setLoginItemSettings({ openAtLogin: next.startAtLogin });
    prefs = next;
  });
  const control = new ControlServer(agent, paths.socket);
  await control.listen();
  const client = new AgentControlClient(paths.socket);

  const rendererUrl = pathToFileURL(files.rendererDir).href;
  const router = new BridgeRouter(controlBackend(client), (url) => isOwnPage(url, rendererUrl));
  for (const channel of BRIDGE_CHANNELS) {
    const ipc = BRIDGE_PREFIX + channel;
    e.ipcMain.handle(ipc, (event, payload) => router.handle(ipc, payload, event.senderFrame?.url ?? ''));
  }

  const windows = new Map<'main' | 'prompt', BrowserWindowLike>();
  const openWindow = (kind: 'main' | 'prompt'): BrowserWindowLike => {
    const existing = windows.get(kind);
    if (existing && !existing.isDestroyed()) return existing;
    const win = new e.BrowserWindow({
      width: kind === 'prompt' ? 560 : 900,
      height: kind === 'prompt' ? 520 : 640,
      show: false,
      title: kind === 'prompt' ? 'Tether: approve a request' : 'Tether',
      autoHideMenuBar: true,
      ...(kind === 'prompt' ? { alwaysOnTop: true, resizable: false, skipTaskbar: true } : {}),
      webPreferences: secureWebPreferences(files.preload),
    });
    guardContents(win.webContents, rendererUrl);
    win.on('closed', () => windows.delete(kind));
    windows.set(kind, win);
    void win.loadFile(join(files.rendererDir, 'index.html'), { hash: kind === 'prompt' ? 'prompt' : 'servers' });
    return win;
  };

  const offerCli = process.platform !== 'win32' && !env.APPIMAGE;
  const installCliTool = async () => {
    try {
      const done = installCli({ target: { electron: process.execPath, cli: files.cli }, platform: process.platform, homeDir: env.HOME || homedir(), env });
      const detail = done.onPath ? 'Open a new terminal: `tether status` shows this app\'s agent.' : `${dirname(done.path)} is not on your PATH: add it (e.g. in ~/.profile), then open a new terminal.`;
      await e.dialog.showMessageBox({ type: 'info', message: `Installed the tether command: ${done.path}`, detail });
    } catch (err) {
      await e.dialog.showMessageBox({ type: 'error', message: 'Could not install the tether command', detail: err instanceof Error ? err.message : String(err) });
    }
  };

  const tray = new e.Tray(join(files.iconsDir, trayIconFile('idle', process.platform)));
  tray.setToolTip('Tether');
  let status: AgentStatus | undefined;
  let countdown: NodeJS.Timeout | undefined;
  const act = (a: TrayAction) => {
    const run = async () => {
      if (a.kind === 'connect') await agent.connect(a.server);
      else if (a.kind === 'disconnect') await agent.disconnect(a.server);
      else if (a.kind === 'disconnect-all') await agent.disconnect();
      else if (a.kind === 'open') openWindow(a.page === 'prompt' ? 'prompt' : 'main').show();
      else if (a.kind === 'install-cli') await installCliTool();
      else e.app.quit();
    };
    run().catch(() => {}); // failures show as the server's state in the menu
  };
  // Hosts of ~/.ssh/config and servers added by hand are listed (not connected) without a click first.
  const listed = (): string[] => {
    try {
      return agent.serverBook().list().map((s) => s.name);
    } catch {
      return []; // a broken servers.json: the Servers page says why
    }
  };
  const refresh = async () => {
    status = await agent.status(paths.socket);
    // Remembered (and reconnected at start): the servers this tray has connected to.
    const used = [...new Set([...settings.knownServers, ...status.servers.map((s) => s.server)])];
    if (used.length !== settings.knownServers.length) {
      settings = { ...settings, knownServers: used };
      writeSettings(sFile, settings);
    }
    const known = [...new Set([...used, ...listed()])];
    tray.setContextMenu(e.Menu.buildFromTemplate(toTemplate(trayMenu({ status, known, now: Date.now(), installCli: offerCli }), act)));
    tray.setImage(join(files.iconsDir, trayIconFile(trayIcon(status), process.platform)));
    // "reconnecting in N s" counts down with no event to redraw it.
    clearTimeout(countdown);
    if (hasCountdown(status)) countdown = setTimeout(() => void refresh().catch(() => {}), 1000);
  };
  const push = (event: ControlEvent) => {
    // Shown without taking focus: a keystroke meant for the editor must not answer it.
    if (opensPromptWindow(event)) openWindow('prompt').showInactive();
    for (const win of windows.values()) if (!win.isDestroyed()) win.webContents.send(BRIDGE_EVENT_CHANNEL, event);
    void refresh().catch(() => {});
  };
  agent.on('link', (data) => push({ event: 'link', data }));
  agent.on('activity', (data) => push({ event: 'activity', data }));
  agent.on('approval', (data) => push({ event: 'approval', data }));
  agent.on('sshPrompt', (data) => push({ event: 'ssh-prompt', data }));

  const guard = new SleepGuard(agent, () => prefs.reconnectOnWake);
  wirePowerEvents(e.powerMonitor, guard, process.platform, () => {});
  for (const server of settings.knownServers) agent.connect(server).catch(() => {});
  await refresh();

  let quitting = false;
  e.app.on('second-instance', () => openWindow('main').show());
  e.app.on('window-all-closed', () => {}); // a tray app lives on without windows
  e.app.on('before-quit', (event: { preventDefault(): void }) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    // `bye` to every server before the process goes: their leases end now, not at the dead-man timer.
    void agent
      .close()
      .then(() => control.close())
      .finally(() => e.app.exit(0));
  });
}
