import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '../test/support/homes.js';
import { LAPTOP_BIN, SERVER_BIN, TetherProcess, readJsonIfExists, runTether, waitFor, type RunResult } from '../test/support/tether-process.js';

/**
 * A daemon and a headless agent as real processes, paired, lending one openai credential.
 * test/support/world.ts does the same for the test suites but imports vitest, which cannot
 * load outside a test run; this is the part the benchmark needs.
 */
export class RelayWorld {
  readonly root = tempDir('bench');
  readonly serverHome = join(this.root, 'server');
  readonly laptopHome = join(this.root, 'laptop');
  private readonly logs = join(this.root, 'logs');
  private readonly passphrase = randomBytes(12).toString('hex');
  daemon!: TetherProcess;
  agent: TetherProcess | undefined;
  state!: { pid: number; socket: string; proxyUrl: string };
  private logCount = 0;

  private constructor() {
    mkdirSync(this.logs);
  }

  static async start(mockUrl: string, key: string): Promise<RelayWorld> {
    const world = new RelayWorld();
    try {
      world.daemon = new TetherProcess(['serve', '--proxy-port', '0', '--heartbeat-ms', '1000'], { home: world.serverHome, bin: SERVER_BIN, logFile: world.logFile('daemon') });
      const file = join(world.serverHome, 'run/daemon.json');
      world.state = await waitFor(() => {
        const s = readJsonIfExists<RelayWorld['state']>(file);
        return s && s.pid === world.daemon.pid ? s : undefined;
      }, 'daemon.json');
      const add = await runTether(['creds', 'add', 'openai', '--base-url', mockUrl, '--store', 'file'], {
        home: world.laptopHome,
        input: `${key}\n`,
        env: { TETHER_VAULT_PASSPHRASE: world.passphrase },
      });
      if (add.code !== 0) throw new Error(`creds add failed: ${add.stderr}`);
      await world.startAgent();
      return world;
    } catch (err) {
      await world.dispose();
      throw err;
    }
  }

  private logFile(name: string): string {
    this.logCount += 1;
    return join(this.logs, `${this.logCount}-${name}.log`);
  }

  server(args: string[]): Promise<RunResult> {
    return runTether(args, { home: this.serverHome, bin: SERVER_BIN });
  }

  async token(provider: string): Promise<RunResult> {
    return this.server(['token', provider]);
  }

  async startAgent(): Promise<TetherProcess> {
    const paired = Object.keys(readJsonIfExists<{ servers?: object }>(join(this.laptopHome, 'config.json'))?.servers ?? {}).length > 0;
    let pair: string[] = [];
    if (!paired) {
      const r = await this.server(['pair-code', '--json']);
      if (r.code !== 0) throw new Error(`pair-code failed: ${r.stderr}`);
      pair = ['--pair', (JSON.parse(r.stdout) as { code: string }).code];
    }
    this.agent = new TetherProcess(['agent', '--connect', `unix:${this.state.socket}`, ...pair, '--approve', 'allow'], {
      home: this.laptopHome,
      bin: LAPTOP_BIN,
      env: { TETHER_VAULT_PASSPHRASE: this.passphrase },
      logFile: this.logFile('agent'),
    });
    await waitFor(
      async () => {
        if (this.agent?.exited) throw new Error(`agent exited: ${this.agent.text}`);
        const r = await this.server(['status', '--json']);
        if (r.code !== 0) return undefined;
        const s = JSON.parse(r.stdout) as { laptops: { providers: unknown[] }[] };
        return s.laptops.length === 1 && s.laptops[0]!.providers.length > 0 ? true : undefined;
      },
      'the agent to connect',
      15_000,
      50,
    );
    return this.agent;
  }

  async dispose(): Promise<void> {
    await this.agent?.stop();
    await this.daemon?.stop();
    removeDir(this.root);
  }
}
