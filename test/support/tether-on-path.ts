import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { SERVER_BIN } from './tether-process.js';

/**
 * `tether` on PATH as on a server where the bundle is installed, for tools that run it
 * themselves (Claude Code's apiKeyHelper). It runs the real server bundle and passes its
 * output through unchanged; what `tether token` printed is also handed to the test over a
 * Unix socket (never a file), so the test knows every lease the tool got and how often the
 * tool ran its helper.
 */
export class TetherOnPath {
  readonly dir: string;
  /** Every lease `tether token` gave the tool, in order. */
  readonly leases: string[] = [];
  private readonly socket: string;
  private readonly server: net.Server;

  private constructor(root: string) {
    this.dir = join(root, 'bin');
    this.socket = join(root, 'seen.sock');
    this.server = net.createServer((conn) => {
      let text = '';
      conn.setEncoding('utf8').on('data', (d: string) => (text += d));
      conn.on('end', () => {
        if (text.trim()) this.leases.push(text.trim());
        conn.end();
      });
    });
  }

  static async start(root: string): Promise<TetherOnPath> {
    const path = new TetherOnPath(root);
    mkdirSync(path.dir, { recursive: true });
    const shim = join(path.dir, 'tether');
    writeFileSync(
      shim,
      `#!${process.execPath}
// Anything but \`token\` runs the bundle in this process, so \`setup\` names this file as the helper.
if (process.argv[2] !== 'token') return require(${JSON.stringify(SERVER_BIN)});
const { spawnSync } = require('node:child_process');
const r = spawnSync(process.execPath, [${JSON.stringify(SERVER_BIN)}, ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'] });
process.stdout.write(r.stdout);
const code = r.status ?? 1;
if (process.argv[2] !== 'token' || code !== 0) process.exit(code);
require('node:net').connect(${JSON.stringify(path.socket)}).on('close', () => process.exit(code)).end(r.stdout);
`,
    );
    chmodSync(shim, 0o755);
    await new Promise<void>((resolve, reject) => path.server.once('error', reject).listen(path.socket, resolve));
    return path;
  }

  /** PATH with this `tether` first. */
  get PATH(): string {
    return `${this.dir}:${process.env.PATH ?? ''}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
