import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { RelayOpen } from '../protocol/index.js';
import { identifyPeer } from './peer-process.js';

export type Caller = NonNullable<RelayOpen['caller']>;

/**
 * The process on the other end of a proxied request, read from /proc the way the approval
 * prompt's is: once per TCP connection (a kept-alive connection stays with the process
 * that opened it), so a long session of requests costs one lookup.
 */
const known = new WeakMap<Socket, Promise<Caller | undefined>>();

export function callerOf(req: IncomingMessage): Promise<Caller | undefined> {
  const s = req.socket;
  let hit = known.get(s);
  if (!hit) {
    hit = lookUp(s).catch(() => undefined);
    known.set(s, hit);
  }
  return hit;
}

async function lookUp(s: Socket): Promise<Caller | undefined> {
  if (!s.remoteAddress || !s.remotePort || !s.localAddress || !s.localPort) return undefined;
  const peer = await identifyPeer({ clientAddress: s.remoteAddress, clientPort: s.remotePort, serverAddress: s.localAddress, serverPort: s.localPort });
  // Only the command line goes to the laptop: enough to tell the vendor's client, and nothing of its environment.
  return peer?.process ? { pid: peer.process.pid, cmdline: peer.process.cmdline.slice(0, 8) } : undefined;
}
