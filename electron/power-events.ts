import type { PowerEvent, SleepGuard } from '../agent/power/sleep-guard.js';

/** Electron's powerMonitor event → what it means for leases. */
export const ELECTRON_POWER_EVENTS: Readonly<Record<string, PowerEvent>> = {
  suspend: 'suspend',
  'lock-screen': 'lock',
  // macOS fast user switching: someone else is about to use this machine.
  'user-did-resign-active': 'resign-active',
  resume: 'resume',
  'unlock-screen': 'unlock',
};

export interface PowerMonitorLike {
  on(event: string, listener: () => void): unknown;
}

/** Routes power and session events to the guard; `user-did-resign-active` exists only on macOS. */
export function wirePowerEvents(monitor: PowerMonitorLike, guard: Pick<SleepGuard, 'handle'>, platform: NodeJS.Platform, onError: (err: unknown) => void): string[] {
  const wired: string[] = [];
  for (const [name, event] of Object.entries(ELECTRON_POWER_EVENTS)) {
    if (name === 'user-did-resign-active' && platform !== 'darwin') continue;
    monitor.on(name, () => void guard.handle(event).catch(onError));
    wired.push(name);
  }
  return wired;
}
