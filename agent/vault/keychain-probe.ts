import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * Asks the keychain one cheap question (findCredentials) from a short-lived child process.
 * A keytar call stuck on D-Bus (no Secret Service, or an unlock prompt nobody can see)
 * pins a libuv thread, and Node cannot even process.exit() until it returns; a child we
 * can SIGKILL keeps that hang out of the agent and the CLI.
 */
export type KeychainProbe = { ok: true } | { ok: false; reason: string };

// Plain CommonJS so it runs under `node -e` (and Electron with ELECTRON_RUN_AS_NODE).
const PROBE_SOURCE = `
const [keytarPath, service] = process.argv.slice(1);
const say = (line) => process.stdout.write(line + '\\n', () => process.exit(0));
require(keytarPath).findCredentials(service).then(
  () => say('ok'),
  (err) => say('error ' + String((err && err.message) || err).split('\\n')[0]),
);`;

export function probeKeychain(service: string, timeoutMs: number): Promise<KeychainProbe> {
  let keytarPath: string;
  try {
    keytarPath = createRequire(import.meta.url).resolve('keytar');
  } catch {
    return Promise.resolve({ ok: false, reason: 'keytar is not installed' });
  }
  return new Promise((resolve) => {
    let settled = false;
    let stdout = '';
    let stderr = '';
    const child = spawn(process.execPath, ['-e', PROBE_SOURCE, keytarPath, service], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const finish = (result: KeychainProbe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, reason: `the keychain did not answer within ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (err) => finish({ ok: false, reason: err.message }));
    child.on('close', (code, signal) => {
      const line = stdout.trim();
      if (line === 'ok') return finish({ ok: true });
      const reason =
        line.replace(/^error /, '') || stderr.trim().split('\n')[0] || `the probe exited with ${code ?? signal}`;
      finish({ ok: false, reason });
    });
  });
}
