// `tether agent --approve ask` in a real terminal (a pty from util-linux `script`): the prompt
// shows who asks, and a single key answers it.
import { afterEach, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { LAPTOP_BIN, SERVER_BIN } from './support/tether-process.js';
import { ExitCode } from '../remote/cli/exit-codes.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
let world: World | undefined;

afterEach(async () => {
  await retire(world);
  world = undefined;
});

it.skipIf(!hasScript)('answers approvals typed at the terminal prompt', async () => {
  world = await World.start({ noAgent: true });
  const code = await world.pairCode();
  const command = [process.execPath, LAPTOP_BIN, 'agent', '--connect', `unix:${world.state.socket}`, '--pair', code, '--approve', 'ask'].join(' ');
  const terminal = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, TETHER_HOME: world.laptopHome, TETHER_VAULT_PASSPHRASE: world.passphrase },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  terminal.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const waitScreen = async (pattern: RegExp) => {
    for (let i = 0; i < 400 && !pattern.test(screen); i++) await new Promise((r) => setTimeout(r, 25));
    expect(screen).toMatch(pattern);
  };
  try {
    await world.waitForLaptops(1);
    const ask = (provider: string) => {
      const child = spawn(process.execPath, [SERVER_BIN, 'token', provider], { env: { ...process.env, TETHER_HOME: world!.serverHome } });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      return new Promise<{ code: number | null; out: string; pid: number }>((resolve) => child.on('exit', (c) => resolve({ code: c, out, pid: child.pid! })));
    };

    const first = ask('openai');
    await waitScreen(/asks for openai[\s\S]*command .*token openai[\s\S]*\[o\] allow once/);
    terminal.stdin.write('o');
    const granted = await first;
    expect(granted.code).toBe(ExitCode.ok);
    world.tokens.add(granted.out.trim());
    expect(screen).toContain(`pid ${granted.pid}`);

    screen = '';
    const second = ask('anthropic');
    await waitScreen(/asks for anthropic/);
    terminal.stdin.write('d');
    expect((await second).code).toBe(ExitCode.denied);
  } finally {
    terminal.kill('SIGTERM');
    spawnSync('pkill', ['-TERM', '-f', `${LAPTOP_BIN} agent --connect unix:${world.state.socket}`]);
  }
});
