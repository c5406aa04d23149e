import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameKind, type BinaryFrame, type LeaseGrant, type Message } from '../protocol/index.js';
import { createAgent, type Agent } from './agent.js';
import { ApprovalPolicy } from './approvals.js';
import { readConfig } from './config.js';
import { FakeDaemon } from './testing/fake-daemon.js';
import { memoryStores, tempDir } from './testing/temp.js';

const SECRET = 'sk-live-NEVER-IN-LOGS-42';
const PAIR = '0123-4567-89AB-C';
const proc = { pid: 777, uid: 1000, user: 'dev', cmdline: ['opencode', 'run'], cwd: '/work', parents: [] };

let tmp: ReturnType<typeof tempDir>;
let daemon: FakeDaemon;
let agent: Agent;
let upstream: http.Server;
let seenAuth: string | undefined;

beforeEach(async () => {
  tmp = tempDir();
  upstream = http.createServer((req, res) => {
    seenAuth = req.headers.authorization;
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  daemon = await FakeDaemon.start({ socketPath: join(tmp.dir, 'd.sock'), pairCode: PAIR, heartbeatMs: 200 });
});

afterEach(async () => {
  await agent?.close();
  await daemon.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  tmp.cleanup();
});

async function startAgent(policy: string) {
  const { open } = memoryStores();
  agent = createAgent({ home: join(tmp.dir, 'home'), policy: ApprovalPolicy.parse(policy), approvalTimeoutMs: 5000, leaseTtlMs: 60_000, openStore: open, identityStore: 'memory', name: 'lap' });
  const port = (upstream.address() as AddressInfo).port;
  await agent.credentials.add({ provider: 'openai', baseUrl: `http://127.0.0.1:${port}`, store: 'memory', secret: SECRET });
  return agent.connect(`unix:${join(tmp.dir, 'd.sock')}`, { pairCode: PAIR });
}

describe('Agent end to end against a scripted daemon', () => {
  it('pairs, offers, grants a lease, relays with the real key and never logs the secret', async () => {
    await startAgent('allow');
    expect(await daemon.nextOf('offer')).toEqual({ t: 'offer', credentials: [{ name: 'openai', provider: 'openai', mode: 'relay' }] });
    expect(Object.keys(readConfig(join(tmp.dir, 'home', 'config.json')).servers)).toHaveLength(1);

    daemon.send({ t: 'lease.request', id: 'rq_0001', credential: 'openai', purpose: 'exec', process: proc });
    const grant = await daemon.nextOf('lease.grant');
    expect(grant).toMatchObject({ id: 'rq_0001', scope: 'connection', ttlMs: 60_000 });

    daemon.send({ t: 'relay.open', sid: 1, leaseId: grant.leaseId, method: 'POST', path: '/v1/chat/completions', headers: [['authorization', 'Bearer tth_x']] });
    daemon.sendRaw(new Uint8Array([FrameKind.end, 0, 0, 0, 1]));
    const head = await daemon.nextOf('relay.head');
    expect(head.status).toBe(200);
    await daemon.next((m): m is BinaryFrame => 'kind' in m && m.kind === FrameKind.end);
    expect(seenAuth).toBe(`Bearer ${SECRET}`);

    // Allowed while connected: the next request is granted without asking.
    daemon.send({ t: 'lease.request', id: 'rq_0002', credential: 'openai', purpose: 'token', process: proc });
    expect((await daemon.nextOf('lease.grant')).scope).toBe('connection');
    const status = await agent.status('/sock');
    expect(status.servers[0]).toMatchObject({ state: 'READY', allowed: ['openai'] });
    expect(status.servers[0]!.leases).toHaveLength(2);

    expect(agent.revoke()).toMatchObject({ leases: 2 });
    expect(await daemon.nextOf('lease.revoke')).toMatchObject({ t: 'lease.revoke' });
    await agent.close();
    expect((await daemon.nextOf('bye')).t).toBe('bye');
    const audit = readFileSync(join(tmp.dir, 'home', 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"event":"relay"');
    expect(audit).not.toContain(SECRET);
    expect(audit).not.toContain(PAIR);
    expect(JSON.stringify(status)).not.toContain(SECRET);
  });

  it('asks, and denies with timeout or on a person\'s answer', async () => {
    await startAgent('ask');
    agent.approvals.setTimeoutMs(50);
    daemon.send({ t: 'lease.request', id: 'rq_0003', credential: 'openai', purpose: 'token', process: proc });
    expect(await daemon.nextOf('lease.deny')).toMatchObject({ id: 'rq_0003', reason: 'timeout' });

    agent.approvals.setTimeoutMs(10_000);
    const asked = new Promise<string>((r) => agent.approvals.once('added', (a) => r(a.id)));
    daemon.send({ t: 'lease.request', id: 'rq_0004', credential: 'openai', purpose: 'token', process: proc });
    agent.approvals.answer(await asked, 'allow-once');
    const grant: LeaseGrant = await daemon.nextOf('lease.grant');
    expect(grant).toMatchObject({ id: 'rq_0004', scope: 'once' });

    daemon.send({ t: 'lease.request', id: 'rq_0005', credential: 'gemini', purpose: 'token', process: proc });
    expect(await daemon.nextOf('lease.deny')).toMatchObject({ id: 'rq_0005', reason: 'unknown-credential' });
  });

  it('forgets leases the daemon ended and refuses unexpected messages', async () => {
    const session = await startAgent('allow');
    daemon.send({ t: 'lease.request', id: 'rq_0006', credential: 'openai', purpose: 'token', process: proc });
    const grant = await daemon.nextOf('lease.grant');
    expect(session.leases.size).toBe(1);
    daemon.send({ t: 'lease.ended', leaseId: grant.leaseId, reason: 'released' });
    await new Promise<void>((r) => session.leases.once('dropped', () => r()));
    expect(session.leases.size).toBe(0);
    const unexpected: Message = { t: 'lease.grant', id: 'rq_0007', leaseId: grant.leaseId, scope: 'once', ttlMs: 1000 };
    daemon.send(unexpected);
    expect((await daemon.nextOf('error')).code).toBe('unexpected-message');
  });
});
