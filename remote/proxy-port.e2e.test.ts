// The built server bundle's `tether serve` when its default proxy port is taken (the port itself: proxy-port.test.ts).
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultProxyPort } from './proxy-port.js';

describe('defaultProxyPort taken', () => {
  it('makes `tether serve` fail with one line naming the port and --proxy-port when it is taken', async () => {
    const home = mkdtempSync('/tmp/tt-port-');
    const port = defaultProxyPort(process.getuid?.() ?? 0, home);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const bundle = join(import.meta.dirname, '../dist/remote/tether.cjs');
      const r = spawnSync(process.execPath, [bundle, 'serve', '--socket', join(home, 's.sock')], { env: { ...process.env, TETHER_HOME: home }, encoding: 'utf8', timeout: 15_000 });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(String(port));
      expect(lines[0]).toContain('--proxy-port');
    } finally {
      blocker.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
