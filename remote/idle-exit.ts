/**
 * Stops a daemon that has had no laptop connected for `idleMs`: a daemon started over SSH
 * must not outlive its use. Counting starts at once (a daemon nobody attaches to goes too).
 */
export class IdleExit {
  private connected = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.arm();
  }

  linkOpened(): void {
    this.connected += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  linkClosed(): void {
    this.connected = Math.max(0, this.connected - 1);
    if (this.connected === 0) this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onIdle, this.idleMs);
  }
}
