import type { Agent } from '../agent.js';
import { LogindListener } from './logind.js';
import { SleepGuard } from './sleep-guard.js';
import { SleepDelayLock } from './sleep-lock.js';

/** Past this, sleep goes on without us: logind's own cap (InhibitDelayMaxSec) is 5 s by default. */
export const SLEEP_RELEASE_CAP_MS = 4000;

/**
 * `tether agent` on Linux: revoke and disconnect on logind's PrepareForSleep and session Lock,
 * reconnect on resume/unlock. While leases are out it holds a sleep delay lock, so sleep waits
 * until the daemons have the revocation; the lock is closed once they do, and taken again when
 * leases are out after wake. TETHER_LOGIND=off turns it all off. Returns the stop function.
 */
export async function watchPower(agent: Agent, env: NodeJS.ProcessEnv, log: (line: string) => void, platform: NodeJS.Platform = process.platform): Promise<() => void> {
  if (platform !== 'linux' || env.TETHER_LOGIND === 'off') return () => {};
  const guard = new SleepGuard(agent);
  guard.on('slept', (e) => log(`${e.trigger}: revoked ${e.leases} lease(s) and disconnected ${e.servers.join(', ') || 'nothing'}`));
  guard.on('woke', (e) => {
    if (e.reconnected.length) log(`${e.trigger}: reconnected ${e.reconnected.join(', ')}`);
    for (const f of e.failed) log(`${e.trigger}: cannot reconnect ${f.server}: ${f.message}`);
  });
  let lockFailure: string | undefined;
  const lock = new SleepDelayLock(env, (why) => {
    if (why !== lockFailure) log(`logind: cannot delay sleep (${why}); leases are still revoked on sleep, without waiting for the servers`);
    lockFailure = why;
  });
  // Between PrepareForSleep(true) and (false) the sleep path owns the lock: revoking empties the
  // lease count, and following it then would release before the daemons had the revocation.
  let suspending = false;
  let watching = false;
  const followLeases = () => {
    if (!watching || suspending) return;
    void (agent.leaseCount() > 0 ? lock.hold() : lock.release());
  };
  agent.on('activity', followLeases);
  agent.on('link', followLeases);

  const logind = new LogindListener(env);
  let reason: string | undefined;
  logind.on('state', (state, why) => {
    reason = why;
    if (state === 'STOPPED' && why && watching) log(`logind: stopped watching (${why}); leases are no longer revoked on sleep`);
  });
  logind.on('event', (e) => {
    const report = (err: unknown) => log(`${e}: ${err instanceof Error ? err.message : String(err)}`);
    if (e === 'suspend') {
      suspending = true;
      const revoked = guard.sleep(e);
      // Released once every daemon closed its link (it revoked as it read our bye), or at the cap.
      void Promise.race([revoked, new Promise((r) => setTimeout(r, SLEEP_RELEASE_CAP_MS).unref())])
        .catch(report)
        .then(() => lock.release());
      return;
    }
    if (e === 'resume') suspending = false;
    void guard.handle(e).then(followLeases, report);
  });
  const state = await logind.start();
  watching = state === 'WATCHING';
  log(watching ? 'logind: leases are revoked on sleep and screen lock' : `logind: not watching sleep and lock (${reason ?? 'unavailable'})`);
  followLeases();
  return () => {
    watching = false;
    agent.off('activity', followLeases);
    agent.off('link', followLeases);
    logind.stop();
    void lock.release();
  };
}
