import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selfCommand, shellQuote } from './setup.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tt-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the helper command setup writes', () => {
  it('quotes any word so sh reads it back unchanged', () => {
    for (const word of ['/usr/bin/node', "/home/o'brien/.tether/bin/tether", '/srv/my tools/$HOME/`x`/"q"', "''", 'a\\b']) {
      const r = spawnSync('sh', ['-c', `printf '%s' ${shellQuote(word)}`], { encoding: 'utf8' });
      expect(r.stdout).toBe(word);
    }
  });

  it('names the node that runs and the bundle behind a link, by absolute paths', () => {
    const real = path.join(dir, "it's here", 'tether');
    mkdirSync(path.dirname(real));
    writeFileSync(real, '');
    mkdirSync(path.join(dir, 'bin'));
    symlinkSync(real, path.join(dir, 'bin', 'tether'));
    expect(selfCommand(path.join(dir, 'bin', 'tether'), '/opt/node 20/bin/node')).toBe(`'/opt/node 20/bin/node' '${dir}/it'\\''s here/tether'`);
  });

  it('names only the launcher a laptop installed beside the bundle: it picks the Node (a brought runtime may change)', () => {
    const bin = path.join(dir, 'home', '.tether', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'tether.cjs'), '');
    expect(selfCommand(path.join(bin, 'tether.cjs'), '/usr/bin/node')).toBe(`'/usr/bin/node' '${bin}/tether.cjs'`);
    writeFileSync(path.join(bin, 'tether'), '#!/bin/sh\n', { mode: 0o700 });
    expect(selfCommand(path.join(bin, 'tether.cjs'), '/usr/bin/node')).toBe(`'${bin}/tether'`);
  });
});
