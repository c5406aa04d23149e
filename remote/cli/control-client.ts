import fs from 'node:fs';
import http from 'node:http';
import { remotePaths, tetherHome } from '../paths.js';
import type { DaemonState } from '../daemon.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

/** A failure the CLI reports as one line and an exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function noDaemon(home: string): CliError {
  return new CliError(
    ExitCode.noLaptop,
    `no tether daemon is running under ${home}: start one with \`tether serve\` (the laptop's agent normally does this over SSH)`,
  );
}

/** A thin typed client of the daemon's control API, found through run/daemon.json. */
export class ControlClient {
  private constructor(
    readonly home: string,
    readonly state: DaemonState,
  ) {}

  static locate(home: string = tetherHome()): ControlClient {
    let state: DaemonState;
    try {
      state = JSON.parse(fs.readFileSync(remotePaths(home).daemonJson, 'utf8')) as DaemonState;
    } catch {
      throw noDaemon(home);
    }
    if (typeof state.proxyUrl !== 'string' || !/^http:\/\/127\.0\.0\.1:\d+$/.test(state.proxyUrl)) throw noDaemon(home);
    return new ControlClient(home, state);
  }

  /** Calls `/_tether/v1/<path>`; an `{error}` answer becomes a CliError with the mapped exit code. */
  async call<T>(method: 'GET' | 'POST', path: string, body?: object, timeoutMs?: number): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        `${this.state.proxyUrl}/_tether/v1/${path}`,
        {
          method,
          agent: false,
          headers: {
            'x-tether-pid': String(process.pid),
            ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(text);
    }).catch(() => {
      throw noDaemon(this.home);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      throw new CliError(ExitCode.usage, `the daemon at ${this.state.proxyUrl} answered ${answer.status} without JSON: is it a tether daemon?`);
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
    if (answer.status >= 400 || error) {
      const code = typeof error?.code === 'string' ? error.code : 'bad-request';
      const message = typeof error?.message === 'string' ? error.message : `the daemon answered ${answer.status}`;
      throw new CliError(exitCodeFor(code), message.replace(/^tether: /, ''));
    }
    return parsed as T;
  }
}
