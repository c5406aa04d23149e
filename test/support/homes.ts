import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** A short temp folder (Unix socket paths must stay under ~100 bytes). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join('/tmp', `tt-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
