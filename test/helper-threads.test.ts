// protocol/node/helper-threads.ts (the daemon's and the agent's), run in a fresh process of its own.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPER_NICE } from '../protocol/node/helper-threads.js';
import { ROOT } from './support/tether-process.js';

// Not in the test runner: lowering its threads would slow the rest of the suite.
function runInChild(module: string): { lowered: number; threads: { tid: number; nice: number }[]; pid: number } {
  const code = `
    const { lowerHelperThreadPriority } = await import(${JSON.stringify(join(ROOT, module))});
    const { threadNice } = await import(${JSON.stringify(join(ROOT, 'test/support/thread-nice.ts'))});
    const lowered = lowerHelperThreadPriority();
    process.stdout.write(JSON.stringify({ lowered, threads: threadNice(process.pid), pid: process.pid }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as { lowered: number; threads: { tid: number; nice: number }[]; pid: number };
}

describe.runIf(process.platform === 'linux')('lowerHelperThreadPriority', () => {
  it('every thread but the event loop goes to nice 19', () => {
    const { lowered, threads, pid } = runInChild('protocol/node/helper-threads.ts');
    const main = threads.find((t) => t.tid === pid);
    const helpers = threads.filter((t) => t.tid !== pid);
    expect(main?.nice).toBe(0);
    // V8 starts its platform threads before any script runs.
    expect(helpers.length).toBeGreaterThanOrEqual(4);
    expect(lowered).toBe(helpers.length);
    expect(helpers.every((t) => t.nice === HELPER_NICE)).toBe(true);
  });
});
