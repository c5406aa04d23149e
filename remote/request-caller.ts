import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RelayOpen } from '../protocol/index.js';
import { readProcFile } from '../protocol/node/proc-file.js';
import { findSocketPid, findSocketRow } from './peer-process.js';

export type Caller = NonNullable<RelayOpen['caller']>;

/**
 * The process on the other end of a proxied request, read from /proc the way the approval
 * prompt's is (socket row → the pid whose fd table holds it → its command line): once per TCP
 * connection, since a kept-alive connection stays with the process that opened it. The last
 * caller's pid is tried first (one fd table instead of every process's), since a tool's new
 * connections mostly come from the same process; `bench/caller-lookup.ts` has the figures.
 */
const known = new WeakMap<Socket, Promise<Caller | undefined>>();
let lastPid: number | undefined;
const MAX_ARGS = 8;
const MAX_ARG_CHARS = 4096;

export function callerOf(req: IncomingMessage, procRoot = '/proc'): Promise<Caller | undefined> {
  const s = req.socket;
  let hit = known.get(s);
  if (!hit) {
    hit = lookUp(s, procRoot).catch(() => undefined);
    known.set(s, hit);
  }
  return hit;
}

async function lookUp(s: Socket, procRoot: string): Promise<Caller | undefined> {
  if (!s.remoteAddress || !s.remotePort || !s.localAddress || !s.localPort) return undefined;
  const row = await findSocketRow({ clientAddress: s.remoteAddress, clientPort: s.remotePort, serverAddress: s.localAddress, serverPort: s.localPort }, procRoot);
  if (!row) return undefined;
  const pid = await findSocketPid(row.inode, lastPid, procRoot);
  if (pid === undefined) return undefined;
  lastPid = pid;
  // Only the command line goes to the laptop: enough to tell the vendor's client, nothing of its environment.
  const raw = await readProcFile(`${procRoot}/${pid}/cmdline`);
  const args = raw.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return { pid, cmdline: args.slice(0, MAX_ARGS).map((a) => a.slice(0, MAX_ARG_CHARS)) };
}
