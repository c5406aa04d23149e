import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export type SleepLockState = 'RELEASED' | 'TAKING' | 'HELD';

/** What logind is told, and shows in `systemd-inhibit --list`. */
export const SLEEP_LOCK = { what: 'sleep', who: 'Tether', why: 'revoke leases before sleep', mode: 'delay' } as const;

/**
 * logind's delay inhibitor for sleep (Manager.Inhibit → a file descriptor; sleep waits, up to
 * logind's InhibitDelayMaxSec, until every such fd is closed). Node cannot receive a Unix fd over
 * D-Bus, so a `systemd-inhibit` child takes the lock and holds it for as long as it lives: it runs
 * `cat` on a pipe from us, so the lock also goes when this process dies, however it dies. Honours
 * DBUS_SYSTEM_BUS_ADDRESS (sd-bus does), which is how the tests point it at their own logind.
 */
export class SleepDelayLock {
  state: SleepLockState = 'RELEASED';
  /** Set once the lock cannot be had here (no systemd-inhibit): no point asking again. */
  unavailable: string | undefined;
  private child: ChildProcess | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** One line when taking the lock failed, with why. */
    private readonly onFailure: (reason: string) => void,
  ) {}

  /** Takes the lock unless held; resolves true once logind granted it. */
  hold(): Promise<boolean> {
    return this.serially(() => (this.state === 'HELD' ? Promise.resolve(true) : this.take()));
  }

  /** Closes the lock (the child exits, its fd with it); resolves once it is gone. */
  release(): Promise<void> {
    return this.serially(async () => {
      const child = this.child;
      if (!child) return;
      this.child = undefined;
      this.state = 'RELEASED';
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    });
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private take(): Promise<boolean> {
    if (this.unavailable) return Promise.resolve(false);
    this.state = 'TAKING';
    const args = [`--what=${SLEEP_LOCK.what}`, `--who=${SLEEP_LOCK.who}`, `--why=${SLEEP_LOCK.why}`, `--mode=${SLEEP_LOCK.mode}`, 'sh', '-c', 'echo locked && exec cat'];
    const child = spawn('systemd-inhibit', args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    return new Promise<boolean>((resolve) => {
      let failed = false;
      const fail = (reason: string) => {
        if (failed) return;
        failed = true;
        if (this.child === child) {
          this.child = undefined;
          this.state = 'RELEASED';
        }
        this.onFailure(reason);
        resolve(false);
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') this.unavailable = 'systemd-inhibit is not installed (Debian: systemd)';
        fail(this.unavailable ?? err.message);
      });
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        if (line !== 'locked') return;
        this.state = 'HELD';
        resolve(true);
      });
      child.once('exit', (code, signal) => {
        lines.close();
        // Exited before `locked`: logind (or polkit) said no. After it: released, by us or by logind going away.
        if (this.state === 'TAKING' && this.child === child) fail(stderr.trim().split('\n')[0] || `systemd-inhibit exited with ${code ?? signal}`);
        else if (this.child === child) {
          this.child = undefined;
          this.state = 'RELEASED';
        }
      });
    });
  }
}
