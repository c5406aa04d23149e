import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../agent.js';
import { ApprovalPolicy } from '../approvals.js';
import { memoryStores, tempDir } from '../testing/temp.js';
import { ControlClient, ControlRequestError } from './client.js';
import { ControlServer } from './server.js';
import { followEvents } from './event-stream.js';
import { OkResponse, SshPromptsResponse, type ControlEvent } from '../../protocol/control.js';

const SECRET = 'sk-control-SECRET-999';
let tmp: ReturnType<typeof tempDir>;
let agent: Agent;
let server: ControlServer;
let client: ControlClient;

beforeEach(async () => {
  tmp = tempDir();
  agent = createAgent({ home: tmp.dir, policy: ApprovalPolicy.parse('ask'), approvalTimeoutMs: 60_000, leaseTtlMs: 60_000, openStore: memoryStores().open, identityStore: 'memory' });
  await agent.credentials.add({ provider: 'anthropic', store: 'memory', secret: SECRET });
  server = new ControlServer(agent, agent.paths.socket);
  await server.listen();
  client = new ControlClient(agent.paths.socket);
});

afterEach(async () => {
  await server.close();
  await agent.close();
  tmp.cleanup();
});

describe('control socket', () => {
  it('serves status without secrets', async () => {
    const { status, json } = await client.raw('GET', '/v1/status');
    expect(status).toBe(200);
    expect(json).toMatchObject({ pid: process.pid, credentials: [{ name: 'anthropic', provider: 'anthropic', store: 'memory' }] });
    expect(JSON.stringify(json)).not.toContain(SECRET);
  });

  it('refuses a missing or different control version, naming both', async () => {
    const res = await client.raw('GET', '/v1/status', undefined, { 'tether-control': '9' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'version-mismatch' } });
    expect((res.json as { error: { message: string } }).error.message).toMatch(/v9.*v1/);
  });

  it('refuses browser requests', async () => {
    const browserHeaders: Record<string, string>[] = [{ origin: 'http://evil.example' }, { referer: 'http://evil.example/' }];
    for (const h of browserHeaders) {
      const res = await client.raw('GET', '/v1/status', undefined, h);
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error: { code: 'forbidden' } });
    }
  });

  it('answers approvals: first answer wins, unknown ids are 404', async () => {
    const { approval, outcome } = agent.approvals.ask({ server: 's', provider: 'anthropic', process: { pid: 1, uid: 1, cmdline: ['x'], parents: [] } });
    expect((await client.approvals()).approvals.map((a) => a.id)).toEqual([approval.id]);
    await client.approve(approval.id, 'deny');
    expect(await outcome).toEqual({ answer: 'deny', by: 'person' });
    const second = await client.approve(approval.id, 'allow').catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ControlRequestError);
    expect((second as ControlRequestError).code).toBe('not-found');
  });

  it('keeps a memory secret in the agent and reloads credentials', async () => {
    await client.memorySecret('anthropic', 'sk-other');
    expect((await agent.credentials.resolve('anthropic')).secret).toBe('sk-other');
    expect((await client.reloadCredentials()).credentials).toEqual(['anthropic']);
    expect((await client.revoke()).servers).toEqual([]);
    const bad = await client.raw('POST', '/v1/memory-secret', { name: 'Bad Name', secret: 'x' });
    expect(bad.status).toBe(400);
  });

  it('streams events', async () => {
    const http = await import('node:http');
    const first = new Promise<string>((resolve) => {
      const req = http.request({ socketPath: agent.paths.socket, path: '/v1/events', headers: { 'tether-control': '1' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('event: approval')) {
            resolve(text);
            req.destroy();
          } else if (text.startsWith(':')) agent.approvals.ask({ server: 's', provider: 'anthropic', process: { pid: 1, uid: 1, cmdline: ['x'], parents: [] } });
        });
      });
      req.end();
    });
    expect(await first).toMatch(/event: approval\ndata: \{"kind":"added"/);
  });

  it('adds a credential from the UI: the secret goes to the store, never back; allow-list, remove', async () => {
    const typed = 'sk-typed-in-the-ui-123456';
    const added = await client.raw('POST', '/v1/credentials/add', { provider: 'openai', name: 'work', secret: typed, servers: ['gpu-box'] });
    expect(added.status).toBe(200);
    expect(added.json).toMatchObject({ credential: { name: 'work', provider: 'openai', servers: ['gpu-box'] } });
    expect(JSON.stringify(added.json)).not.toContain(typed);
    expect((await agent.credentials.resolve('work')).secret).toBe(typed);
    expect(agent.credentials.lendableTo('gpu-box').map((c) => c.name)).toEqual(['anthropic', 'work']);
    expect(agent.credentials.lendableTo('other').map((c) => c.name)).toEqual(['anthropic']);
    const status = await client.raw('GET', '/v1/status');
    expect(JSON.stringify(status.json)).not.toContain(typed);
    expect((await client.raw('POST', '/v1/credentials/servers', { name: 'work', servers: null })).status).toBe(200);
    expect(agent.credentials.lendableTo('other').map((c) => c.name)).toEqual(['anthropic', 'work']);
    // A malformed add is refused without echoing what was sent.
    const bad = await client.raw('POST', '/v1/credentials/add', { provider: 'openai', secret: typed, extra: typed });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).not.toContain(typed);
    expect((await client.raw('POST', '/v1/credentials/remove', { name: 'work' })).status).toBe(200);
    expect((await client.raw('POST', '/v1/credentials/remove', { name: 'work' })).json).toMatchObject({ error: { code: 'not-found' } });
  });

  it('keeps settings, applies the approval default, and refuses unknown leases and bad patches', async () => {
    expect((await client.raw('GET', '/v1/settings')).json).toMatchObject({ approvalDefault: 'ask', reconnectOnWake: true, startAtLogin: false });
    const saved = await client.raw('POST', '/v1/settings', { approvalDefault: 'deny', startAtLogin: true });
    expect(saved.json).toMatchObject({ approvalDefault: 'deny', startAtLogin: true, reconnectOnWake: true });
    expect((await client.raw('GET', '/v1/settings')).json).toMatchObject({ approvalDefault: 'deny', startAtLogin: true });
    expect((await client.raw('POST', '/v1/settings', { heartbeatS: 0 })).status).toBe(400);
    expect((await client.raw('POST', '/v1/settings', { nope: true })).status).toBe(400);
    expect((await client.raw('POST', '/v1/leases/revoke', { leaseId: 'ls_gone' })).json).toMatchObject({ error: { code: 'not-found' } });
    expect((await client.raw('POST', '/v1/host-keys/trust', { server: 'box', fingerprint: `SHA256:${'a'.repeat(43)}` })).json).toMatchObject({ error: { code: 'not-found' } });
  });

  it('asks SSH questions of a UI that follows events with ?answer=ssh-prompts, answers once, never echoes the answer', async () => {
    const PASSWORD = 'pw-control-SECRET-123';
    const ask = () => agent.sshPrompts.ask({ kind: 'password', text: "root@box's password:", echo: false, host: 'box' });
    // A follower that does not show prompts does not count: nobody to ask, no answer at once.
    const watcher = followEvents(agent.paths.socket, () => {});
    await watcher.ready;
    expect(await ask()).toBeUndefined();

    const events: ControlEvent[] = [];
    const ui = followEvents(agent.paths.socket, (e) => events.push(e), () => {}, { answersSshPrompts: true });
    await ui.ready;
    const answered = ask();
    const { prompts } = await client.call('GET', '/v1/ssh-prompts', SshPromptsResponse);
    expect(prompts).toMatchObject([{ server: 'box', kind: 'password', echo: false }]);
    expect((await client.status()).pendingSshPrompts).toBe(1);
    expect(await client.call('POST', '/v1/ssh-prompts/answer', OkResponse, { id: prompts[0]!.id, answer: PASSWORD })).toEqual({ ok: true });
    expect(await answered).toBe(PASSWORD);
    const again = await client.raw('POST', '/v1/ssh-prompts/answer', { id: prompts[0]!.id, answer: 'x' });
    expect(again).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } });

    const cancelled = ask();
    const [next] = (await client.call('GET', '/v1/ssh-prompts', SshPromptsResponse)).prompts;
    expect(await client.call('POST', '/v1/ssh-prompts/cancel', OkResponse, { id: next!.id })).toEqual({ ok: true });
    expect(await cancelled).toBeUndefined();
    await expect.poll(() => events.filter((e) => e.event === 'ssh-prompt').length).toBe(4);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);

    // The UI went away: nobody to ask again.
    ui.stop();
    await expect.poll(() => agent.sshPrompts.hasAnswerers).toBe(false);
    watcher.stop();
  });
});
