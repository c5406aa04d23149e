// Every command of both CLIs answers --help (and -h) with its own usage on stdout and exit 0,
// in the laptop bin and in the server bundle as they are built.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { AGENT_COMMANDS } from '../agent/cli/main.js';
import { REMOTE_COMMANDS, asksForHelp } from '../remote/cli/main.js';
import { removeDir, tempDir } from './support/homes.js';
import { LAPTOP_BIN, SERVER_BIN } from './support/tether-process.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], home: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, HOME: home, TETHER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const LAPTOP_COMMANDS = [...new Set([...AGENT_COMMANDS, ...REMOTE_COMMANDS])];

async function expectUsage(bin: string, commands: readonly string[], forms: (c: string) => string[][]): Promise<void> {
  const home = tempDir('help');
  try {
    const runs = commands.flatMap((command) => forms(command).map(async (args) => ({ command, args, r: await run(bin, args, home) })));
    for (const { command, args, r } of await Promise.all(runs)) {
      const what = `tether ${args.join(' ')}`;
      expect(r.stderr, what).toBe('');
      expect(r.code, what).toBe(0);
      expect(r.stdout, what).toMatch(new RegExp(`^usage:\\n  tether ${command}( |\\n|$)`));
    }
  } finally {
    removeDir(home);
  }
}

describe('COMMAND --help', () => {
  it('prints the usage of every laptop bin command and exits 0', async () => {
    await expectUsage(LAPTOP_BIN, LAPTOP_COMMANDS, (c) => [[c, '--help'], [c, '-h'], ['help', c]]);
  });

  it('prints the usage of every server bundle command and exits 0', async () => {
    await expectUsage(SERVER_BIN, REMOTE_COMMANDS, (c) => [[c, '--help'], [c, '-h'], ['help', c]]);
  });

  it('answers help on a subcommand line with the command usage', async () => {
    await expectUsage(LAPTOP_BIN, ['creds', 'servers'], (c) => [[c, 'add', '--help'], [c, 'list', '-h']]);
    await expectUsage(LAPTOP_BIN, ['setup', 'token', 'exec'], (c) => [[c, 'claude-code', '--help'], [c, 'openai', '--json', '--help']]);
  });

  it('leaves a --help after exec\'s -- to the command it runs', () => {
    expect(asksForHelp(['--provider', 'openai', '--', 'python', '--help'])).toBe(false);
    expect(asksForHelp(['--help', '--', 'python'])).toBe(true);
  });

  it('says an unknown option in one line naming the command, without parseArgs\' advice', async () => {
    const home = tempDir('help');
    try {
      for (const bin of [LAPTOP_BIN, SERVER_BIN]) {
        for (const command of ['serve', 'token', 'setup']) {
          const r = await run(bin, [command, '--bogus'], home);
          expect(r.code).toBe(1);
          expect(r.stderr).toBe(`tether ${command}: unknown option --bogus (see \`tether ${command} --help\`)\n`);
        }
      }
      const positional = await run(SERVER_BIN, ['status', 'extra'], home);
      expect(positional.code).toBe(1);
      expect(positional.stderr).toBe("tether status: Unexpected argument 'extra' (see `tether status --help`)\n");
    } finally {
      removeDir(home);
    }
  });
});
