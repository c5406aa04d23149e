/**
 * `npm run bench:compare [-- REV] [--quick]`: `npm run bench` on this tree and on REV (default
 * HEAD~1) in one session, in turns (this, REV, this, REV with --rounds 2), so the machine's load
 * hits both alike; prints every measure side by side and writes bench/COMPARE.md.
 * Each tree runs its own bench/run.ts against its own dist/, so REV is measured as it shipped.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/support/tether-process.js';

/** Installed trees the baseline borrows instead of installing its own (same lockfiles, or close). */
const LINKED = ['node_modules', 'bench/node_modules', 'build/node-runtime-x64/node_modules'];

type Table = Map<string, { figure: string; mark: string }>;

/** The rows of the markdown table bench/run.ts prints: measure → figure and met/missed. */
export function parseTable(markdown: string): Table {
  const rows: Table = new Map();
  for (const line of markdown.split('\n')) {
    const cells = line.split(' | ');
    if (!line.startsWith('| ') || cells.length < 4 || line.startsWith('| measure') || line.startsWith('|---')) continue;
    const measure = cells[0]!.slice(2);
    rows.set(measure, { figure: cells[1]!, mark: cells[3]!.replace(/ \|$/, '').replace(/\*/g, '') });
  }
  return rows;
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} in ${cwd} exited ${code}`))));
  });
}

/** A detached worktree of REV beside the installed trees, built. */
function checkout(rev: string): { dir: string; commit: string; remove: () => void } {
  const commit = execFileSync('git', ['rev-parse', '--short', rev], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(mkdtempSync(join(os.tmpdir(), 'tether-bench-')), commit);
  execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: ROOT, stdio: 'ignore' });
  for (const sub of LINKED) if (existsSync(join(ROOT, sub))) symlinkSync(join(ROOT, sub), join(dir, sub));
  execFileSync(process.execPath, ['build/bundle.mjs'], { cwd: dir, stdio: 'inherit' });
  return {
    dir,
    commit,
    remove: () => {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
      rmSync(join(dir, '..'), { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { quick: { type: 'boolean' }, rounds: { type: 'string', default: '1' } }, allowPositionals: true });
  const rev = positionals[0] ?? 'HEAD~1';
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  const mine = `${head}${dirty ? '+changes' : ''}`;
  execFileSync(process.execPath, ['build/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const base = checkout(rev);
  const tables: { ours: Table[]; theirs: Table[] } = { ours: [], theirs: [] };
  const args = ['tsx', 'bench/run.ts', ...(values.quick ? ['--quick'] : [])];
  const started = new Date();
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      process.stderr.write(`\n== round ${round + 1}: this tree (${mine}) ==\n`);
      tables.ours.push(parseTable(await run('npx', args, ROOT)));
      process.stderr.write(`\n== round ${round + 1}: ${base.commit} ==\n`);
      tables.theirs.push(parseTable(await run('npx', args, base.dir)));
    }
  } finally {
    base.remove();
  }
  const measures = [...new Set([...tables.ours.flatMap((t) => [...t.keys()]), ...tables.theirs.flatMap((t) => [...t.keys()])])];
  const cell = (ts: Table[], m: string) =>
    ts
      .map((t) => t.get(m))
      .map((r) => (r ? `${r.figure}${r.mark ? ` (${r.mark})` : ''}` : '—'))
      .join('<br>');
  const lines = [
    '# `npm run bench`, this tree beside an earlier commit',
    '',
    `\`npm run bench:compare -- ${rev}${values.quick ? ' --quick' : ''}\` on ${started.toISOString()}: ${values.rounds} round(s), each tree's own bench/run.ts and dist/, in turns. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, 1-min load average ${os.loadavg()[0]!.toFixed(2)} at the end.`,
    '',
    `| measure | ${mine} | ${base.commit} |`,
    '|---|---|---|',
    ...measures.map((m) => `| ${m} | ${cell(tables.ours, m)} | ${cell(tables.theirs, m)} |`),
    '',
  ].join('\n');
  process.stdout.write(lines);
  writeFileSync(join(ROOT, 'bench/COMPARE.md'), lines);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:compare failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
