/**
 * `tether token` (auto-approve) as a whole process, as a tool's key helper runs it, beside
 * `node -e 0`, taking turns in one run. `npm run bench:token` runs it alone and writes its
 * section of bench/RESULTS.md; `--baseline PATH` adds another server bundle (e.g. the previous
 * commit's dist/remote/tether.cjs) to the same turns.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ROOT, SERVER_BIN } from '../test/support/tether-process.js';
import { World } from '../test/support/world.js';
import { ms, ratio, summarize, type Summary } from './stats.js';

/** The bound bench/RESULTS.md holds the token run to, against `node -e 0`. */
export const TOKEN_RATIO_TARGET = 1.4;
export const TOKEN_SECTION_TITLE = '## `tether token` as a whole process';

async function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}`);
  return performance.now() - t0;
}

/** p50/p99 per program: `node -e 0`, then `tether token openai` with each bundle, in turns. */
export async function tokenProcess(world: World, samples: number, bins: string[] = [SERVER_BIN]): Promise<{ node: Summary; token: Summary[] }> {
  const env = { ...process.env, TETHER_HOME: world.serverHome };
  const node: number[] = [];
  const token: number[][] = bins.map(() => []);
  for (let i = 0; i < samples + 3; i++) {
    const b = await timeProcess(['-e', '0'], env);
    const a = [];
    for (const bin of bins) a.push(await timeProcess([bin, 'token', 'openai'], env));
    if (i < 3) continue; // warm-up: file caches
    node.push(b);
    a.forEach((t, j) => token[j]!.push(t));
  }
  return { node: summarize(node), token: token.map(summarize) };
}

const kb = (path: string): string => `${(statSync(path).size / 1024).toFixed(0)} KB`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { baseline: { type: 'string' }, samples: { type: 'string', default: '30' } } });
  const bins = [SERVER_BIN, ...(values.baseline ? [values.baseline] : [])];
  const world = await World.start();
  let result: Awaited<ReturnType<typeof tokenProcess>>;
  const load = os.loadavg()[0]!.toFixed(2);
  try {
    result = await tokenProcess(world, Number(values.samples), bins);
  } finally {
    await world.dispose();
  }
  const lines = bins.map((bin, j) => {
    const t = result.token[j]!;
    const name = j === 0 ? 'this bundle' : `baseline ${values.baseline}`;
    const ok = j === 0 ? (t.p50 <= TOKEN_RATIO_TARGET * result.node.p50 ? 'met' : '**missed**') : '';
    return `| \`tether token\` (auto-approve), ${name} (${kb(bin)}) vs \`node -e 0\` | p50 ${ms(t.p50, 1)} vs ${ms(result.node.p50, 1)}: ${ratio(t.p50, result.node.p50)}; p99 ${ms(t.p99, 1)} vs ${ms(result.node.p99, 1)} | ${j === 0 ? `≤ ${TOKEN_RATIO_TARGET}× p50` : ''} | ${ok} |`;
  });
  const section = [
    `${TOKEN_SECTION_TITLE} (\`npm run bench:token\`)`,
    '',
    `Latest: ${new Date().toISOString()}, Node ${process.version}, ${result.node.n} turns after 3 warm-ups; 1-min load average ${load} at the start.`,
    'Each turn runs `node -e 0`, then `tether token openai` against a live daemon and agent (auto-approve), so machine load hits both alike.',
    '',
    '| measure | figure | target | |',
    '|---|---|---|---|',
    ...lines,
    '',
  ].join('\n');
  process.stdout.write(section);
  const file = join(ROOT, 'bench/RESULTS.md');
  const old = readFileSync(file, 'utf8');
  const start = old.indexOf(TOKEN_SECTION_TITLE);
  writeFileSync(file, (start >= 0 ? old.slice(0, start).trimEnd() + '\n\n' : old.trimEnd() + '\n\n') + section);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
