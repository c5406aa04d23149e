// A seeded protocol fuzzer against the real daemon and the real agent; FUZZ_SEED=n replays a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCampaign, type CampaignResult } from './support/fuzz/campaign.js';
import { CRASH_OUTPUT } from './support/fuzz/oracle.js';
import { runSeed } from './support/fuzz/prng.js';
import { retire } from './support/retire.js';
import { World } from './support/world.js';

const seed = runSeed();
// FUZZ_FRAMES=n runs a shorter or longer campaign (with FUZZ_SEED, to home in on a failure).
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 50_000);
let world: World;
let run: CampaignResult;


beforeAll(async () => {
  console.log(`fuzz: FUZZ_SEED=${seed}`);
  world = await World.start({ approve: 'allow' });
  run = await runCampaign(world, { seed, frames: FRAMES });
  console.log(`fuzz: ${run.frames} frames in ${run.ms} ms (${Math.round((run.frames * 1000) / run.ms)} frames/s); daemon ${JSON.stringify(run.daemon.stats)}; agent ${JSON.stringify(run.agent.stats)}`);
}, 120_000);

afterAll(async () => {
  await run?.agent.stop();
  await retire(world);
});

describe(`protocol fuzzing (FUZZ_SEED=${seed})`, () => {
  it('throws the frames at both sides, with relay streams live', () => {
    expect(run.frames).toBeGreaterThanOrEqual(FRAMES);
    expect(run.daemon.stats.streams).toBeGreaterThan(0);
    expect(run.daemon.stats.preAuth).toBeGreaterThan(0);
    expect(run.agent.stats.streams).toBeGreaterThan(0);
    // Bad frames were answered with error frames, not only with closes.
    expect(run.daemon.stats.errorsSeen).toBeGreaterThan(run.daemon.stats.links);
    expect(run.agent.stats.errorsSeen).toBeGreaterThan(run.agent.stats.links);
  });

  it('leaves the daemon and the agent running, with nothing unhandled in their output', () => {
    for (const p of [world.daemon, world.agent!, run.agent.agent]) {
      expect(p.exited, p.text).toBe(false);
      expect(p.text).not.toMatch(CRASH_OUTPUT);
    }
  });

  it('the daemon still serves a legitimate laptop: a real lease and request work', async () => {
    const token = (await world.token('openai')).stdout.trim();
    expect(token).toMatch(/^tth_/);
    const res = await world.proxy('/openai/v1/chat/completions', token);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/Hello from the mock provider/);
  });

  it('the fuzzed agent still serves its daemon: a real lease and request work', async () => {
    expect(await run.agent.served()).toBe(true);
  });

  it('both stop cleanly afterwards', async () => {
    expect(await run.agent.stop()).toBe(0);
    expect(await world.daemon.stop()).toBe(0);
  });
});
