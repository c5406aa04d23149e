import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client as SshClient } from 'ssh2';
import { PublicKey, ServerId } from '../../protocol/index.js';
import { requireArtefact } from '../artefacts.js';
import { AgentError } from '../errors.js';
import { sshExec } from './ssh-session.js';

export const MIN_SERVER_NODE = 18;

export interface RemoteBundle {
  bytes: Buffer;
  sha256: string;
}

/** The server bundle shipped beside the running laptop bundle (agent/artefacts.ts), or $TETHER_REMOTE_BUNDLE. */
export function loadRemoteBundle(env: NodeJS.ProcessEnv = process.env): RemoteBundle {
  const file = requireArtefact('server-bundle', env);
  const bytes = readFileSync(file);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

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

export interface BootstrapOptions {
  alias: string;
  /** TETHER_HOME on the server (from ssh_config `SetEnv TETHER_HOME=…`); default ~/.tether. */
  remoteHome?: string;
  bundle: RemoteBundle;
  agentKey: string;
  agentName: string;
  idleExitMs?: number;
  /** The laptop's heartbeat setting: a daemon started for us uses it. */
  heartbeatMs?: number;
  notice?: (line: string) => void;
}

export interface BootstrapResult extends AttachAnswer {
  uploaded: boolean;
  nodeVersion: string;
  /** One line for `tether status` when the server's daemon is not the one this laptop wanted. */
  note?: string;
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Every command runs under POSIX sh whatever the login shell is, with the server's tether home in $H. */
function script(body: string, remoteHome: string | undefined): string {
  const home = remoteHome ? `TETHER_HOME=${shellQuote(remoteHome)}; export TETHER_HOME; ` : '';
  return `sh -c ${shellQuote(`${home}H="\${TETHER_HOME:-$HOME/.tether}"; ${body}`)}`;
}

const PROBE = [
  'command -v node >/dev/null 2>&1 || { echo no-node; exit 0; }',
  'node --version',
  `if [ -f "$H/bin/tether" ]; then node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$H/bin/tether"; fi`,
].join('; ');

// Temp file + rename: a laptop that drops mid-upload never leaves half a bundle in place.
const UPLOAD = [
  'umask 077',
  'mkdir -p "$H/bin"',
  'chmod 700 "$H" "$H/bin"',
  'T="$H/bin/.tether.$$.tmp"',
  'cat > "$T"',
  'chmod 700 "$T"',
  'mv -f "$T" "$H/bin/tether"',
].join(' && ');

/**
 * Makes a server ready for this laptop over an SSH login: Node ≥ 18 there, the bundle
 * uploaded when its hash differs, our key authorized, the daemon running. Returns what the
 * daemon is (its key, to pin: the SSH host key check already vouched for this channel).
 */
export async function bootstrapServer(client: SshClient, opts: BootstrapOptions): Promise<BootstrapResult> {
  const probe = await sshExec(client, script(PROBE, opts.remoteHome));
  const [version = '', hash = ''] = probe.stdout.trim().split('\n').map((s) => s.trim());
  if (version === 'no-node' || !/^v\d+/.test(version)) {
    throw new AgentError('server-setup', `${opts.alias} has no \`node\` on its PATH: install Node ${MIN_SERVER_NODE} or later there`);
  }
  const major = Number(/^v(\d+)/.exec(version)?.[1]);
  if (major < MIN_SERVER_NODE) throw new AgentError('server-setup', `${opts.alias} runs Node ${version}; tether needs Node ${MIN_SERVER_NODE} or later there`);

  let uploaded = false;
  if (hash !== opts.bundle.sha256) {
    const up = await sshExec(client, script(UPLOAD, opts.remoteHome), opts.bundle.bytes);
    if (up.code !== 0) throw new AgentError('server-setup', `cannot install tether on ${opts.alias}: ${firstLine(up.stderr) || `exit ${up.code}`}`);
    uploaded = true;
    const where = opts.remoteHome ? `${opts.remoteHome}/bin` : '~/.tether/bin';
    opts.notice?.(`installed tether on ${opts.alias} in ${where}; to use \`tether\` there, run once: echo 'export PATH="${where.replace(/^~/, '$HOME')}:$PATH"' >> ~/.profile`);
  }

  const attach = await sshExec(client, script(`exec node "$H/bin/tether" ${attachArgs(opts).map(shellQuote).join(' ')}`, opts.remoteHome));
  if (attach.code !== 0) throw new AgentError('server-setup', `cannot start tether on ${opts.alias}: ${firstLine(attach.stderr) || `exit ${attach.code}`}`);
  const answer = parseAttach(attach.stdout, opts.alias);
  const note = keptNote(answer, opts);
  if (note) opts.notice?.(note);
  if (answer.replaced) opts.notice?.(`replaced the daemon on ${opts.alias} (pid ${answer.replaced.pid}, bundle ${short(answer.replaced.bundle)}) with one of this bundle (${short(opts.bundle.sha256)})`);
  return { ...answer, uploaded, nodeVersion: version, ...(note ? { note } : {}) };
}

/** Why the daemon we attached to is not the one we asked for, in one line; undefined when it is. */
/**
 * The server's `tether attach` command line. Values go as `--flag=value`: a base64url key
 * starts with `-` one time in 64, and `--agent-key -x…` is refused as ambiguous.
 */
export function attachArgs(opts: Pick<BootstrapOptions, 'agentKey' | 'agentName' | 'idleExitMs' | 'heartbeatMs'>): string[] {
  const args = ['attach', `--agent-key=${opts.agentKey}`, `--agent-name=${opts.agentName}`];
  if (opts.idleExitMs !== undefined) args.push(`--idle-exit-ms=${opts.idleExitMs}`);
  if (opts.heartbeatMs !== undefined) args.push(`--heartbeat-ms=${opts.heartbeatMs}`);
  return args;
}

function keptNote(answer: AttachAnswer, opts: BootstrapOptions): string | undefined {
  if (!answer.kept || !answer.daemon) return undefined;
  const users = [
    ...(answer.kept.laptops.length ? [`other laptops are linked (${answer.kept.laptops.join(', ')})`] : []),
    ...(answer.kept.execs ? [`${answer.kept.execs} \`tether exec\` still running there`] : []),
  ];
  const inUse = users.length ? users.join(', ') : 'it did not agree to stop';
  const d = answer.daemon;
  const what =
    d.bundle !== opts.bundle.sha256
      ? `an older daemon (${d.version}, bundle ${short(d.bundle)})`
      : `a daemon with a ${d.heartbeatMs} ms heartbeat, not this laptop's ${opts.heartbeatMs ?? '?'} ms`;
  return `${opts.alias} runs ${what}; ${inUse}: it is replaced once no laptop is linked to it`;
}

function short(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : 'unknown';
}

function parseAttach(stdout: string, alias: string): AttachAnswer {
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

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}
