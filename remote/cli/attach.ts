import { parseArgs } from 'node:util';
import { PublicKey, DisplayName } from '../../protocol/index.js';
import { ensureDaemon } from '../daemon-launcher.js';
import { AuthorizedAgents, loadOrCreateIdentity } from '../identity.js';
import { remotePaths, tetherHome } from '../paths.js';
import { TETHER_VERSION } from '../version.js';
import { CliError } from './control-client.js';
import { ExitCode } from './exit-codes.js';

export const DEFAULT_IDLE_EXIT_MS = 10 * 60_000;

/**
 * `tether attach --agent-key KEY --agent-name NAME`: what a laptop runs over SSH. The SSH
 * login already proves who the user is, so the laptop's key is authorized here; the daemon
 * is started (or reused); one JSON line tells the laptop the daemon's key to pin and where
 * its socket is. Never prints a secret: there is none to print.
 */
export async function attachCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'agent-key': { type: 'string' }, 'agent-name': { type: 'string' }, 'idle-exit-ms': { type: 'string' } },
    allowPositionals: false,
  });
  const key = PublicKey.safeParse(values['agent-key']);
  const name = DisplayName.safeParse(values['agent-name']);
  if (!key.success || !name.success) throw new CliError(ExitCode.usage, 'usage: tether attach --agent-key KEY --agent-name NAME [--idle-exit-ms N]');
  const idle = values['idle-exit-ms'] === undefined ? DEFAULT_IDLE_EXIT_MS : Number(values['idle-exit-ms']);
  if (!Number.isInteger(idle) || idle < 0) throw new CliError(ExitCode.usage, '--idle-exit-ms needs a whole number (0 = never)');
  const home = tetherHome();
  const paths = remotePaths(home);
  const identity = loadOrCreateIdentity(paths.identity);
  const authorized = new AuthorizedAgents(paths.authorizedAgents);
  if (authorized.find(key.data)?.name !== name.data) authorized.add(key.data, name.data);
  const script = process.argv[1];
  if (!script) throw new CliError(ExitCode.usage, 'cannot tell where this tether bundle lives');
  let launched;
  try {
    launched = await ensureDaemon({ home, script, serveArgs: idle > 0 ? ['--idle-exit-ms', String(idle)] : [] });
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
  };
  process.stdout.write(JSON.stringify(answer) + '\n');
  return ExitCode.ok;
}
