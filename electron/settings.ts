import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

/**
 * What the tray remembers by itself (non-secret), beside the agent's config.json. The person's
 * preferences live with the agent (settings.json, the Settings page), so the CLI sees them too.
 */
export const TraySettings = z.object({
  knownServers: z.array(z.string().max(512)).max(256).default([]),
});
export type TraySettings = z.infer<typeof TraySettings>;

export function settingsFile(home: string): string {
  return join(home, 'tray.json');
}

/** Missing or broken file → defaults (a broken file is replaced on the next save). */
export function readSettings(file: string): TraySettings {
  try {
    const parsed = TraySettings.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // no file yet
  }
  return TraySettings.parse({});
}

export function writeSettings(file: string, settings: TraySettings): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(TraySettings.parse(settings), null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}
