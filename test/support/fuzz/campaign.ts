import { AgentTarget } from './agent-target.js';
import { DaemonTarget, newStats, type TargetStats } from './daemon-target.js';
import { Prng } from './prng.js';
import type { World } from '../world.js';

export interface CampaignOptions {
  seed: number;
  /** Frames in total, at the daemon and the agent together. */
  frames: number;
  /**
   * Called each time `sampleEvery` more frames are thrown, with every link of the fuzzers
   * closed and the agent reconnected (the soak samples memory and fds there).
   */
  onSample?: (frames: number, agent: AgentTarget) => void | Promise<void>;
  sampleEvery?: number;
}

export interface CampaignResult {
  frames: number;
  ms: number;
  daemon: { stats: TargetStats };
  agent: AgentTarget;
}

/** Every this many links of the first worker, one fuzzes the handshake (each failure makes the next handshakes wait 250 ms). */
const PRE_AUTH_EVERY = 40;
/** Every this many links at the daemon, one carries a live relay stream (a lease and a tool's request cost ~30 ms). */
const STREAM_EVERY = 4;
/** Hostile laptops at the daemon at once (the in-flight handshake limit per source is 4). */
const DAEMON_WORKERS = 3;
/** The agent (the faster target) gets at most this share of the frames. */
const AGENT_SHARE = 0.6;

/**
 * Fuzzes the World's real daemon (as hostile laptops) and a real agent of its own (from a
 * hostile daemon) at once, each from its own stream of the seed.
 */
export async function runCampaign(world: World, opts: CampaignOptions): Promise<CampaignResult> {
  const root = new Prng(opts.seed);
  const agentRng = root.fork();
  const daemonStats = newStats();
  const workers = Array.from({ length: DAEMON_WORKERS }, (_, i) => ({ target: new DaemonTarget(world, opts.seed, i, daemonStats), rng: root.fork(), round: 0 }));
  const agent = new AgentTarget(world, opts.seed);
  await Promise.all([...workers.map((w) => w.target.pair()), agent.start()]);
  const started = Date.now();
  const total = () => daemonStats.frames + agent.stats.frames;
  // The first failure stops every loop; the others finish their link before it is thrown.
  let failure: unknown;
  const stopped = () => failure !== undefined;
  const guarded = (loop: Promise<void>) => loop.catch((err: unknown) => void (failure ??= err));

  const daemonLoop = async (worker: (typeof workers)[number], index: number, until: number) => {
    while (total() < until && !stopped()) {
      const rng = worker.rng.fork();
      worker.round += 1;
      // One worker fuzzes handshakes: each failure there delays every next handshake.
      if (index === 0 && worker.round % PRE_AUTH_EVERY === 0) await worker.target.preAuth(rng, 20);
      else await worker.target.link(rng, worker.round % STREAM_EVERY === index);
    }
  };
  const agentLoop = async (until: number) => {
    const agentUntil = Math.ceil(until * AGENT_SHARE);
    while (total() < until && agent.stats.frames < agentUntil && !stopped()) await agent.link(agentRng.fork());
  };
  try {
    // Epochs end with every fuzzing link closed, so samples compare like with like.
    for (let until = Math.min(opts.frames, opts.sampleEvery ?? Infinity); ; until = Math.min(opts.frames, until + opts.sampleEvery!)) {
      await Promise.all([...workers.map((w, i) => guarded(daemonLoop(w, i, until))), guarded(agentLoop(until))]);
      if (stopped()) throw failure;
      if (opts.onSample) {
        await agent.reconnected();
        await opts.onSample(total(), agent);
      }
      if (until >= opts.frames) break;
    }
  } catch (err) {
    await agent.stop().catch(() => {});
    throw err;
  }
  return { frames: total(), ms: Date.now() - started, daemon: { stats: daemonStats }, agent };
}
