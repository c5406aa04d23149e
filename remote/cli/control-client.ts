import fs from 'node:fs';
import http from 'node:http';
import { remotePaths, tetherHome } from '../paths.js';
import type { DaemonState } from '../daemon.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { DAEMON_CONTROL_HEADER, DAEMON_CONTROL_ROUTES, DAEMON_CONTROL_VERSION, leaseCallToV1, type DaemonControlCall } from '../../protocol/daemon-control.js';
import type { DaemonControlRequest, DaemonControlResponse } from '../../protocol/daemon-control-schemas.js';

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

/** Checks an answer's shape: the answer, or undefined when it is not that call's answer. */
export type AnswerCheck<T> = (json: unknown) => T | undefined;

/**
 * The typed client of the daemon's control API (protocol/daemon-control.ts), found through
 * run/daemon.json. No zod on this path (`tether token`): callers pass the answer's check.
 */
export class DaemonControlClient {
  private constructor(
    readonly home: string,
    readonly state: DaemonState,
  ) {}

  static locate(home: string = tetherHome()): DaemonControlClient {
    let state: DaemonState;
    try {
      state = JSON.parse(fs.readFileSync(remotePaths(home).daemonJson, 'utf8')) as DaemonState;
    } catch {
      throw noDaemon(home);
    }
    if (typeof state.proxyUrl !== 'string' || !/^http:\/\/127\.0\.0\.1:\d+$/.test(state.proxyUrl)) throw noDaemon(home);
    return new DaemonControlClient(home, state);
  }

  /** The newest version both speak: the daemon wrote its own in daemon.json; daemons before the field speak v1. */
  get version(): number {
    const v = this.state.controlVersion;
    return typeof v === 'number' && v >= 2 ? Math.min(v, DAEMON_CONTROL_VERSION) : 1;
  }

  /** One call; a refusal becomes a CliError with the refusal's exit code. */
  async call<C extends DaemonControlCall>(name: C, request: DaemonControlRequest<C>, check: AnswerCheck<DaemonControlResponse<C>>, timeoutMs?: number): Promise<DaemonControlResponse<C>> {
    const route = DAEMON_CONTROL_ROUTES[name];
    let body: Record<string, unknown> | undefined = route.method === 'GET' ? undefined : (request as Record<string, unknown>);
    if (name === 'lease' && body && this.version === 1) body = leaseCallToV1(body);
    const answer = await this.send(route.method, route.path, body, timeoutMs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      throw new CliError(ExitCode.usage, `the daemon at ${this.state.proxyUrl} answered ${answer.status} without JSON: is it a tether daemon?`);
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (answer.status >= 400 || error) {
      const code = typeof error?.code === 'string' ? error.code : 'bad-request';
      const message = typeof error?.message === 'string' ? error.message : `the daemon answered ${answer.status}`;
      throw new CliError(exitCodeFor(code), message.replace(/^tether: /, ''));
    }
    const checked = check(parsed);
    if (checked === undefined) throw new CliError(ExitCode.usage, `the daemon at ${this.state.proxyUrl} answered ${name} in a shape this CLI does not know: run the same tether bundle for both`);
    return checked;
  }

  private send(method: string, path: string, body: object | undefined, timeoutMs: number | undefined): Promise<{ status: number; text: string }> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        `${this.state.proxyUrl}${path}`,
        {
          method,
          agent: false,
          headers: {
            'x-tether-pid': String(process.pid),
            ...(this.version >= 2 ? { [DAEMON_CONTROL_HEADER]: String(this.version) } : {}),
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
  }
}
