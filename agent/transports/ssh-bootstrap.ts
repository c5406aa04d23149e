import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client as SshClient } from 'ssh2';
import { requireArtefact } from '../artefacts.js';
import { AgentError } from '../errors.js';
import { bootScript } from './boot-script.js';
import { BootEnded, runBoot, type BootOutcome, type NodeRuntime, type RuntimeSource } from './boot-session.js';
import { sshExecChannel } from './ssh-session.js';
import type { AttachAnswer } from './attach-answer.js';

export { parseAttach, type AttachAnswer } from './attach-answer.js';

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
  /** Node runtimes this laptop can bring to a server without Node. */
  runtime?: RuntimeSource | undefined;
}

export interface BootstrapResult extends AttachAnswer {
  uploaded: boolean;
  /** The Node runtime brought to the server on this connect (its version), if one was. */
  uploadedRuntime: string | undefined;
  nodeVersion: string;
  /** One line for `tether status` when the server's daemon is not the one this laptop wanted. */
  note?: string;
}

const STDERR_LIMIT = 64 * 1024;

/**
 * Makes a server ready for this laptop over an SSH login, with the OpenSSH transport's own
 * boot conversation (boot-script.ts) on one exec channel: Node there (or the runtime brought),
 * the bundle uploaded when its hash differs, our key authorized, the daemon running. The
 * session ends with the attach answer (`answer` step): this transport forwards the daemon's
 * socket itself. Returns what the daemon is (its key, to pin: the host key vouched for this channel).
 */
export async function bootstrapServer(client: SshClient, opts: BootstrapOptions): Promise<BootstrapResult> {
  const script = bootScript({
    ...(opts.remoteHome ? { remoteHome: opts.remoteHome } : {}),
    runtimeVersion: opts.runtime?.version ?? 'none',
    minNodeMajor: MIN_SERVER_NODE,
    attachArgs: attachArgs(opts),
  });
  const channel = await sshExecChannel(client, script);
  let stderr = '';
  channel.stderr.setEncoding('utf8');
  channel.stderr.on('data', (d: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += d;
  });
  const closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
  let boot: BootOutcome;
  try {
    boot = await runBoot(channel, channel, {
      alias: opts.alias,
      bundle: opts.bundle,
      minNodeMajor: MIN_SERVER_NODE,
      runtime: opts.runtime,
      attach: 'answer',
      onRuntime: (r) => opts.notice?.(runtimeNotice(opts.alias, r, opts.remoteHome)),
    });
  } catch (err) {
    channel.close();
    if (!(err instanceof BootEnded)) throw err;
    // Its stderr says why (a login shell that is not POSIX enough, a full disk): wait for the rest of it.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
    throw new AgentError('server-setup', `cannot start tether on ${opts.alias}: ${firstLine(stderr) || 'the SSH session ended during setup'}`);
  }
  // The answer is the session's last line; drain whatever follows so the channel can close.
  channel.resume();
  channel.end();
  if (boot.uploadedBundle) opts.notice?.(installedNotice(opts.alias, opts.remoteHome));
  const answer = boot.answer;
  const note = keptNote(answer, opts);
  if (note) opts.notice?.(note);
  if (answer.replaced) opts.notice?.(`replaced the daemon on ${opts.alias} (pid ${answer.replaced.pid}, bundle ${short(answer.replaced.bundle)}) with one of this bundle (${short(opts.bundle.sha256)})`);
  return { ...answer, uploaded: boot.uploadedBundle, uploadedRuntime: boot.uploadedRuntime, nodeVersion: boot.probe.node, ...(note ? { note } : {}) };
}

/** Said once, before a runtime goes up: why, what, how big, where it stays. */
export function runtimeNotice(alias: string, runtime: NodeRuntime, remoteHome: string | undefined): string {
  const mb = (runtime.bytes / 1e6).toFixed(1);
  return `${alias} has no Node ${MIN_SERVER_NODE}+: bringing Node ${runtime.version} for linux-${runtime.arch} (${mb} MB, once per version) to ${remoteHome ?? '~/.tether'}/runtime`;
}

/** Said when the bundle was uploaded: where `tether` now is on the server, and how to have it on PATH. */
export function installedNotice(alias: string, remoteHome: string | undefined): string {
  const where = remoteHome ? `${remoteHome}/bin` : '~/.tether/bin';
  return `installed tether on ${alias} in ${where}; to use \`tether\` there, run once: echo 'export PATH="${where.replace(/^~/, '$HOME')}:$PATH"' >> ~/.profile`;
}

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

/** Why the daemon we attached to is not the one we asked for, in one line; undefined when it is. */
export function keptNote(answer: AttachAnswer, opts: Pick<BootstrapOptions, 'alias' | 'bundle' | 'heartbeatMs'>): string | undefined {
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

export function short(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : 'unknown';
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}
