import { describe, expect, it } from 'vitest';
import { ELECTRON_POWER_EVENTS, wirePowerEvents } from './power-events.js';
import { CSP, guardContents, isOwnPage, secureWebPreferences } from './window-policy.js';

const DIR = 'file:///opt/Tether/resources/renderer';

describe('window security', () => {
  it('every window is isolated, sandboxed and without Node', () => {
    expect(secureWebPreferences('/p.cjs')).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, webSecurity: true });
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).toContain("connect-src 'none'");
    expect(CSP).not.toContain('unsafe');
  });

  it('only pages of the built renderer count as our own', () => {
    expect(isOwnPage(`${DIR}/index.html#prompt`, DIR)).toBe(true);
    expect(isOwnPage('file:///opt/Tether/resources/renderer-evil/index.html', DIR)).toBe(false);
    expect(isOwnPage('https://example.com/', DIR)).toBe(false);
    expect(isOwnPage('not a url', DIR)).toBe(false);
  });

  it('new windows are denied and navigation off our pages is stopped', () => {
    const listeners: Record<string, (e: { preventDefault(): void }, url: string) => void> = {};
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
    guardContents({ setWindowOpenHandler: (h) => (openHandler = h), on: (ev, l) => (listeners[ev] = l) }, DIR);
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    let prevented = 0;
    const ev = { preventDefault: () => prevented++ };
    listeners['will-navigate']!(ev, 'https://example.com/phish');
    listeners['will-redirect']!(ev, 'file:///etc/passwd');
    listeners['will-navigate']!(ev, `${DIR}/index.html#activity`);
    expect(prevented).toBe(2);
  });
});

describe('power events', () => {
  it('maps sleep, lock and (on macOS) resign-active to revocation, resume and unlock to reconnection', async () => {
    const handlers: Record<string, () => void> = {};
    const seen: string[] = [];
    const wired = wirePowerEvents({ on: (name, l) => (handlers[name] = l) }, { handle: async (e) => void seen.push(e) }, 'linux', () => {});
    expect(wired.sort()).toEqual(['lock-screen', 'resume', 'suspend', 'unlock-screen']);
    for (const name of wired) handlers[name]!();
    await new Promise((r) => setImmediate(r));
    expect(seen.sort()).toEqual(['lock', 'resume', 'suspend', 'unlock']);
    expect(wirePowerEvents({ on: () => {} }, { handle: async () => {} }, 'darwin', () => {})).toContain('user-did-resign-active');
    expect(ELECTRON_POWER_EVENTS['user-did-resign-active']).toBe('resign-active');
  });
});
