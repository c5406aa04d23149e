// What runs in each window's page before its own scripts: Electron's sandboxed preload
// environment (`require('electron')` gives contextBridge and ipcRenderer, nothing else), then the
// app's built preload.cjs in it. The function is sent to the page as source text, so it uses
// nothing from outside its own body.
import type { ContextBridge, IpcRenderer, IpcRendererEvent } from 'electron';

export type PreloadModule = (require: (id: string) => unknown, module: { exports: object }, exports: object) => void;

export function pageBridge(invokeName: string, emitName: string, preload: PreloadModule): void {
  // Electron runs the preload in the main frame only (nodeIntegrationInSubFrames: false).
  if (window !== window.top) return;
  const w = window as unknown as Record<string, unknown>;
  // The double's IPC binding, kept here and taken off the page's global scope.
  const invoke = w[invokeName] as (channel: string, args: unknown[]) => Promise<unknown>;
  delete w[invokeName];

  // contextBridge copies values between the preload's world and the page's: plain data is cloned,
  // functions and promises are proxied (so neither side holds the other's objects).
  const cross = (value: unknown): unknown => {
    if (typeof value === 'function') {
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => cross(fn(...args.map(cross)));
    }
    if (value instanceof Promise) return value.then(cross);
    if (value === null || typeof value !== 'object') return value;
    return structuredClone(value);
  };
  const exposed = (api: unknown): unknown => {
    if (api === null || typeof api !== 'object') return cross(api);
    return Object.freeze(Object.fromEntries(Object.entries(api).map(([k, v]) => [k, exposed(v)])));
  };

  type Listener = (event: IpcRendererEvent, ...args: unknown[]) => void;
  const listeners = new Map<string, Set<Listener>>();

  class IpcRendererDouble implements Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'> {
    invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      return invoke(channel, args);
    }

    on(channel: string, listener: Listener): IpcRenderer {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
      return this as unknown as IpcRenderer;
    }

    removeListener(channel: string, listener: Listener): IpcRenderer {
      listeners.get(channel)?.delete(listener);
      return this as unknown as IpcRenderer;
    }
  }
  const ipcRenderer = new IpcRendererDouble();
  // webContents.send arrives here (through page.evaluate); not enumerable, not writable.
  Object.defineProperty(w, emitName, {
    value: (channel: string, args: unknown[]) => {
      const event = { sender: ipcRenderer, senderId: 0, ports: [] } as unknown as IpcRendererEvent;
      for (const listener of listeners.get(channel) ?? []) listener(event, ...args.map((a) => structuredClone(a)));
    },
  });

  const contextBridge: Pick<ContextBridge, 'exposeInMainWorld'> = {
    exposeInMainWorld(apiKey: string, api: unknown): void {
      Object.defineProperty(window, apiKey, { value: exposed(api), enumerable: true, writable: false, configurable: false });
    },
  };
  const electron = { contextBridge, ipcRenderer };
  const sandboxedRequire = (id: string): unknown => {
    if (id === 'electron') return electron;
    throw new Error(`Cannot find module '${id}' (a sandboxed preload can require only 'electron')`);
  };
  const module = { exports: {} };
  preload(sandboxedRequire, module, module.exports);
}
