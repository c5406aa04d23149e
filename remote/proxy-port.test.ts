import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultProxyPort } from './proxy-port.js';

describe('defaultProxyPort', () => {
  it('is stable per uid and TETHER_HOME, within 20000–29999', () => {
    const a = defaultProxyPort(1000, undefined);
    expect(defaultProxyPort(1000, undefined)).toBe(a);
    expect(defaultProxyPort(1000, '/tmp/x/../x')).toBe(defaultProxyPort(1000, '/tmp/x'));
    const ports = new Set([a, defaultProxyPort(1001, undefined), defaultProxyPort(1000, '/tmp/x'), defaultProxyPort(1000, '/tmp/y')]);
    expect(ports.size).toBe(4);
    for (const p of ports) expect(p >= 20000 && p <= 29999).toBe(true);
  });

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
