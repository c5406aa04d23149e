import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../agent.js';
import { ApprovalPolicy } from '../approvals.js';
import { memoryStores, tempDir } from '../testing/temp.js';
import { AgentControlClient, ControlRequestError } from './client.js';
import { ControlServer } from './server.js';
import { followEvents } from './event-stream.js';
import { CONTROL_EVENTS_PATH, type ControlEvent } from '../../protocol/control.js';
import { AgentControlCalls, isBridgeChannel } from '../../protocol/bridge.js';

const SECRET = 'sk-control-SECRET-999';
let tmp: ReturnType<typeof tempDir>;
let agent: Agent;
let server: ControlServer;
let client: AgentControlClient;

beforeEach(async () => {
  tmp = tempDir();
  agent = createAgent({ home: tmp.dir, policy: ApprovalPolicy.parse('ask'), approvalTimeoutMs: 60_000, leaseTtlMs: 60_000, openStore: memoryStores().open, identityStore: 'memory' });
  await agent.credentials.add({ provider: 'anthropic', store: 'memory', secret: SECRET });
  server = new ControlServer(agent, agent.paths.socket);
  await server.listen();
  client = new AgentControlClient(agent.paths.socket);
});

afterEach(async () => {
  await server.close();
  await agent.close();
  tmp.cleanup();
});

