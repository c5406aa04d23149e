import { parseArgs } from 'node:util';
import { DEFAULT_HEARTBEAT_MS, PublicKey, DisplayName } from '../../protocol/index.js';
import { ensureDaemon } from '../daemon-launcher.js';
import { AuthorizedAgents, loadOrCreateIdentity } from '../identity.js';
import { remotePaths, tetherHome } from '../paths.js';
import { TETHER_VERSION } from '../version.js';
import { ownBundleHash } from '../bundle-hash.js';
import type { DaemonState } from '../daemon.js';
import type { RetireAnswer } from '../../protocol/daemon-control-schemas.js';
import { CliError, DaemonControlClient } from './control-client.js';
import { answerOf } from './daemon-answers.js';
import { ExitCode } from './exit-codes.js';

export const DEFAULT_IDLE_EXIT_MS = 10 * 60_000;

/** What `tether attach` takes (the laptop builds it in agent/transports/ssh-bootstrap.ts). */
export const ATTACH_OPTIONS = {
  'agent-key': { type: 'string' },
  'agent-name': { type: 'string' },
  'idle-exit-ms': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  stdio: { type: 'boolean' },
} as const;

/**
 * `tether attach --agent-key KEY --agent-name NAME`: what a laptop runs over SSH. The SSH
 * login already proves who the user is, so the laptop's key is authorized here; the daemon
 * is started (or reused); one JSON line tells the laptop the daemon's key to pin and where
 * its socket is. Never prints a secret: there is none to print.
 */
export async function attachCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: ATTACH_OPTIONS,
    allowPositionals: false,
  });
  const key = PublicKey.safeParse(values['agent-key']);
  const name = DisplayName.safeParse(values['agent-name']);
  if (!key.success || !name.success) throw new CliError(ExitCode.usage, 'usage: tether attach --agent-key KEY --agent-name NAME [--idle-exit-ms N] [--heartbeat-ms N] [--stdio]');
  const idle = values['idle-exit-ms'] === undefined ? DEFAULT_IDLE_EXIT_MS : Number(values['idle-exit-ms']);
  if (!Number.isInteger(idle) || idle < 0) throw new CliError(ExitCode.usage, '--idle-exit-ms needs a whole number (0 = never)');
  const heartbeatMs = values['heartbeat-ms'] === undefined ? DEFAULT_HEARTBEAT_MS : Number(values['heartbeat-ms']);
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 50 || heartbeatMs > 60_000) throw new CliError(ExitCode.usage, '--heartbeat-ms needs a whole number from 50 to 60000');
  const home = tetherHome();
  const paths = remotePaths(home);
  const identity = loadOrCreateIdentity(paths.identity);
  const authorized = new AuthorizedAgents(paths.authorizedAgents);
  if (authorized.find(key.data)?.name !== name.data) authorized.add(key.data, name.data);
  const script = process.argv[1];
  if (!script) throw new CliError(ExitCode.usage, 'cannot tell where this tether bundle lives');
  // The daemon we want runs this very bundle with the laptop's heartbeat; one that differs makes way when nobody else uses it.
  const bundle = ownBundleHash(script);
  const suits = (state: DaemonState) => state.bundle === bundle && (state.heartbeatMs ?? DEFAULT_HEARTBEAT_MS) === heartbeatMs;
  const serveArgs = ['--heartbeat-ms', String(heartbeatMs), ...(idle > 0 ? ['--idle-exit-ms', String(idle)] : [])];
  let launched;
  try {
    launched = await ensureDaemon({ home, script, serveArgs, suits, retire: (state) => askToRetire(home, state, key.data) });
  } catch (err) {
    throw new CliError(ExitCode.noLaptop, `cannot start the daemon: ${(err as Error).message}`);
  }
  const answer = {
    version: TETHER_VERSION,
    serverId: launched.state.serverId,
    serverKey: identity.serverKey,
    fingerprint: identity.fingerprint,
    socket: launched.state.socket,
    pid: launched.state.pid,
    started: launched.started,
    daemon: { version: launched.state.version, bundle: launched.state.bundle ?? null, heartbeatMs: launched.state.heartbeatMs ?? DEFAULT_HEARTBEAT_MS },
    ...(launched.replaced ? { replaced: { pid: launched.replaced.pid, version: launched.replaced.version, bundle: launched.replaced.bundle ?? null } } : {}),
    // Kept although it is not what this laptop wants: others use it (never their keys, only names and a count).
    ...(launched.kept ? { kept: launched.kept.inUse } : {}),
  };
  process.stdout.write(JSON.stringify(answer) + '\n');
  // --stdio: this very process carries the link (the laptop's ssh has no socket forward).
  if (values.stdio) return (await import('../stdio-bridge.js')).bridgeStdio(launched.state.socket);
  return ExitCode.ok;
}

/**
 * Asks the running daemon to make way. A daemon too old to know the call (or not answering)
 * is kept: it still works, and it exits by itself once idle.
 */
async function askToRetire(home: string, state: DaemonState, agentKey: string): Promise<RetireAnswer> {
  try {
    const client = DaemonControlClient.locate(home);
    if (client.state.pid !== state.pid) return { retiring: false, inUse: { laptops: [], execs: 0 } };
    return await client.call('retire', { agentKey }, answerOf('retire'), 5000);
  } catch {
    return { retiring: false, inUse: { laptops: [], execs: 0 } };
  }
}
