import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startMockProvider, type MockProvider, type MockProviderOptions } from '../fixtures/mock-provider.js';
import { removeDir, tempDir } from './homes.js';
import { scanForSecrets, type Leak } from './secret-scan.js';
import { LAPTOP_BIN, SERVER_BIN, TetherProcess, readJsonIfExists, runTether, waitFor, type RunResult } from './tether-process.js';

export interface DaemonState {
  pid: number;
  socket: string;
  proxyUrl: string;
  serverId: string;
  /** The bundle's sha256 and the heartbeat the daemon runs (`tether attach` compares them). */
  bundle?: string;
  heartbeatMs?: number;
}

export interface WorldOptions {
  approve?: string;
  heartbeatMs?: number;
  agentArgs?: string[];
  daemonArgs?: string[];
  /** The node binary for the daemon and every server command (default SERVER_NODE). */
  serverNode?: string;
  /** Start without an agent (tests that pair or connect by themselves). */
  noAgent?: boolean;
  /** The mock provider's key per request, for keys that change (forward mode). */
  mockKeyFor?: MockProviderOptions['keyFor'];
  /**
   * A mock provider already running in another process (the bench keeps it off the load
   * generator's event loop): the world lends its keys and leaves it running.
   */
  provider?: { url: string; keys: ProviderKeys };
}

export interface ProviderKeys {
  openai: string;
  anthropic: string;
  gemini: string;
}

/**
 * One laptop and one server on this machine, as real processes: the mock provider, the
 * daemon (the server bundle, under its own TETHER_HOME), and the headless agent (the
 * laptop bin, its own TETHER_HOME, credentials in the encrypted file store), paired.
 */
export class World {
  readonly root = tempDir('w');
  readonly serverHome = join(this.root, 'server');
  readonly laptopHome = join(this.root, 'laptop');
  readonly logs = join(this.root, 'logs');
  readonly passphrase = randomBytes(12).toString('hex');
  readonly keys: ProviderKeys;
  /** Every lease token a test saw, to prove none of them reached a disk or a log. */
  readonly tokens = new Set<string>();
  mock!: MockProvider;
  daemon!: TetherProcess;
  agent: TetherProcess | undefined;
  state!: DaemonState;
  /** Laptops beyond the first (`addLaptop`), each with its own home, keys and provider. */
  readonly others: OtherLaptop[] = [];
  private logCount = 0;

  constructor(readonly options: WorldOptions = {}) {
    mkdirSync(this.logs);
    this.keys = options.provider?.keys ?? {
      openai: `sk-test-${randomBytes(16).toString('hex')}`,
      anthropic: `sk-test-${randomBytes(16).toString('hex')}`,
      gemini: `AIza-test-${randomBytes(16).toString('hex')}`,
    };
  }

  static async start(options: WorldOptions = {}): Promise<World> {
    const world = new World(options);
    try {
      world.mock = options.provider
        ? providerElsewhere(options.provider.url)
        : await startMockProvider({ keys: world.keys, ...(options.mockKeyFor ? { keyFor: options.mockKeyFor } : {}) });
      await world.startDaemon();
      await world.addCredential('openai');
      await world.addCredential('anthropic');
      if (!options.noAgent) await world.startAgent();
      return world;
    } catch (err) {
      await world.stop();
      throw err;
    }
  }

  logFile(name: string): string {
    this.logCount += 1;
    return join(this.logs, `${this.logCount}-${name}.log`);
  }

  async startDaemon(extra: string[] = []): Promise<DaemonState> {
    const hb = String(this.options.heartbeatMs ?? 1000);
    this.daemon = new TetherProcess(['serve', '--proxy-port', '0', '--heartbeat-ms', hb, ...(this.options.daemonArgs ?? []), ...extra], {
      home: this.serverHome,
      bin: SERVER_BIN,
      ...(this.options.serverNode ? { node: this.options.serverNode } : {}),
      logFile: this.logFile('daemon'),
    });
    const file = join(this.serverHome, 'run/daemon.json');
    this.state = await waitFor(() => {
      const s = readJsonIfExists<DaemonState>(file);
      return s && s.pid === this.daemon.pid ? s : undefined;
    }, 'daemon.json');
    return this.state;
  }

  /** A server-side command, run with the server bundle under the server's TETHER_HOME. */
  async server(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
    return runTether(args, { home: this.serverHome, bin: SERVER_BIN, env, ...(this.options.serverNode ? { node: this.options.serverNode } : {}) });
  }

  /** A laptop-side command. */
  async laptop(args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
    return runTether(args, { home: this.laptopHome, bin: LAPTOP_BIN, input: opts.input, env: { TETHER_VAULT_PASSPHRASE: this.passphrase, ...opts.env } });
  }

  /** Adds (or replaces) a credential; a running agent re-reads and re-offers. */
  async addCredential(provider: 'openai' | 'anthropic' | 'gemini', name: string = provider): Promise<void> {
    const r = await this.laptop(['creds', 'add', provider, '--name', name, '--base-url', this.mock.url, '--store', 'file', '--replace'], {
      input: `${this.keys[provider]}\n`,
    });
    if (r.code !== 0) throw new Error(`creds add failed: ${r.stderr}`);
  }

