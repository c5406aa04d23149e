// authorized_agents.json: laptops attaching at the same moment (separate `tether attach`
// processes) must all end up authorized.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthorizedAgents } from './identity.js';

const dir = mkdtempSync(join(tmpdir(), 'tt-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AuthorizedAgents', () => {
  it('keeps every key when processes add at once', async () => {
    const file = join(dir, 'daemon', 'authorized_agents.json');
    const module = pathToFileURL(join(import.meta.dirname, 'identity.ts')).href;
    const writers = Array.from({ length: 6 }, (_, w) => {
      const code = `const { AuthorizedAgents } = await import(${JSON.stringify(module)});
        const a = new AuthorizedAgents(${JSON.stringify(file)});
        for (let i = 0; i < 15; i++) a.add(Buffer.alloc(32, ${w} * 16 + i).toString('base64'), 'laptop-${w}-' + i);`;
      return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
    });
    const codes = await Promise.all(writers.map(async (c) => (await once(c, 'exit'))[0]));
    expect(codes).toEqual(writers.map(() => 0));
    expect(new AuthorizedAgents(file).list()).toHaveLength(6 * 15);
  }, 60_000);
});
