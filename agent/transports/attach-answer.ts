import { PublicKey, ServerId } from '../../protocol/index.js';
import { AgentError } from '../errors.js';

/** What `tether attach` on the server prints (remote/cli/attach.ts), as one JSON line. */
export interface AttachAnswer {
  serverId: string;
  serverKey: string;
  fingerprint: string;
  socket: string;
  pid: number;
  started: boolean;
  /** What the daemon runs (absent from bundles before this field). */
  daemon?: { version: string; bundle: string | null; heartbeatMs: number };
  /** An older daemon (another bundle or heartbeat) was stopped to start this one. */
  replaced?: { pid: number; version: string; bundle: string | null };
  /** The daemon differs from what this laptop wants but was kept: others use it. */
  kept?: { laptops: string[]; execs: number };
}

/** The attach answer from the last line of `stdout`, checked: a daemon key and id to pin, a socket path. */
export function parseAttach(stdout: string, alias: string): AttachAnswer {
  let raw: Partial<AttachAnswer>;
  try {
    raw = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Partial<AttachAnswer>;
  } catch {
    throw new AgentError('server-setup', `tether on ${alias} answered something unexpected: is the bundle there from another version?`);
  }
  if (!PublicKey.safeParse(raw.serverKey).success || !ServerId.safeParse(raw.serverId).success || typeof raw.socket !== 'string' || !raw.socket.startsWith('/')) {
    throw new AgentError('server-setup', `tether on ${alias} answered without a daemon key or socket`);
  }
  return raw as AttachAnswer;
}
