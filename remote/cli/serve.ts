import { parseArgs } from 'node:util';
import { ownBundleHash } from '../bundle-hash.js';
import { createDaemon, type Daemon } from '../daemon.js';
import { lowerHelperThreadPriority } from '../../protocol/node/helper-threads.js';
import { IdleExit } from '../idle-exit.js';
import { tetherHome } from '../paths.js';
import { defaultProxyPort } from '../proxy-port.js';
import { CliError } from './control-client.js';
import { ExitCode } from './exit-codes.js';

function positiveInt(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(ExitCode.usage, `--${flag} needs a whole number${min ? ` of at least ${min}` : ''}, not "${value}"`);
  return n;
}

/** `--listen HOST:PORT` (IPv6 as [::1]:PORT; port 0 picks a free one, shown in daemon.json). */
function hostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new CliError(ExitCode.usage, `--listen needs HOST:PORT such as 0.0.0.0:7443, not "${text.slice(0, 60)}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function bundleOption(): { bundle?: string } {
  const bundle = ownBundleHash();
  return bundle ? { bundle } : {};
}

/** `tether serve`: runs the daemon in the foreground until SIGTERM/SIGINT. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      socket: { type: 'string' },
      'proxy-port': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'max-lease-ttl-ms': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      'upstream-timeout-ms': { type: 'string' },
      'server-id': { type: 'string' },
      'idle-exit-ms': { type: 'string' },
      listen: { type: 'string' },
    },
    allowPositionals: false,
  });
  const chosenPort = positiveInt('proxy-port', values['proxy-port']);
  if (chosenPort !== undefined && chosenPort > 65535) throw new CliError(ExitCode.usage, '--proxy-port must be at most 65535');
  const proxyPort = chosenPort ?? defaultProxyPort(process.getuid?.() ?? 0, process.env.TETHER_HOME);
  let daemon: Daemon;
  try {
    daemon = await createDaemon({
      home: tetherHome(),
      socketPath: values.socket,
      proxyPort,
      heartbeatMs: positiveInt('heartbeat-ms', values['heartbeat-ms'], 50),
      maxLeaseTtlMs: positiveInt('max-lease-ttl-ms', values['max-lease-ttl-ms'], 1000),
      requestTimeoutMs: positiveInt('request-timeout-ms', values['request-timeout-ms'], 1),
      upstreamTimeoutMs: positiveInt('upstream-timeout-ms', values['upstream-timeout-ms'], 1),
      serverId: values['server-id'],
      ...bundleOption(),
      ...(values.listen !== undefined ? { listen: hostPort(values.listen) } : {}),
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && proxyPort !== 0) {
      const whose = chosenPort === undefined ? "this user's default proxy port" : 'the proxy port';
      throw new CliError(ExitCode.usage, `port ${proxyPort} (${whose}) is taken: stop what uses it, or start with --proxy-port N (0 picks a free one)`);
    }
    throw new CliError(ExitCode.usage, `cannot start the daemon: ${(err as Error).message}`);
  }
  lowerHelperThreadPriority();
  const log = (line: string) => process.stderr.write(`tether: ${line}\n`);
  daemon.events.on('link', (link) => log(`laptop ${link.name} (${link.info.agentId}) connected`));
  daemon.events.on('link-closed', (link, closed) => log(`laptop ${link.name} disconnected (${closed.code} ${closed.reason})`));
  daemon.events.on('refused', (code) => log(`refused a laptop connection: ${code}`));
  daemon.events.on('guard', (line) => log(line));
  log(`daemon ${daemon.serverId} (${daemon.fingerprint}) listening on ${daemon.socketPath}${daemon.listenUrl ? ` and ${daemon.listenUrl}` : ''}; proxy at ${daemon.proxyUrl}`);
  const idleMs = positiveInt('idle-exit-ms', values['idle-exit-ms'], 1);

  await new Promise<void>((resolve) => {
    // Started over SSH: leave by itself once no laptop has been connected for a while.
    const idle = idleMs === undefined ? undefined : new IdleExit(idleMs, () => {
      log(`no laptop connected for ${idleMs} ms: exiting`);
      stop();
    });
    daemon.events.on('link', () => idle?.linkOpened());
    daemon.events.on('link-closed', () => idle?.linkClosed());
    // `tether attach` with another bundle or heartbeat asked this daemon to make way.
    daemon.events.on('retire', (why) => {
      log(`making way for a new daemon: ${why}`);
      stop();
    });
    const stop = () => {
      idle?.stop();
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      log('stopping: saying goodbye to every laptop');
      daemon.close().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return ExitCode.ok;
}
