import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, waitFor } from '../test/support/tether-process.js';
import { World, type ProviderKeys } from '../test/support/world.js';
import { lowerHelperThreadsOf, treeOf } from './processes.js';
import { freePort } from '../test/support/ports.js';

/** A child process we started, stopped by its own handle. */
export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exit;
  clearTimeout(timer);
}

/** The mock provider in its own process, so its work does not share the load generator's event loop. */
export async function startMockProcess(opts: { port?: number; tokenDelayMs?: number; keys?: ProviderKeys } = {}): Promise<{ child: ChildProcess; url: string; keys: ProviderKeys }> {
  const args = [join(ROOT, 'test/fixtures/mock-provider.ts')];
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  if (opts.tokenDelayMs !== undefined) args.push('--token-delay-ms', String(opts.tokenDelayMs));
  const env = opts.keys ? { ...process.env, TETHER_MOCK_KEYS: JSON.stringify(opts.keys) } : process.env;
  // One process (no tsx wrapper in between), so a signal to it reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env, cwd: ROOT });
  const first = once(createInterface({ input: child.stdout! }), 'line') as Promise<[string]>;
  const died = once(child, 'exit').then(([code]) => {
    throw new Error(`the mock provider exited (${String(code)}) before it listened`);
  });
  const [line] = await Promise.race([first, died]);
  return { child, ...(JSON.parse(line) as { url: string; keys: ProviderKeys }) };
}


/** A bare hop process (bench/pipe-hop.mjs) and the address it listens on. */
async function startHop(listen: string, to: string): Promise<{ child: ChildProcess; at: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bench/pipe-hop.mjs'), listen, to], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [at] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, at };
}

/**
 * The floor: two bare hops with the relay's shape (TCP in, Unix socket between them, TCP to
 * the provider) that only copy bytes. What they add is what two more processes cost here.
 */
async function startPipes(mockUrl: string, dir: string): Promise<{ children: ChildProcess[]; url: string }> {
  const mock = new URL(mockUrl);
  const inner = await startHop(`unix:${join(dir, 'pipe-hop.sock')}`, `tcp:${mock.hostname}:${mock.port}`);
  const outer = await startHop('tcp:127.0.0.1:0', inner.at).catch(async (err: unknown) => {
    await stop(inner.child);
    throw err;
  });
  const [, host, port] = /^tcp:(.+):(\d+)$/.exec(outer.at)!;
  return { children: [outer.child, inner.child], url: `http://${host}:${port}` };
}

async function startPortkey(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const bin = join(ROOT, 'bench/node_modules/@portkey-ai/gateway/build/start-server.js');
  const child = spawn(process.execPath, ['--import', join(ROOT, 'bench/portkey-preload.mjs'), bin, '--headless', `--port=${port}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () =>
      new Promise<boolean | undefined>((resolve) => {
        const sock = net.connect(port, '127.0.0.1', () => (sock.destroy(), resolve(true)));
        sock.on('error', () => resolve(undefined));
      }),
    'the Portkey gateway to listen',
    20_000,
    100,
  );
  return { child, url };
}

/** Everything the benchmark runs against: mock, daemon + agent (a World), Portkey. */
export interface Bench {
  world: World;
  mockUrl: string;
  key: string;
  portkeyUrl: string;
  /** Two bare socket hops in front of the mock: the machine's floor for the relay's shape. */
  pipesUrl: string;
  leaseToken: string;
  /** How the apparatus's helper threads were lowered, if they were. */
  apparatusHelpers: ReturnType<typeof lowerHelperThreadsOf> | undefined;
  close(): Promise<void>;
}

/**
 * `apparatusHelpers: 'lowered'` (the default) puts the helper threads of the load generator,
 * the mock, Portkey and the bare hops out of the way (lowerHelperThreadsOf).
 */
export async function startBench(opts: { apparatusHelpers?: 'lowered' | 'default' } = {}): Promise<Bench> {
  const mock = await startMockProcess();
  let world: World | undefined;
  let portkey: { child: ChildProcess; url: string } | undefined;
  let pipes: { children: ChildProcess[]; url: string } | undefined;
  try {
    world = await World.start({ provider: mock });
    portkey = await startPortkey();
    pipes = await startPipes(mock.url, world.root);
    const token = await world.token('openai');
    if (token.code !== 0) throw new Error(`tether token failed: ${token.stderr}`);
    const started = world;
    const apparatus = [process.pid, ...treeOf(mock.child.pid!), portkey.child.pid!, ...pipes.children.map((c) => c.pid!)];
    const lowered = (opts.apparatusHelpers ?? 'lowered') === 'lowered' ? lowerHelperThreadsOf(apparatus) : undefined;
    return {
      apparatusHelpers: lowered,
      world: started,
      mockUrl: mock.url,
      key: mock.keys.openai,
      portkeyUrl: portkey.url,
      pipesUrl: pipes.url,
      leaseToken: token.stdout.trim(),
      close: async () => {
        for (const child of pipes?.children ?? []) await stop(child);
        await stop(portkey?.child);
        await started.dispose();
        await stop(mock.child);
      },
    };
  } catch (err) {
    for (const child of pipes?.children ?? []) await stop(child);
    await stop(portkey?.child);
    await world?.dispose();
    await stop(mock.child);
    throw err;
  }
}
