// Every listener closes connections that do not authenticate in time, and caps how many may wait.
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from './listener-budget.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, leaseToken, pairedLaptop, request } from './testing/harness.js';

const scene = daemonPerTest();
const PRE_AUTH_MS = 400;

async function start(preAuth: { perSource?: number; total?: number } = {}) {
  const lines: string[] = [];
  const { daemon } = await scene.start({ listen: { host: '127.0.0.1', port: 0 }, preAuth: { preAuthMs: PRE_AUTH_MS, ...preAuth } });
  daemon.events.on('guard', (line) => lines.push(line));
  const tlsPort = Number(new URL(daemon.listenUrl!.replace('wss:', 'https:')).port);
  const proxyPort = Number(new URL(daemon.proxyUrl).port);
  return { daemon, lines, tlsPort, proxyPort };
}

/** Resolves with how long the server took to close a connection that sends `bytes` (or nothing). */
function heldFor(open: () => net.Socket, bytes = ''): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = open();
    socket.on('error', () => {});
    socket.resume(); // read what comes, so the server's end is seen
    if (bytes) socket.write(bytes);
    socket.on('close', () => resolve(performance.now() - t0));
  });
}

describe('pre-authentication budget', () => {
  it('closes silent, half-sent and slow connections on every listener at the deadline', async () => {
    const { daemon, tlsPort, proxyPort, lines } = await start();
    const kinds: [string, () => net.Socket, string][] = [
      ['unix silent', () => net.connect(daemon.socketPath), ''],
      ['unix half-sent upgrade', () => net.connect(daemon.socketPath), 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'],
      ['proxy silent', () => net.connect(proxyPort, '127.0.0.1'), ''],
      ['proxy slow headers', () => net.connect(proxyPort, '127.0.0.1'), 'POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n'],
      ['TLS never started', () => net.connect(tlsPort, '127.0.0.1'), ''],
      ['TLS half a ClientHello', () => net.connect(tlsPort, '127.0.0.1'), '\x16\x03\x01\x02\x00\x01'],
      ['TLS done, upgrade half-sent', () => tls.connect({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false }), 'GET / HTTP/1.1\r\nHost: x\r\n'],
    ];
    const held = await Promise.all(kinds.map(([, open, bytes]) => heldFor(open, bytes)));
    for (const [i, ms] of held.entries()) {
      expect(ms, kinds[i]![0]).toBeGreaterThan(PRE_AUTH_MS - 50);
      expect(ms, kinds[i]![0]).toBeLessThan(PRE_AUTH_MS + 1000);
    }
    expect(lines.join('\n')).toMatch(/did not authenticate within 400 ms/);
  });

  it('answers a refusal and closes, without waiting for the body', async () => {
    const { proxyPort } = await start();
    const ms = await heldFor(() => net.connect(proxyPort, '127.0.0.1'), 'POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n{');
    expect(ms).toBeLessThan(PRE_AUTH_MS - 100);
  });

  it('keeps authenticated connections: a laptop past its handshake, a tool under a live lease', async () => {
    const { daemon } = await start();
    const laptop = await pairedLaptop(daemon, { offer: ['openai'] });
    scene.laptops.push(laptop);
    autoGrant(laptop);
    const { token } = await leaseToken(daemon, 'openai');
    laptop.onRelayOpen = (s) => setTimeout(() => {
      s.head(200);
      s.send(Buffer.from('{}'));
      s.end();
    }, PRE_AUTH_MS * 2);
    const res = await request(`${daemon.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(res.status).toBe(200);
    expect(daemon.links()).toHaveLength(1);
  });

  it('refuses a source past its cap at accept, and evicts the oldest past the total', async () => {
    const { tlsPort, proxyPort, lines } = await start({ perSource: 3, total: 5 });
    const t0 = performance.now();
    const tcp = await Promise.all(Array.from({ length: 5 }, () => heldFor(() => net.connect(tlsPort, '127.0.0.1'))));
    const early = tcp.filter((ms) => ms < PRE_AUTH_MS - 100);
    expect(early).toHaveLength(2); // 3 wait for the deadline, 2 were refused at once
    expect(lines.join('\n')).toMatch(/refused connections at accept on the TLS port: over 3 unauthenticated connections from 127\.0\.0\.1/);

    // Proxy (loopback: only the total): 8 connections, the 3 oldest closed as newer ones came.
    const closed: number[] = [];
    const sockets = Array.from({ length: 8 }, (_, i) => {
      const s = net.connect(proxyPort, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closed.push(i));
      return s;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(closed.sort()).toEqual([0, 1, 2]);
    expect(lines.join('\n')).toMatch(/closed the oldest unauthenticated connections on the proxy port: over 5 in all/);
    for (const s of sockets) s.destroy();
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('RateLimitedLog', () => {
  it('says a kind once per period and counts the rest into one later line', () => {
    let now = 0;
    const out: string[] = [];
    const log = new RateLimitedLog((l) => out.push(l), 10_000, () => now);
    for (let i = 0; i < 1000; i++) log.note('k', 'refused');
    expect(out).toEqual(['refused']);
    now = 10_000;
    log.note('k', 'refused');
    expect(out).toEqual(['refused', 'refused']);
  });
});
