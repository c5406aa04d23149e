import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { SERVER_BIN, SERVER_NODE } from './tether-process.js';

export interface ProbeAnswer {
  status: number;
  message: string;
  ms: number;
}

/**
 * `tether exec -- node PROBE` on the server, kept running: each `ask()` makes the same child
 * send one request through the proxy and resolves with what it got.
 */
export class ExecChild {
  readonly process: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';

  constructor(serverHome: string, args: string[], probe: string) {
    this.process = spawn(SERVER_NODE, [SERVER_BIN, 'exec', ...args, '--', process.execPath, probe], {
      env: { ...process.env, TETHER_HOME: serverHome },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.lines = createInterface({ input: this.process.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  async ask(timeoutMs = 10_000): Promise<ProbeAnswer> {
    const line = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from the exec child in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
    this.process.stdin.write('go\n');
    return JSON.parse(await line) as ProbeAnswer;
  }

  /** Ends the child (stdin closed); resolves with the exec's exit code. */
  async end(): Promise<number | null> {
    if (this.process.exitCode !== null) return this.process.exitCode;
    const exit = once(this.process, 'exit');
    this.process.stdin.end();
    const [code] = (await exit) as [number | null];
    return code;
  }
}
