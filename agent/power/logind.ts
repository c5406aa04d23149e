import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { PowerEvent } from './sleep-guard.js';

export const LOGIND_NAME = 'org.freedesktop.login1';

/**
 * One line of `gdbus monitor --dest org.freedesktop.login1` → a power event, or nothing.
 * gdbus subscribes with sender=org.freedesktop.login1, so only logind itself (the name's owner
 * on the system bus) can make these lines appear; another process emitting a look-alike
 * signal is not delivered to us.
 */
export function parseLogindLine(line: string): PowerEvent | undefined {
  const m = /^(\/org\/freedesktop\/login1\S*): org\.freedesktop\.login1\.(Manager\.PrepareForSleep|Session\.Lock|Session\.Unlock) \((.*)\)$/.exec(line.trim());
  if (!m) return undefined;
  if (m[2] === 'Session.Lock') return 'lock';
  if (m[2] === 'Session.Unlock') return 'unlock';
  if (m[3] === 'true,') return 'suspend';
  if (m[3] === 'false,') return 'resume';
  return undefined;
}

export type LogindState = 'STARTING' | 'WATCHING' | 'STOPPED';

export interface LogindEvents {
  event: [PowerEvent];
  state: [LogindState, string | undefined];
}

/**
 * Headless Linux: follows logind's PrepareForSleep and session Lock/Unlock on the system bus
 * through `gdbus monitor` (libglib2.0-bin; no D-Bus library in our dependencies). Honours
 * DBUS_SYSTEM_BUS_ADDRESS like every D-Bus client, which is how the tests point it at their
 * own dbus-daemon. No gdbus or no system bus: STOPPED with a reason, and the agent goes on.
 */
export class LogindListener extends EventEmitter<LogindEvents> {
  state: LogindState = 'STARTING';
  private child: ChildProcess | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    super();
  }

  /** Resolves once gdbus is watching the bus (or has failed: see `state`). */
  start(): Promise<LogindState> {
    return new Promise((resolve) => {
      const child = spawn('gdbus', ['monitor', '--system', '--dest', LOGIND_NAME], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d).length > 2000 && (stderr = stderr.slice(-1000)));
      child.on('error', (err: NodeJS.ErrnoException) => {
        this.stop(err.code === 'ENOENT' ? 'gdbus is not installed (Debian: libglib2.0-bin)' : err.message);
        resolve(this.state);
      });
      child.on('exit', () => {
        this.stop(stderr.trim().split('\n')[0] || 'gdbus monitor exited');
        resolve(this.state);
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        // gdbus prints this header once its match rule is in place: from here no signal is missed.
        if (this.state === 'STARTING' && line.startsWith('Monitoring signals')) {
          this.setState('WATCHING');
          resolve(this.state);
          return;
        }
        const event = parseLogindLine(line);
        if (event) this.emit('event', event);
      });
    });
  }

  stop(reason?: string): void {
    if (this.state === 'STOPPED') return;
    this.child?.kill();
    this.setState('STOPPED', reason);
  }

  private setState(state: LogindState, reason?: string): void {
    this.state = state;
    this.emit('state', state, reason);
  }
}
