import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readProcFile } from './proc-file.js';

describe.runIf(process.platform === 'linux')('readProcFile', () => {
  it('reads /proc/net/tcp past its first page: every one of 300 loopback connections is in it', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const clients: Socket[] = [];
    try {
      for (let i = 0; i < 300; i++) clients.push(connect((server.address() as AddressInfo).port, '127.0.0.1'));
      await Promise.all(clients.map((c) => once(c, 'connect')));
      const text = await readProcFile('/proc/net/tcp');
      // A row's local address is `0100007F:PORT` in hex; each client's own port must appear.
      const ports = new Set([...text.matchAll(/^\s*\d+: 0100007F:([0-9A-F]{4}) /gm)].map((m) => parseInt(m[1]!, 16)));
      const missing = clients.filter((c) => !ports.has(c.localPort!));
      expect(text.length).toBeGreaterThan(300 * 100);
      expect(missing).toHaveLength(0);
    } finally {
      for (const c of clients) c.destroy();
      server.close();
    }
  });

  it('fails for a file that is not there', async () => {
    await expect(readProcFile('/proc/0/stat')).rejects.toThrow(/ENOENT/);
  });
});