describe('control socket', () => {
  it('serves status without secrets', async () => {
    const { status, json } = await client.raw('GET', AgentControlCalls.status.path);
    expect(status).toBe(200);
    expect(json).toMatchObject({ pid: process.pid, credentials: [{ name: 'anthropic', provider: 'anthropic', store: 'memory' }] });
    expect(JSON.stringify(json)).not.toContain(SECRET);
  });

  it('refuses a missing or different control version, naming both', async () => {
    const res = await client.raw('GET', AgentControlCalls.status.path, undefined, { 'tether-control': '9' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'version-mismatch' } });
    expect((res.json as { error: { message: string } }).error.message).toMatch(/v9.*v2/);
  });

  it('routes every call of the table, and nothing else (v1 paths included)', async () => {
    for (const [name, spec] of Object.entries(AgentControlCalls)) {
      const res = await client.raw(spec.method, spec.path, spec.method === 'GET' ? undefined : {});
      // Each call is reached: an empty body is answered or refused by that call, never "no such call".
      expect(JSON.stringify(res.json), name).not.toMatch(/no such control call/);
    }
    for (const [method, path] of [['GET', '/v1/status'], ['POST', '/v2/approvals/ap_1'], ['GET', '/v2/nope'], ['DELETE', AgentControlCalls.status.path]] as const) {
      expect((await client.raw(method, path)).json, path).toMatchObject({ error: { code: 'not-found' } });
    }
    // The CLI's own calls are not open to the renderer.
    expect(isBridgeChannel('memorySecret')).toBe(false);
    expect(isBridgeChannel('reloadCredentials')).toBe(false);
    expect(isBridgeChannel('status')).toBe(true);
  });

  it('refuses browser requests', async () => {
    const browserHeaders: Record<string, string>[] = [{ origin: 'http://evil.example' }, { referer: 'http://evil.example/' }];
    for (const h of browserHeaders) {
      const res = await client.raw('GET', AgentControlCalls.status.path, undefined, h);
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error: { code: 'forbidden' } });
    }
  });

  it('answers approvals: first answer wins, unknown ids are 404', async () => {
    const { approval, outcome } = agent.approvals.ask({ server: 's', provider: 'anthropic', process: { pid: 1, uid: 1, cmdline: ['x'], parents: [] } });
    expect((await client.call('approvals', {})).approvals.map((a) => a.id)).toEqual([approval.id]);
    await client.call('approve', { id: approval.id, decision: 'deny' });
    expect(await outcome).toEqual({ answer: 'deny', by: 'person' });
    const second = await client.call('approve', { id: approval.id, decision: 'allow' }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ControlRequestError);
    expect((second as ControlRequestError).code).toBe('not-found');
  });

  it('keeps a memory secret in the agent and reloads credentials', async () => {
    await client.call('memorySecret', { name: 'anthropic', secret: 'sk-other' });
    expect((await agent.credentials.resolve('anthropic')).secret).toBe('sk-other');
    expect((await client.call('reloadCredentials', {})).credentials).toEqual(['anthropic']);
    expect((await client.call('revoke', {})).servers).toEqual([]);
    const bad = await client.raw('POST', AgentControlCalls.memorySecret.path, { name: 'Bad Name', secret: 'x' });
    expect(bad.status).toBe(400);
  });

  it('streams events', async () => {
    const http = await import('node:http');
    const first = new Promise<string>((resolve) => {
      const req = http.request({ socketPath: agent.paths.socket, path: CONTROL_EVENTS_PATH, headers: { 'tether-control': '2' } }, (res) => {
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
    const added = await client.raw('POST', AgentControlCalls.addCredential.path, { provider: 'openai', name: 'work', secret: typed, servers: ['gpu-box'] });
    expect(added.status).toBe(200);
    expect(added.json).toMatchObject({ credential: { name: 'work', provider: 'openai', servers: ['gpu-box'] } });
    expect(JSON.stringify(added.json)).not.toContain(typed);
    expect((await agent.credentials.resolve('work')).secret).toBe(typed);
    expect(agent.credentials.lendableTo('gpu-box').map((c) => c.name)).toEqual(['anthropic', 'work']);
    expect(agent.credentials.lendableTo('other').map((c) => c.name)).toEqual(['anthropic']);
    const status = await client.raw('GET', AgentControlCalls.status.path);
    expect(JSON.stringify(status.json)).not.toContain(typed);
    expect((await client.raw('POST', AgentControlCalls.credentialServers.path, { name: 'work', servers: null })).status).toBe(200);
    expect(agent.credentials.lendableTo('other').map((c) => c.name)).toEqual(['anthropic', 'work']);
    // A malformed add is refused without echoing what was sent.
    const bad = await client.raw('POST', AgentControlCalls.addCredential.path, { provider: 'openai', secret: typed, extra: typed });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).not.toContain(typed);
    expect((await client.raw('POST', AgentControlCalls.removeCredential.path, { name: 'work' })).status).toBe(200);
    expect((await client.raw('POST', AgentControlCalls.removeCredential.path, { name: 'work' })).json).toMatchObject({ error: { code: 'not-found' } });
  });

  it('keeps settings, applies the approval default, and refuses unknown leases and bad patches', async () => {
    expect((await client.raw('GET', AgentControlCalls.settings.path)).json).toMatchObject({ approvalDefault: 'ask', reconnectOnWake: true, startAtLogin: false });
    const saved = await client.raw('POST', AgentControlCalls.saveSettings.path, { approvalDefault: 'deny', startAtLogin: true });
    expect(saved.json).toMatchObject({ approvalDefault: 'deny', startAtLogin: true, reconnectOnWake: true });
    expect((await client.raw('GET', AgentControlCalls.settings.path)).json).toMatchObject({ approvalDefault: 'deny', startAtLogin: true });
    expect((await client.raw('POST', AgentControlCalls.saveSettings.path, { heartbeatS: 0 })).status).toBe(400);
    expect((await client.raw('POST', AgentControlCalls.saveSettings.path, { nope: true })).status).toBe(400);
    expect((await client.raw('POST', AgentControlCalls.revokeLease.path, { leaseId: 'ls_gone' })).json).toMatchObject({ error: { code: 'not-found' } });
    expect((await client.raw('POST', AgentControlCalls.trustHostKey.path, { server: 'box', fingerprint: `SHA256:${'a'.repeat(43)}` })).json).toMatchObject({ error: { code: 'not-found' } });
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
    const { prompts } = await client.call('sshPrompts', {});
    expect(prompts).toMatchObject([{ server: 'box', kind: 'password', echo: false }]);
    expect((await client.call('status', {})).pendingSshPrompts).toBe(1);
    expect(await client.call('answerSshPrompt', { id: prompts[0]!.id, answer: PASSWORD })).toEqual({ ok: true });
    expect(await answered).toBe(PASSWORD);
    const again = await client.raw('POST', AgentControlCalls.answerSshPrompt.path, { id: prompts[0]!.id, answer: 'x' });
    expect(again).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } });

    const cancelled = ask();
    const [next] = (await client.call('sshPrompts', {})).prompts;
    expect(await client.call('cancelSshPrompt', { id: next!.id })).toEqual({ ok: true });
    expect(await cancelled).toBeUndefined();
    await expect.poll(() => events.filter((e) => e.event === 'ssh-prompt').length).toBe(4);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);

    // The UI went away: nobody to ask again.
    ui.stop();
    await expect.poll(() => agent.sshPrompts.hasAnswerers).toBe(false);
    watcher.stop();
  });
});
