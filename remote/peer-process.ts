import fs from 'node:fs/promises';
import type { ProcessInfo } from '../protocol/index.js';
import { readProcFile } from '../protocol/node/proc-file.js';
import { StatField, readProcStatAsync } from '../protocol/node/proc-stat.js';

/**
 * Who is on the other end of a loopback TCP connection, asked of the kernel rather than
 * the client: the socket's uid and inode from /proc/net/tcp{,6}, the pid holding that
 * inode from /proc/<pid>/fd, then that process's cmdline, cwd and parents.
 */

export interface TcpEndpoints {
  /** The client's address and port (the daemon's remoteAddress/remotePort). */
  clientAddress: string;
  clientPort: number;
  /** Our address and port (the daemon's localAddress/localPort). */
  serverAddress: string;
  serverPort: number;
}

export interface PeerIdentity {
  uid: number;
  inode: number;
  /** Undefined when no process we can see holds the socket (another uid, or it just exited). */
  process?: ProcessInfo;
}

interface SocketRow {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  uid: number;
  inode: number;
}

const MAX_PARENTS = 16;
const MAX_ARGS = 64;
const MAX_ARG_CHARS = 4096;

export async function identifyPeer(ends: TcpEndpoints, hintPid?: number, procRoot = '/proc'): Promise<PeerIdentity | undefined> {
  const row = await findSocketRow(ends, procRoot);
  if (!row) return undefined;
  const pid = await findSocketPid(row.inode, hintPid, procRoot);
  if (pid === undefined) return { uid: row.uid, inode: row.inode };
  const process = await readProcess(pid, row.uid, procRoot);
  return { uid: row.uid, inode: row.inode, process };
}

export async function findSocketRow(ends: TcpEndpoints, procRoot = '/proc'): Promise<SocketRow | undefined> {
  const client = normalizeAddress(ends.clientAddress);
  const server = normalizeAddress(ends.serverAddress);
  for (const file of ['net/tcp', 'net/tcp6']) {
    let text: string;
    try {
      text = await readProcFile(`${procRoot}/${file}`);
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const row = parseSocketRow(line);
      if (!row) continue;
      if (row.localPort === ends.clientPort && row.remotePort === ends.serverPort && row.local === client && row.remote === server) {
        return row;
      }
    }
  }
  return undefined;
}

/** One line of /proc/net/tcp{,6}: `sl local rem st queues tr retrnsmt uid timeout inode ...`. */
export function parseSocketRow(line: string): SocketRow | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length < 10) return undefined;
  const local = parseHexEndpoint(f[1] ?? '');
  const remote = parseHexEndpoint(f[2] ?? '');
  const uid = Number(f[7]);
  const inode = Number(f[9]);
  if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) return undefined;
  return { local: local.address, localPort: local.port, remote: remote.address, remotePort: remote.port, uid, inode };
}

/** `0100007F:1F90` → 127.0.0.1:8080. The kernel prints each 32-bit word in host (little-endian) order. */
export function parseHexEndpoint(text: string): { address: string; port: number } | undefined {
  const [hex, portHex] = text.split(':');
  if (!hex || !portHex || !/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length / 8; word++) {
    const chunk = hex.slice(word * 8, word * 8 + 8);
    for (let i = 3; i >= 0; i--) bytes.push(parseInt(chunk.slice(i * 2, i * 2 + 2), 16));
  }
  const port = parseInt(portHex, 16);
  if (bytes.length === 4) return { address: bytes.join('.'), port };
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { address: bytes.slice(12).join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return { address: normalizeAddress(groups.join(':')), port };
}

/** Comparable form: IPv4-mapped v6 becomes dotted v4; v6 is expanded to 8 plain hex groups. */
export function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^[0:]*:ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return mapped[1];
  if (/^\d+\.\d+\.\d+\.\d+$/.test(lower) || !lower.includes(':')) return lower;
  const [head = '', tail = ''] = lower.split('::');
  const h = head ? head.split(':') : [];
  const t = lower.includes('::') && tail ? tail.split(':') : [];
  const fill = lower.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => parseInt(g || '0', 16).toString(16)).join(':');
}

/** The pid whose fd table holds `socket:[inode]`: the client's hint first, never trusted without this check. */
export async function findSocketPid(inode: number, hintPid: number | undefined, procRoot = '/proc'): Promise<number | undefined> {
  const target = `socket:[${inode}]`;
  if (hintPid !== undefined && Number.isInteger(hintPid) && hintPid > 0 && (await holdsSocket(hintPid, target, procRoot))) return hintPid;
  let entries: string[];
  try {
    entries = await fs.readdir(procRoot);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== hintPid && (await holdsSocket(pid, target, procRoot))) return pid;
  }
  return undefined;
}

async function holdsSocket(pid: number, target: string, procRoot: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await fs.readdir(`${procRoot}/${pid}/fd`);
  } catch {
    return false; // gone, or another user's process
  }
  for (const fd of fds) {
    try {
      if ((await fs.readlink(`${procRoot}/${pid}/fd/${fd}`)) === target) return true;
    } catch {
      // fd closed while we looked
    }
  }
  return false;
}

export async function readProcess(pid: number, uid: number, procRoot = '/proc'): Promise<ProcessInfo> {
  const [cmdline, cwd, user] = await Promise.all([readCmdline(pid, procRoot), readCwd(pid, procRoot), userName(uid)]);
  const parents: ProcessInfo['parents'] = [];
  let current = pid;
  while (parents.length < MAX_PARENTS) {
    const ppid = await readParentPid(current, procRoot);
    if (ppid === undefined || ppid <= 1) break;
    parents.push({ pid: ppid, cmdline: await readCmdline(ppid, procRoot) });
    current = ppid;
  }
  const info: ProcessInfo = { pid, uid, cmdline, parents };
  if (cwd !== undefined) info.cwd = cwd;
  if (user !== undefined) info.user = user;
  return info;
}

async function readCmdline(pid: number, procRoot: string): Promise<string[]> {
  try {
    const raw = await readProcFile(`${procRoot}/${pid}/cmdline`);
    const args = raw.split('\0');
    if (args[args.length - 1] === '') args.pop();
    return args.slice(0, MAX_ARGS).map((a) => a.slice(0, MAX_ARG_CHARS));
  } catch {
    return [];
  }
}

async function readCwd(pid: number, procRoot: string): Promise<string | undefined> {
  try {
    return (await fs.readlink(`${procRoot}/${pid}/cwd`)).slice(0, 4096);
  } catch {
    return undefined;
  }
}

async function readParentPid(pid: number, procRoot: string): Promise<number | undefined> {
  const ppid = Number((await readProcStatAsync(pid, procRoot))?.[StatField.ppid]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

async function userName(uid: number): Promise<string | undefined> {
  try {
    const passwd = await fs.readFile('/etc/passwd', 'utf8');
    for (const line of passwd.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name.slice(0, 64);
    }
  } catch {
    // best effort: no passwd file in some containers
  }
  return undefined;
}
