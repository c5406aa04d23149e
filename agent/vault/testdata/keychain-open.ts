/**
 * Run by keychain-store.e2e.test.ts with a D-Bus address that is missing or never answers:
 * prints how openStore('keychain') failed and how long it took, as one JSON line. It must then
 * exit by itself: a keytar call stuck in this process would keep it alive.
 */
import { VaultError, openStore } from '../index.js';

const started = Date.now();
let result: { ok: boolean; code?: string; message?: string; cause?: string; ms: number };
try {
  await openStore('keychain', { home: process.env.TETHER_HOME ?? '', env: process.env });
  result = { ok: true, ms: Date.now() - started };
} catch (err) {
  result = {
    ok: false,
    code: err instanceof VaultError ? err.code : 'not-a-vault-error',
    message: err instanceof Error ? err.message : String(err),
    cause: err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined,
    ms: Date.now() - started,
  };
}
process.stdout.write(JSON.stringify(result) + '\n');
