import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { identifyPeer, normalizeAddress, parseHexEndpoint, parseSocketRow } from './peer-process.js';
import { tempHome } from './testing/harness.js';

const children: ChildProcess[] = [];
const servers: net.Server[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
});

/** A child process in its own cwd that connects to `port` and waits. */
async function connectFromChild(port: number, host: string): Promise<{ child: ChildProcess; socket: net.Socket; cwd: string }> {
  const server = servers[servers.length - 1]!;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const cwd = tempHome();
  const child = spawn(process.execPath, ['-e', `require('net').connect(${port}, ${JSON.stringify(host)}); setInterval(() => {}, 1000)`, 'marker-arg'], {
    cwd,
    stdio: 'ignore',
  });
  children.push(child);
  return { child, socket: await accepted, cwd: fs.realpathSync(cwd) };
}

async function listen(host: string): Promise<number> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('identifyPeer', () => {
  it.each([
    ['IPv4', '127.0.0.1'],
    ['IPv4-mapped IPv6', '::'],
  ])('finds the pid, cmdline, cwd and parents of a real client over %s', async (_what, bindHost) => {
    const port = await listen(bindHost);
    const { child, socket, cwd } = await connectFromChild(port, '127.0.0.1');
    const ends = { clientAddress: socket.remoteAddress!, clientPort: socket.remotePort!, serverAddress: socket.localAddress!, serverPort: socket.localPort! };
    const peer = await identifyPeer(ends);
    expect(peer?.uid).toBe(process.getuid!());
    expect(peer?.process?.pid).toBe(child.pid);
    expect(peer?.process?.cmdline).toEqual([process.execPath, '-e', expect.any(String), 'marker-arg']);
    expect(peer?.process?.cwd).toBe(cwd);
    expect(peer?.process?.parents[0]?.pid).toBe(process.pid);

    // A lying hint is checked, not trusted: the answer is still the child.
    const hinted = await identifyPeer(ends, process.pid);
    expect(hinted?.process?.pid).toBe(child.pid);
    const honest = await identifyPeer(ends, child.pid);
    expect(honest?.process?.pid).toBe(child.pid);
    fs.rmSync(path.join(cwd), { recursive: true, force: true });
  });

  it('finds nothing for a connection that does not exist', async () => {
    expect(await identifyPeer({ clientAddress: '127.0.0.1', clientPort: 1, serverAddress: '127.0.0.1', serverPort: 2 })).toBeUndefined();
  });
});

describe('/proc/net/tcp parsing', () => {
  it('reads IPv4, IPv4-mapped and plain IPv6 endpoints', () => {
    expect(parseHexEndpoint('0100007F:1F90')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseHexEndpoint('0000000000000000FFFF00000100007F:0050')).toEqual({ address: '127.0.0.1', port: 80 });
    expect(parseHexEndpoint('00000000000000000000000001000000:0016')).toEqual({ address: '0:0:0:0:0:0:0:1', port: 22 });
    expect(parseHexEndpoint('zz:1')).toBeUndefined();
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('::1')).toBe('0:0:0:0:0:0:0:1');
  });

  it('parses a row with uid and inode', () => {
    const row = '   3: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 20 4 30 10 -1';
    expect(parseSocketRow(row)).toEqual({ local: '127.0.0.1', localPort: 0xa1b2, remote: '127.0.0.1', remotePort: 8080, uid: 1000, inode: 123456 });
    expect(parseSocketRow('  sl  local_address rem_address')).toBeUndefined();
  });
});
