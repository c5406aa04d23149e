/**
 * `npm run bench:ssh`: how long a connect to an installed server takes over each SSH
 * transport, next to a plain `ssh ALIAS true` in the same run (real sshd on loopback).
 * A connect is login + probe + attach + the protocol handshake, until the link is READY.
 * Rounds take the three in turn; each connect uses a Host alias of its own, so neither
 * transport can reuse what an earlier connect learned. Prints medians and ratios.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../agent/agent.js';
import { ApprovalPolicy } from '../agent/approvals.js';
import { memoryStores } from '../agent/testing/temp.js';
import { SshWorld } from '../test/support/ssh-world.js';
import { ROOT } from '../test/support/tether-process.js';
import { ratio } from './stats.js';

const ROUNDS = process.argv.includes('--quick') ? 5 : 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function sshTrue(binary: string, alias: string, env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-o', 'BatchMode=yes', alias, 'true'], { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`ssh ${alias} true exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const w = await SshWorld.create();
  try {
    const box = await w.sshd('box');
    w.trust(box);
    const aliases = Array.from({ length: ROUNDS * 2 + 1 }, (_, i) => `box${i}`);
    w.writeConfig(aliases.map((alias) => ({ alias, sshd: box })));
    const env = { ...process.env, ...w.env };
    const { open } = memoryStores();
    const agent = createAgent({ home: w.world.laptopHome, policy: ApprovalPolicy.parse('allow'), approvalTimeoutMs: 5000, leaseTtlMs: 60_000, openStore: open, identityStore: 'memory', name: 'bench', env, reconnect: false, notice: (l) => process.stderr.write(`NOTICE ${l}\n`) });
    const connect = async (alias: string, ssh: 'openssh' | 'builtin') => {
      const started = performance.now();
      const session = await createAgentConnect(agent, alias, ssh);
      const took = performance.now() - started;
      await agent.disconnect(session);
      return took;
    };
    // Install once (bundle upload, daemon start), warm both transports.
    await connect(aliases[0]!, 'openssh');
    await connect(aliases[0]!, 'builtin');
    const times = { ssh: [] as number[], openssh: [] as number[], builtin: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      times.ssh.push(await sshTrue(w.sshWrapper, aliases[1]!, env));
      times.openssh.push(await connect(aliases[1 + 2 * i]!, 'openssh'));
      times.builtin.push(await connect(aliases[2 + 2 * i]!, 'builtin'));
    }
    await agent.close();
    if (process.env.TETHER_BENCH_VERBOSE) process.stderr.write(`${JSON.stringify(times)}\n`);
    const ssh = median(times.ssh);
    const lines = [
      `| what | median | vs \`ssh ALIAS true\` |`,
      `|---|---|---|`,
      `| \`ssh ALIAS true\` | ${ssh.toFixed(0)} ms | 1.00× |`,
      `| connect, OpenSSH transport | ${median(times.openssh).toFixed(0)} ms | ${ratio(median(times.openssh), ssh)} (goal ≤ 1.5×) |`,
      `| connect, built-in transport | ${median(times.builtin).toFixed(0)} ms | ${ratio(median(times.builtin), ssh)} |`,
    ];
    const header = `SSH connect time to an installed server, ${ROUNDS} rounds, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os.loadavg()[0]!.toFixed(2)}, ${new Date().toISOString().slice(0, 10)}`;
    process.stdout.write(`${header}\n\n${lines.join('\n')}\n`);
    if (!process.argv.includes('--quick')) writeFileSync(join(ROOT, 'bench/RESULTS-ssh.md'), `# ${header}\n\n${lines.join('\n')}\n\n\`npm run bench:ssh\` (bench/ssh-connect.ts).\n`);
  } finally {
    w.stopServerDaemon();
    await w.dispose();
  }
}

async function createAgentConnect(agent: ReturnType<typeof createAgent>, alias: string, ssh: 'openssh' | 'builtin'): Promise<string> {
  const session = await agent.connect(alias, { ssh });
  return session.server;
}

await main();
