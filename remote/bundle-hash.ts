import { createHash } from 'node:crypto';
import fs from 'node:fs';

/**
 * sha256 (hex) of the script this process runs from: the server bundle's identity, the same
 * hash the laptop computes before deciding to upload. Taken at start, because the file may be
 * replaced under a running daemon. Undefined when there is no readable script (e.g. a REPL).
 */
export function ownBundleHash(script: string | undefined = process.argv[1]): string | undefined {
  if (!script) return undefined;
  try {
    return createHash('sha256').update(fs.readFileSync(script)).digest('hex');
  } catch {
    return undefined;
  }
}
