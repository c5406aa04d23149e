import { afterEach } from 'vitest';
import type { DaemonOptions } from '../daemon.js';
import type { FakeLaptop } from './fake-laptop.js';
import { startDaemon, type Started } from './harness.js';

/** A daemon per test and the fake laptops a test connects to it, all closed after each test. */
export interface DaemonScene {
  /** Starts this test's daemon in a fresh temp home. */
  start(opts?: Partial<DaemonOptions>): Promise<Started>;
  /** The daemon this test started last; throws when it started none. */
  readonly started: Started;
  /** Laptops to close after the test, before the daemon stops. */
  readonly laptops: FakeLaptop[];
}

/**
 * Registers the teardown in the calling file (call it at the top level). Kept apart from
 * harness.ts, which imports no vitest and so loads anywhere.
 */
export function daemonPerTest(): DaemonScene {
  const daemons: Started[] = [];
  const laptops: FakeLaptop[] = [];
  afterEach(async () => {
    for (const l of laptops.splice(0)) l.close();
    for (const s of daemons.splice(0)) await s.stop();
  });
  return {
    async start(opts = {}) {
      const started = await startDaemon(opts);
      daemons.push(started);
      return started;
    },
    get started() {
      const last = daemons.at(-1);
      if (!last) throw new Error('this test started no daemon (scene.start first)');
      return last;
    },
    laptops,
  };
}
