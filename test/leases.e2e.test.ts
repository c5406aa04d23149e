// Leases end to end: the real daemon (server bundle), the real headless agent (laptop bin),
// `tether token` as a tool on the server would run it, and the mock provider upstream.
import { afterEach, describe, expect, it } from 'vitest';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { ExitCode } from '../remote/cli/exit-codes.js';
import { refusalOf } from './support/refusal.js';

const TOKEN = /^tth_[A-Za-z0-9_-]{43}$/;
let world: World | undefined;

afterEach(async () => {
  await retire(world);
  world = undefined;
});

describe('lease requests', () => {
  it('grants a lease the proxy accepts, and the provider sees only the real key', async () => {
    world = await World.start({ approve: 'allow' });
    const r = await world.token('openai');
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    const token = r.stdout.trim();
    expect(token).toMatch(TOKEN);
    expect(r.stdout).toBe(`${token}\n`);

    const res = await world.proxy('/openai/v1/chat/completions', token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toContain('mock provider');

    const seen = world.mock.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${world.keys.openai}`);
    expect(JSON.stringify(seen.headers)).not.toContain('tth_');
  });

  it('exits 3 with one line when the laptop denies', async () => {
    world = await World.start({ approve: 'deny' });
    const r = await world.token('openai');
    expect(r.code).toBe(ExitCode.denied);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/denied/i);
  });

  it('exits 4 when nobody answers the approval prompt in time', async () => {
    world = await World.start({ approve: 'ask', agentArgs: ['--approval-timeout', '1s'] });
    const started = Date.now();
    const r = await world.token('anthropic');
    expect(r.code, r.stderr).toBe(ExitCode.approvalTimeout);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 when no laptop is connected, and 5 for a provider the laptop does not offer', async () => {
    world = await World.start({ noAgent: true });
    const none = await world.token('openai');
    expect(none.code).toBe(ExitCode.noLaptop);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);

    await world.startAgent();
    const unknown = await world.token('gemini');
    expect(unknown.code).toBe(ExitCode.unknownCredential);
    expect(unknown.stderr).toMatch(/openai/); // says what the laptop does offer
  });

  it('lets an allow-once lease expire at its TTL', async () => {
    world = await World.start({ approve: 'allow-once', agentArgs: ['--lease-ttl', '1s'] });
    const token = (await world.token('openai')).stdout.trim();
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const refused = await refusalOf(await world.proxy('/openai/v1/chat/completions', token));
    expect(refused.status).toBe(401);
    expect(refused.code).toBe('lease-ended');
    expect(refused.message).toMatch(/expired/); // why it ended
  });

  it('renews a while-connected lease past its TTL for as long as the link lives', async () => {
    world = await World.start({ approve: 'allow', agentArgs: ['--lease-ttl', '1s'] });
    const token = (await world.token('openai')).stdout.trim();
    await new Promise((r) => setTimeout(r, 2500));
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
  });

  it('refuses a lease at another provider\'s path', async () => {
    world = await World.start({ approve: 'allow' });
    const token = (await world.token('openai')).stdout.trim();
    const refused = await refusalOf(await world.proxy('/anthropic/v1/messages', token, { headerName: 'x-api-key' }));
    expect(refused.status).toBe(401);
    expect(refused.code).toBe('wrong-credential');
    expect(world.mock.requests).toHaveLength(0);
  });
});
