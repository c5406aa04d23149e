import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppSettings, type SettingsPatch } from '../protocol/bridge.js';

/** settings.json beside config.json: the app's preferences (non-secret), set from the tray's Settings page. */
export function settingsPath(home: string): string {
  return join(home, 'settings.json');
}

/** Missing or broken file → defaults (a broken file is replaced on the next save). */
export function readAppSettings(home: string): AppSettings {
  try {
    const parsed = AppSettings.safeParse(JSON.parse(readFileSync(settingsPath(home), 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // no file yet
  }
  return AppSettings.parse({});
}

export function updateAppSettings(home: string, patch: SettingsPatch): AppSettings {
  const next = AppSettings.parse({ ...readAppSettings(home), ...patch });
  const file = settingsPath(home);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return next;
}
