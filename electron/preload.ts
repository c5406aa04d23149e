// Names only (bridge-channels.ts): bridge.ts's schemas would bring all of zod into the preload.
import { BRIDGE_CHANNELS, BRIDGE_EVENT_CHANNEL, BRIDGE_PREFIX } from '../protocol/bridge-channels.js';
import type { TetherBridge } from '../protocol/bridge.js';
import type { ControlEvent } from '../protocol/control.js';

// Sandboxed preload: only `require('electron')` with contextBridge and ipcRenderer is available.
interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string, payload: unknown): Promise<unknown>;
    on(channel: string, listener: (event: unknown, data: unknown) => void): void;
    removeListener(channel: string, listener: (event: unknown, data: unknown) => void): void;
  };
}
declare const require: (id: string) => unknown;
const { contextBridge, ipcRenderer } = require('electron') as PreloadElectron;

const allowed = new Set<string>(BRIDGE_CHANNELS);

const api: TetherBridge = {
  call: (channel, request) => {
    // Main checks again; this keeps a renderer bug from even reaching IPC.
    if (!allowed.has(channel)) return Promise.resolve({ ok: false as const, error: { code: 'unknown-channel' as const, message: `no such bridge call: ${String(channel)}` } });
    return ipcRenderer.invoke(BRIDGE_PREFIX + channel, request) as never;
  },
  onEvent: (listener) => {
    const wrapped = (_event: unknown, data: unknown) => listener(data as ControlEvent);
    ipcRenderer.on(BRIDGE_EVENT_CHANNEL, wrapped);
    return () => ipcRenderer.removeListener(BRIDGE_EVENT_CHANNEL, wrapped);
  },
};

contextBridge.exposeInMainWorld('tether', api);
