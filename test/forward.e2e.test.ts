// Forward mode with real processes: a credential whose secret is a command's output, run on
// the laptop only for approved leases, sent to the daemon, which calls the provider itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeDaemon } from '../agent/testing/fake-daemon.js';
import type { LeaseGrant, Message } from '../protocol/index.js';
import { removeDir, tempDir } from './support/homes.js';
import { refusalOf } from './support/refusal.js';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { ROOT, TetherProcess, runTether, waitFor } from './support/tether-process.js';

const MINT = join(ROOT, 'test/fixtures/mint-token.mjs');
const TTL_MS = 5000;
/** The daemon's wait on a provider that makes no progress before its headers (default 60 s). */
const UPSTREAM_TIMEOUT_MS = 1500;
/** What the laptop's user configured; nothing else may ever reach the command. */
const FIXED_ARGS = ['--audience', 'fixed-by-laptop'];

interface Run {
  at: number;
  args: string[];
  token: string;
  tetherEnv: string[];
}

function runsIn(file: string): Run[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Run);
}

function mintCommand(runLog: string): string {
  return [process.execPath, MINT, runLog, ...FIXED_ARGS].map((w) => `"${w}"`).join(' ');
}

describe('forward mode against the real daemon', () => {
  let world: World;
  let runLog: string;
  let root: string;

  beforeAll(async () => {
    root = tempDir('fwd');
    runLog = join(root, 'runs.jsonl');
    // The provider accepts only a token the command minted, and only within its TTL.
    world = await World.start({
      approve: 'allow',
      daemonArgs: ['--upstream-timeout-ms', String(UPSTREAM_TIMEOUT_MS)],
      mockKeyFor: (_provider, headers) => {
        const presented = String(headers.authorization ?? '').replace(/^Bearer /, '');
        const run = runsIn(runLog).find((r) => r.token === presented);
        return run && Date.now() < run.at + TTL_MS ? run.token : undefined;
      },
    });
    const added = await world.laptop(['creds', 'add', 'vertex', '--provider', 'openai', '--command', mintCommand(runLog), '--ttl', `${TTL_MS / 1000}s`, '--base-url', world.mock.url]);
    expect(added.code, added.stderr).toBe(0);
    await waitFor(async () => JSON.stringify(await world.daemonStatus()).includes('"vertex"') || undefined, 'vertex offered');
  });

  afterAll(async () => {
    for (const run of runsIn(runLog)) world.tokens.add(run.token);
    await retire(world);
    removeDir(root);
  });

  it('runs the command only for a grant, sends the token from the daemon, and renews it before expiry while connected', async () => {
    expect(runsIn(runLog)).toHaveLength(0); // adding and offering the credential ran nothing
    const r = await world.token('vertex');
    expect(r.code, r.stderr).toBe(0);
    const first = runsIn(runLog);
    expect(first).toHaveLength(1);
    expect(first[0]!.args).toEqual(FIXED_ARGS);
    expect(first[0]!.tetherEnv).toEqual([]); // the vault passphrase stays with the agent

    const token = r.stdout.trim();
    const before = world.mock.requests.length;
    const ok = await world.proxy('/vertex/v1/chat/completions', token);
    expect(ok.status).toBe(200);
    expect(world.mock.requests[before]!.headers.authorization).toBe(`Bearer ${first[0]!.token}`);
    expect(JSON.stringify(world.mock.requests[before]!.headers)).not.toContain('tth_');

    // Keep calling while the secret ages: every call succeeds (the mock refuses an expired
    // token), and a re-minted one reaches the provider.
    while (runsIn(runLog).length < 2) {
      const res = await world.proxy('/vertex/v1/chat/completions', token);
      expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const runs = runsIn(runLog);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.at).toBeLessThan(runs[i - 1]!.at + TTL_MS);
    await waitFor(async () => {
      const n = world.mock.requests.length;
      expect((await world.proxy('/vertex/v1/chat/completions', token)).status).toBe(200);
      return world.mock.requests[n]!.headers.authorization === `Bearer ${runs.at(-1)!.token}` || undefined;
    }, 'the newest minted token at the provider');
    for (const run of runs) expect(run.args).toEqual(FIXED_ARGS);
  });

  it('drops the forwarded secret on revocation: 401, no further runs, and never in status, logs or disk', async () => {
    const r = await world.token('vertex');
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect((await world.proxy('/vertex/v1/chat/completions', token)).status).toBe(200);

    const revoked = await world.laptop(['revoke']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await waitFor(async () => {
      const res = await world.proxy('/vertex/v1/chat/completions', token);
      return res.status === 401 ? refusalOf(res) : undefined;
    }, '401 after revoke');
    expect(refused.code).toBe('lease-ended');
    expect(refused.message).toMatch(/revoked/); // why it ended

    // No lease lives, so nothing is renewed: the command does not run again. A renewal that was
    // already running when the revoke came may still log its run (node's start is slow under
    // load): the count is taken once it holds still for a second.
    let count = runsIn(runLog).length;
    for (let settled = false; !settled; ) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = runsIn(runLog).length;
      settled = now === count;
      count = now;
    }
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    expect(runsIn(runLog)).toHaveLength(count);

    const status = await world.server(['status', '--json']);
    const minted = runsIn(runLog).map((run) => run.token);
    for (const secret of minted) {
      expect(status.stdout).not.toContain(secret);
      expect(world.daemon.text).not.toContain(secret);
    }
    // The daemon's home and every log are scanned for each minted token in afterAll (retire).
  });

  it('counts the daemon\'s own calls as in flight in `tether status`; a streaming answer is not cut by the upstream timeout', async () => {
    const token = (await world.token('vertex')).stdout.trim();
    type Status = { laptops: { providers: { name: string; active?: number }[] }[] };
    const active = async () => ((JSON.parse((await world.server(['status', '--json'])).stdout) as Status).laptops[0]!.providers.find((p) => p.name === 'vertex')?.active ?? 0);
    expect(await active()).toBe(0);
    const client = new AbortController();
    const res = await fetch(`${world.state.proxyUrl}/vertex/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-hang', stream: true, messages: [] }),
      signal: client.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read(); // the one chunk mock-hang sends before it hangs
    expect(await active()).toBe(1);
    const text = await world.server(['status']);
    expect(text.stdout).toContain('vertex (openai) [1 in flight]');
    // Past the upstream timeout: headers came, so the answer is left streaming.
    await new Promise((resolve) => setTimeout(resolve, UPSTREAM_TIMEOUT_MS + 500));
    expect(await active()).toBe(1);
    const upstream = world.mock.requests.at(-1)!;
    client.abort();
    await upstream.done;
    expect(upstream.aborted).toBe(true);
    await waitFor(async () => ((await active()) === 0 ? true : undefined), 'the aborted call to leave the count');
  });

  it('answers 504 in the provider\'s shape when the provider sends no headers within the upstream timeout, and cancels the call', async () => {
    const token = (await world.token('vertex')).stdout.trim();
    const before = world.mock.requests.length;
    const started = Date.now();
    // The mock never reads or answers /v1/stall-upload.
    const res = await world.proxy('/vertex/v1/stall-upload', token);
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT_MS - 100);
    expect(res.headers.get('x-tether-error')).toBe('upstream-timeout');
    const body = (await res.json()) as { error: { type: string; message: string; tether_code: string } };
    expect(body.error).toMatchObject({ type: 'server_error', tether_code: 'upstream-timeout' });
    const upstream = world.mock.requests[before]!;
    expect(upstream.path).toBe('/v1/stall-upload');
    await upstream.done;
    expect(upstream.aborted).toBe(true);
  });
});

describe('forward mode against a malicious daemon', () => {
  let root: string;
  let daemon: FakeDaemon;
  let agent: TetherProcess | undefined;
  let runLog: string;
  const PAIR = '0123-4567-89AB-C';
  const process_ = { pid: 4242, uid: 1000, cmdline: ['sh', '-c', '$(touch /tmp/tt-pwned)', '--token-format', 'evil'], cwd: '/tmp; touch /tmp/tt-pwned', parents: [] };

  beforeAll(async () => {
    root = tempDir('fwdm');
    runLog = join(root, 'runs.jsonl');
    daemon = await FakeDaemon.start({ socketPath: join(root, 'd.sock'), pairCode: PAIR, maxLeaseTtlMs: 60_000 });
    const added = await runTether(['creds', 'add', 'openai', '--name', 'vertex', '--command', mintCommand(runLog), '--ttl', '5s', '--base-url', 'http://127.0.0.1:9'], { home: join(root, 'laptop') });
    expect(added.code, added.stderr).toBe(0);
  });

  afterAll(async () => {
    await agent?.stop();
    await daemon.close();
    removeDir(root);
  });

  async function startAgent(approve: string, pair: boolean): Promise<void> {
    await agent?.stop();
    daemon.socket = undefined;
    agent = new TetherProcess(['agent', '--connect', `unix:${join(root, 'd.sock')}`, ...(pair ? ['--pair', PAIR] : []), '--approve', approve, '--store', 'file'], {
      home: join(root, 'laptop'),
      env: { TETHER_VAULT_PASSPHRASE: 'not-used-by-forward-credentials' },
      logFile: join(root, `agent-${approve}.log`),
    });
    const offer = await daemon.nextOf('offer');
    expect(offer.credentials).toEqual([{ name: 'vertex', provider: 'openai', mode: 'forward' }]);
  }

  const request = (id: string, credential = 'vertex'): Message => ({ t: 'lease.request', id, credential, purpose: 'token', process: process_ });

  it('never runs the command for requests the laptop refuses, crafted names, or messages only a laptop may send', async () => {
    await startAgent('deny', true);
    daemon.send(request('rq_denied1'));
    expect(await daemon.nextOf('lease.deny')).toMatchObject({ id: 'rq_denied1', reason: 'denied' });
    daemon.send(request('rq_unknown1', 'vertex-2'));
    expect(await daemon.nextOf('lease.deny')).toMatchObject({ id: 'rq_unknown1', reason: 'unknown-credential' });
    for (const name of ['../vertex', 'vertex --token-format=x', 'vertex;touch', 'VERTEX', '$(id)']) {
      daemon.sendRaw(JSON.stringify({ ...request('rq_crafted1'), credential: name }));
      expect(await daemon.nextOf('error')).toMatchObject({ code: 'bad-message' });
    }
    daemon.send({ t: 'relay.open', sid: 1, leaseId: `ls_${'A'.repeat(22)}`, method: 'POST', path: '/v1/chat/completions', headers: [] });
    expect(await daemon.nextOf('relay.abort')).toMatchObject({ sid: 1 });
    daemon.send({ t: 'lease.renew', leaseId: `ls_${'A'.repeat(22)}`, ttlMs: 5000, forward: { secret: 'x'.repeat(20), expiresInMs: 5000 } });
    expect(await daemon.nextOf('error')).toMatchObject({ code: 'unexpected-message' });
    expect(runsIn(runLog)).toHaveLength(0);
  });

  it('runs it only for approved grants, with the laptop\'s arguments only, and never for a relay of that lease', async () => {
    await startAgent('allow', false);
    const grants: LeaseGrant[] = [];
    for (const id of ['rq_allowed1', 'rq_allowed2', 'rq_allowed3']) {
      daemon.send(request(id));
      grants.push(await daemon.nextOf('lease.grant'));
    }
    const runs = runsIn(runLog);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(grants.length);
    for (const run of runs) expect(run.args).toEqual(FIXED_ARGS);
    for (const grant of grants) {
      expect(grant.forward).toMatchObject({ baseUrl: 'http://127.0.0.1:9', keyHeader: 'authorization', keyPrefix: 'Bearer ' });
      expect(runs.map((r) => r.token)).toContain(grant.forward!.secret);
    }

    // A relay request on a forward lease (with a crafted path) is refused without running anything.
    daemon.send({ t: 'relay.open', sid: 7, leaseId: grants[0]!.leaseId, method: 'POST', path: '/v1/x?$(touch /tmp/tt-pwned)', headers: [['x-args', '--evil']] });
    expect(await daemon.nextOf('relay.head')).toMatchObject({ sid: 7, status: 502 });
    expect(runsIn(runLog)).toHaveLength(runs.length);
    expect(existsSync('/tmp/tt-pwned')).toBe(false);
  });
});