  async pairCode(): Promise<string> {
    const r = await this.server(['pair-code', '--json']);
    if (r.code !== 0) throw new Error(`pair-code failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { code: string }).code;
  }

  async startAgent(args: string[] = []): Promise<TetherProcess> {
    const paired = readJsonIfExists<{ servers?: Record<string, unknown> }>(join(this.laptopHome, 'config.json'))?.servers ?? {};
    const pair = Object.keys(paired).length ? [] : ['--pair', await this.pairCode()];
    this.agent = new TetherProcess(
      ['agent', '--connect', `unix:${this.state.socket}`, ...pair, '--approve', this.options.approve ?? 'allow', ...(this.options.agentArgs ?? []), ...args],
      { home: this.laptopHome, env: { TETHER_VAULT_PASSPHRASE: this.passphrase }, logFile: this.logFile('agent') },
    );
    await this.waitForLaptops(1);
    return this.agent;
  }

  /**
   * Another laptop paired to this daemon under `name`: its own home, vault passphrase, agent
   * key and openai key, lent from its own mock provider (so a test sees whose key arrived).
   */
  async addLaptop(name: string): Promise<OtherLaptop> {
    const key = `sk-test-${randomBytes(16).toString('hex')}`;
    const other: OtherLaptop = { name, home: join(this.root, `laptop-${name}`), passphrase: randomBytes(12).toString('hex'), key, mock: await startMockProvider({ keys: { openai: key } }) };
    this.others.push(other);
    const env = { TETHER_VAULT_PASSPHRASE: other.passphrase };
    const added = await runTether(['creds', 'add', 'openai', '--base-url', other.mock.url, '--store', 'file'], { home: other.home, env, input: `${other.key}\n` });
    if (added.code !== 0) throw new Error(`creds add failed: ${added.stderr}`);
    const before = (await this.daemonStatus())?.laptops.length ?? 0;
    other.agent = new TetherProcess(
      ['agent', '--connect', `unix:${this.state.socket}`, '--pair', await this.pairCode(), '--name', name, '--approve', this.options.approve ?? 'allow'],
      { home: other.home, env, logFile: this.logFile(`agent-${name}`) },
    );
    await this.waitForLaptops(before + 1);
    return other;
  }

  /** Resolves once the daemon reports `n` connected laptops offering providers. */
  async waitForLaptops(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        if (this.agent?.exited) throw new Error(`agent exited: ${this.agent.text}`);
        const s = await this.daemonStatus();
        return s && s.laptops.length === n && s.laptops.every((l) => l.providers.length > 0) ? true : undefined;
      },
      `${n} laptop(s) connected`,
      timeoutMs,
      50,
    );
  }

  async daemonStatus(): Promise<{ laptops: { name: string; providers: unknown[] }[]; leases: { leaseId: string; laptop: string }[] } | undefined> {
    const r = await this.server(['status', '--json']);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as { laptops: { name: string; providers: unknown[] }[]; leases: { leaseId: string; laptop: string }[] };
  }

  /** `tether token` on the server; remembers the token for the final secret scan. */
  async token(provider: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
    const r = await this.server(['token', provider], env);
    const token = r.stdout.trim();
    if (token) this.tokens.add(token);
    return r;
  }

  /** A raw request to the proxy, as an SDK would make it. */
  async proxy(path: string, token: string, init: { headerName?: string; body?: unknown } = {}): Promise<Response> {
    const header = init.headerName ?? 'authorization';
    return fetch(`${this.state.proxyUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [header]: header === 'authorization' ? `Bearer ${token}` : token },
      body: JSON.stringify(init.body ?? { model: 'mock-1', messages: [{ role: 'user', content: 'hi' }] }),
    });
  }

  /** Server home and every log this world wrote, scanned for the keys and every lease token seen. */
  leaks(): Leak[] {
    return scanForSecrets([this.serverHome, this.logs], [...Object.values(this.keys), ...this.others.map((o) => o.key), ...this.tokens]);
  }

  async stop(): Promise<void> {
    for (const other of this.others) await other.agent?.stop();
    for (const other of this.others) await other.mock.close();
    await this.agent?.stop();
    await this.daemon?.stop();
    await this.mock?.close();
  }

  async dispose(): Promise<void> {
    await this.stop();
    removeDir(this.root);
  }
}

/** `WorldOptions.provider` as a MockProvider: its requests are recorded (if at all) by the process serving them. */
function providerElsewhere(url: string): MockProvider {
  return { url, port: Number(new URL(url).port), requests: [], close: async () => {} };
}

/** A second (third…) laptop of a World, from `World.addLaptop`. */
export interface OtherLaptop {
  name: string;
  home: string;
  passphrase: string;
  /** Its openai key, known only to its own mock provider. */
  key: string;
  mock: MockProvider;
  agent?: TetherProcess;
}
