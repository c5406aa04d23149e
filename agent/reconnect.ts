import type { AgentErrorCode } from './errors.js';
import { AgentError } from './errors.js';

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": attempt n waits between half and all of
 * min(cap, base·2ⁿ), so many laptops coming back at once do not hit a server in step.
 */
export class Backoff {
  attempt = 0;
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 250;
    this.capMs = opts.capMs ?? 5000;
    this.random = opts.random ?? Math.random;
  }

  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

export type ReconnectState = 'CONNECTED' | 'WAITING' | 'CONNECTING' | 'STOPPED';

/** Refusals that another try cannot fix: a person has to act. */
const FATAL: AgentErrorCode[] = ['host-key-changed', 'host-key-unknown', 'tls-cert-changed', 'server-key-mismatch', 'unknown-server', 'bad-welcome', 'ssh-auth-failed', 'bad-url', 'ssh-option-unsupported', 'runtime-mismatch'];

/**
 * Keeps one server connected: after a link closes that nobody asked to close, retries with
 * backoff until it is back, a fatal refusal comes, or stop() is called.
 */
export class Reconnector {
  state: ReconnectState = 'CONNECTED';
  nextAt: number | undefined;
  lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly attempt: () => Promise<void>,
    private readonly backoff = new Backoff(),
    private readonly onGiveUp: (message: string) => void = () => {},
  ) {}

  /** The link went down: start retrying (no-op while an attempt is already under way). */
  linkClosed(why?: string): void {
    if (this.state !== 'CONNECTED') return;
    this.lastError = why;
    this.wait();
  }

  stop(): void {
    this.state = 'STOPPED';
    clearTimeout(this.timer);
    this.nextAt = undefined;
  }

  /** Attempts started since the link was lost (the tray shows it). */
  get attempts(): number {
    return this.backoff.attempt;
  }

  /** One line for `tether status`. */
  describe(now = Date.now()): string | undefined {
    if (this.state === 'WAITING' && this.nextAt !== undefined) {
      return `reconnecting: attempt ${this.backoff.attempt} in ${Math.max(0, (this.nextAt - now) / 1000).toFixed(1)} s${this.lastError ? ` (last: ${this.lastError})` : ''}`;
    }
    if (this.state === 'CONNECTING') return `reconnecting: attempt ${this.backoff.attempt} under way${this.lastError ? ` (last: ${this.lastError})` : ''}`;
    return undefined;
  }

  private wait(): void {
    const delay = this.backoff.next();
    this.state = 'WAITING';
    this.nextAt = Date.now() + delay;
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.state !== 'WAITING') return;
    this.state = 'CONNECTING';
    this.nextAt = undefined;
    try {
      await this.attempt();
      if (this.state !== 'CONNECTING') return;
      this.state = 'CONNECTED';
      this.lastError = undefined;
      this.backoff.reset();
    } catch (err) {
      if (this.state !== 'CONNECTING') return;
      this.lastError = err instanceof Error ? err.message : String(err);
      if (err instanceof AgentError && FATAL.includes(err.code)) {
        this.stop();
        this.onGiveUp(this.lastError);
        return;
      }
      this.wait();
    }
  }
}
