// The boot conversation against the real boot script, run by a real sh on this machine (no
// ssh in between): probe, upload only what differs, attach, and hand the rest of the stream
// over untouched. A stand-in bundle plays `tether attach --stdio`: it prints an answer, then echoes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootScript } from './boot-script.js';
import { runBoot, type BootOutcome } from './boot-session.js';

const KEY = 'A'.repeat(43);
const ANSWER = { serverId: 'srv_abcdefghijklmnop', serverKey: KEY, fingerprint: 'x', socket: '/tmp/d.sock', pid: 1, started: true };
// What `attach --stdio` does, minus the daemon: one JSON line, then bytes both ways.
const STAND_IN = `process.stdout.write(${JSON.stringify(JSON.stringify(ANSWER))} + "\\n" + "after-attach:" + process.argv.slice(2).join(" ") + "\\n"); process.stdin.pipe(process.stdout);`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-boot-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function bundle(text = STAND_IN) {
  const bytes = Buffer.from(text);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function boot(opts: { chatter?: string } = {}): Promise<{ outcome: BootOutcome; echo: (s: string) => Promise<string>; end: () => void }> {
  const script = bootScript({ remoteHome: join(dir, 'home'), runtimeVersion: 'v0.0.0', minNodeMajor: 18, attachArgs: ['attach', '--agent-key=-k'] });
  // sshd hands the command to the login shell, which may print first (a chatty ~/.bashrc).
  const child = spawn('sh', ['-c', `${opts.chatter ? `echo '${opts.chatter}'; ` : ''}${script}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const outcome = await runBoot(child.stdout, child.stdin, { alias: 'box', bundle: bundle(), minNodeMajor: 18 });
  if (outcome.rest.length) child.stdout.unshift(outcome.rest);
  const echo = (s: string) =>
    new Promise<string>((resolve) => {
      let got = '';
      const onData = (d: Buffer) => {
        got += d.toString();
        if (got.includes(s)) {
          child.stdout.off('data', onData);
          resolve(got);
        }
      };
      child.stdout.on('data', onData);
      child.stdout.resume(); // runBoot left it paused, as the link's Duplex expects
      child.stdin.write(s);
    });
  return { outcome, echo, end: () => child.stdin.end() };
}

describe('boot conversation (real sh, stand-in bundle)', () => {
  it('uploads the bundle when missing, attaches, then carries bytes; the next boot uploads nothing', async () => {
    const first = await boot({ chatter: 'Welcome to the cluster!' });
    expect(first.outcome.uploadedBundle).toBe(true);
    expect(first.outcome.answer.serverKey).toBe(KEY);
    expect(first.outcome.probe.node).toMatch(/^v\d+\./);
    const file = join(dir, 'home/bin/tether.cjs');
    expect(statSync(file).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toBe(STAND_IN);
    // What came right after the answer line is kept for the link, and the stream still flows.
    expect(await first.echo('ping\n')).toMatch(/after-attach:attach --agent-key=-k --stdio\n(.|\n)*ping/);
    first.end();

    const ino = statSync(file).ino;
    const second = await boot();
    expect(second.outcome.uploadedBundle).toBe(false);
    expect(statSync(file).ino).toBe(ino);
    second.end();
  });

  it('replaces a bundle that differs, atomically (no temp file left)', async () => {
    mkdirSync(join(dir, 'home/bin'), { recursive: true });
    writeFileSync(join(dir, 'home/bin/tether.cjs'), 'old');
    const run = await boot();
    expect(run.outcome.uploadedBundle).toBe(true);
    expect(readFileSync(join(dir, 'home/bin/tether.cjs'), 'utf8')).toBe(STAND_IN);
    expect(readFileSync(join(dir, 'home/bin/tether.cjs'), 'utf8')).not.toContain('.tmp');
    run.end();
  });
});
