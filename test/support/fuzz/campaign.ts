import { AgentTarget } from './agent-target.js';
import { DaemonTarget, newStats, type TargetStats } from './daemon-target.js';
import { Prng } from './prng.js';
import type { World } from '../world.js';

export interface CampaignOptions {
  seed: number;
  /** Frames in total, about half at the daemon and half at the agent. */
  frames: number;
  /** Called every `sampleEvery` frames (the soak samples memory and fds there). */
  onProgress?: (frames: number) => void | Promise<void>;
  sampleEvery?: number;
}

export interface CampaignResult {
  frames: number;
  ms: number;
  daemon: { stats: TargetStats };
  agent: AgentTarget;
}

/** Every this many links at the daemon, one fuzzes the handshake (each failure makes the next handshake wait 250 ms). */
const PRE_AUTH_EVERY = 100;
/** Every this many links at the daemon, one carries a live relay stream (a lease and a tool's request cost ~100 ms). */
const STREAM_EVERY = 8;
/** Hostile laptops at the daemon at once (the in-flight handshake limit per source is 4). */
const DAEMON_WORKERS = 3;

/**
 * Fuzzes the World's real daemon (as a hostile laptop) and a real agent of its own (from a
 * hostile daemon) at once, each from its own stream of the seed.
 */
export async function runCampaign(world: World, opts: CampaignOptions): Promise<CampaignResult> {
  const root = new Prng(opts.seed);
  const agentRng = root.fork();
  const daemonStats = newStats();
  const workers = Array.from({ length: DAEMON_WORKERS }, (_, i) => ({ target: new DaemonTarget(world, opts.seed, i, daemonStats), rng: root.fork() }));
  const agent = new AgentTarget(world, opts.seed);
  for (const w of workers) await w.target.pair();
  await agent.start();
  const started = Date.now();
  const share = Math.ceil(opts.frames / 2);
  const every = opts.sampleEvery ?? Infinity;
  let nextSample = every;
  const total = () => daemonStats.frames + agent.stats.frames;
  const progress = async () => {
    while (opts.onProgress && total() >= nextSample) {
      nextSample += every;
      await opts.onProgress(total());
    }
  };
  const daemonLoop = async ({ target, rng: workerRng }: (typeof workers)[number], worker: number) => {
    for (let round = 1; daemonStats.frames < share; round++) {
      const rng = workerRng.fork();
      // One worker fuzzes handshakes: each failure there delays every next handshake.
      if (worker === 0 && round % PRE_AUTH_EVERY === 0) await target.preAuth(rng, 20);
      else await target.link(rng, round % STREAM_EVERY === worker);
      await progress();
    }
  };
  const agentLoop = async () => {
    while (agent.stats.frames < share) {
      await agent.link(agentRng.fork());
      await progress();
    }
  };
  try {
    await Promise.all([...workers.map(daemonLoop), agentLoop()]);
  } catch (err) {
    await agent.stop().catch(() => {});
    throw err;
  }
  return { frames: total(), ms: Date.now() - started, daemon: { stats: daemonStats }, agent };
}
