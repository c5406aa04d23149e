/**
 * Fires once when nothing has been seen for `limitMs`. `touch()` is on the hot path (every
 * frame), so it only records a time; the single timer re-arms itself lazily.
 */
export class DeadManTimer {
  private lastSeen: number;
  private timer: NodeJS.Timeout | undefined;
  private state: 'ARMED' | 'FIRED' | 'STOPPED' = 'ARMED';

  constructor(
    private readonly limitMs: number,
    private readonly onFire: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSeen = now();
    this.arm(limitMs);
  }

  touch(): void {
    this.lastSeen = this.now();
  }

  stop(): void {
    this.state = 'STOPPED';
    clearTimeout(this.timer);
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.check(), delay);
    this.timer.unref();
  }

  private check(): void {
    if (this.state !== 'ARMED') return;
    const silent = this.now() - this.lastSeen;
    if (silent < this.limitMs) {
      this.arm(this.limitMs - silent);
      return;
    }
    this.state = 'FIRED';
    this.onFire();
  }
}
