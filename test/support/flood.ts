// Connections that never authenticate, by the thousand: what an attacker (or any local user, on
// the proxy port) can open against the daemon's listeners. Used by test/flood.e2e.test.ts and
// the soak (bench/soak.ts), which prints the same figures.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export type FloodKind = 'silent' | 'half-upgrade' | 'slow-headers' | 'slow-body' | 'tls-never-started';

/** Where to connect: a Unix socket, a TCP port, or a TLS port (then every kind but tls-never-started does TLS first). */
export type FloodTarget = { unix: string } | { tcp: number } | { tls: number };

export interface FloodResult {
  kind: FloodKind;
  opened: number;
  /** Closed by the daemon within the window (any way: refused at accept, the deadline, an answer and close). */
  closed: number;
  /** Milliseconds from a connection's open to its close, the slowest one. */
  slowestCloseMs: number;
}

const HALF_UPGRADE = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
const SLOW_HEADERS = 'POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
const SLOW_BODY = 'POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tth_flood\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{';

function connect(target: FloodTarget, kind: FloodKind): net.Socket {
  if ('unix' in target) return net.connect(target.unix);
  if ('tcp' in target || kind === 'tls-never-started') return net.connect('tcp' in target ? target.tcp : target.tls, '127.0.0.1');
  return tls.connect({ port: target.tls, host: '127.0.0.1', rejectUnauthorized: false });
}

/** What the connection sends once connected, and then a byte a second (slow kinds) to look alive. */
function script(kind: FloodKind): { first: string; trickle: boolean } {
  switch (kind) {
    case 'silent':
    case 'tls-never-started':
      return { first: '', trickle: false };
    case 'half-upgrade':
      return { first: HALF_UPGRADE, trickle: false };
    case 'slow-headers':
      return { first: SLOW_HEADERS, trickle: true };
    case 'slow-body':
      return { first: SLOW_BODY, trickle: true };
  }
}

/**
 * Opens `count` connections of one kind, keeps each as alive as its kind allows, and waits
 * until the daemon has closed all of them or `windowMs` has passed; then closes what is left.
 */
export async function flood(target: FloodTarget, kind: FloodKind, count: number, windowMs: number): Promise<FloodResult> {
  const { first, trickle } = script(kind);
  const sockets: net.Socket[] = [];
  const closes: Promise<number>[] = [];
  const trickles = new Set<net.Socket>();
  const timer = trickle ? setInterval(() => trickles.forEach((s) => s.write('a')), 1000) : undefined;
  // In batches, so the listen backlog is not what refuses them.
  for (let i = 0; i < count; i += 100) {
    for (let j = i; j < Math.min(count, i + 100); j += 1) {
      let t0 = performance.now();
      const socket = connect(target, kind);
      sockets.push(socket);
      socket.on('error', () => {});
      socket.resume();
      const ready = socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect';
      // Timed from the TCP (or Unix) connect, when the daemon starts counting; not from TLS's end.
      socket.once('connect', () => (t0 = performance.now()));
      socket.once(ready, () => {
        if (first) socket.write(first);
        if (trickle) trickles.add(socket);
      });
      closes.push(
        new Promise((resolve) =>
          socket.once('close', () => {
            trickles.delete(socket);
            resolve(performance.now() - t0);
          }),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), windowMs));
  const done = await Promise.race([Promise.all(closes), timeout]);
  if (timer) clearInterval(timer);
  const times = done === 'timeout' ? [] : done;
  const closed = done === 'timeout' ? sockets.filter((s) => s.destroyed).length : times.length;
  for (const s of sockets) s.destroy();
  return { kind, opened: count, closed, slowestCloseMs: times.length ? Math.round(Math.max(...times)) : Number.NaN };
}

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits (up to `ms`) until `pid` holds no more than `level + slack` fds; returns the count seen last. */
export async function fdsBackTo(pid: number, level: number, slack: number, ms = 3000): Promise<number> {
  const until = Date.now() + ms;
  let now = fdCount(pid);
  while (now > level + slack && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    now = fdCount(pid);
  }
  return now;
}
