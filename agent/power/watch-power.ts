import type { Agent } from '../agent.js';
import { LogindListener } from './logind.js';
import { SleepGuard } from './sleep-guard.js';

/**
 * `tether agent` on Linux: revoke and disconnect on logind's PrepareForSleep and session Lock,
 * reconnect on resume/unlock. TETHER_LOGIND=off turns it off. Returns the stop function.
 */
export async function watchPower(agent: Agent, env: NodeJS.ProcessEnv, log: (line: string) => void, platform: NodeJS.Platform = process.platform): Promise<() => void> {
  if (platform !== 'linux' || env.TETHER_LOGIND === 'off') return () => {};
  const guard = new SleepGuard(agent);
  guard.on('slept', (e) => log(`${e.trigger}: revoked ${e.leases} lease(s) and disconnected ${e.servers.join(', ') || 'nothing'}`));
  guard.on('woke', (e) => {
    if (e.reconnected.length) log(`${e.trigger}: reconnected ${e.reconnected.join(', ')}`);
    for (const f of e.failed) log(`${e.trigger}: cannot reconnect ${f.server}: ${f.message}`);
  });
  const logind = new LogindListener(env);
  let reason: string | undefined;
  logind.on('state', (state, why) => {
    reason = why;
    if (state === 'STOPPED' && why && watching) log(`logind: stopped watching (${why}); leases are no longer revoked on sleep`);
  });
  logind.on('event', (e) => void guard.handle(e).catch((err: unknown) => log(`${e}: ${err instanceof Error ? err.message : String(err)}`)));
  let watching = false;
  const state = await logind.start();
  watching = state === 'WATCHING';
  log(watching ? 'logind: leases are revoked on sleep and screen lock' : `logind: not watching sleep and lock (${reason ?? 'unavailable'})`);
  return () => {
    watching = false;
    logind.stop();
  };
}
