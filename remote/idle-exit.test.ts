import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleExit } from './idle-exit.js';

afterEach(() => vi.useRealTimers());

describe('IdleExit', () => {
  it('fires only after idleMs with no laptop connected', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const idle = new IdleExit(1000, fired);
    vi.advanceTimersByTime(900);
    idle.linkOpened();
    idle.linkOpened();
    vi.advanceTimersByTime(5000);
    idle.linkClosed();
    vi.advanceTimersByTime(5000);
    expect(fired).not.toHaveBeenCalled();
    idle.linkClosed();
    vi.advanceTimersByTime(999);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});
