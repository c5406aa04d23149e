import { describe, expect, it } from 'vitest';
import { ControlRequestError } from '../agent/control/client.js';
import { AgentError } from '../agent/errors.js';
import type { BridgeBackend } from '../agent/control/bridge-backend.js';
import { BridgeRouter } from './bridge-router.js';

const OWN = 'file:///opt/Tether/resources/renderer/index.html#servers';

function router(answer: (channel: string, req: unknown) => unknown = () => ({ ok: true })) {
  const calls: { channel: string; req: unknown }[] = [];
  const backend = (async (channel: string, req: unknown) => {
    calls.push({ channel, req });
    return answer(channel, req);
  }) as BridgeBackend;
  return { calls, r: new BridgeRouter(backend, (url) => url.startsWith('file:///opt/Tether/resources/renderer/')) };
}

describe('IPC validation in main', () => {
  it('passes a valid request on an allow-listed channel to the agent', async () => {
    const { r, calls } = router();
    expect(await r.handle('tether:approve', { id: 'ap_abc123', decision: 'allow-once' }, OWN)).toEqual({ ok: true, value: { ok: true } });
    expect(calls).toEqual([{ channel: 'approve', req: { id: 'ap_abc123', decision: 'allow-once' } }]);
  });

  it('refuses unknown channels, including names of Object.prototype and unprefixed ones', async () => {
    const { r, calls } = router();
    for (const ch of ['tether:rm-rf', 'tether:constructor', 'tether:__proto__', 'status', 'other:status', 42, undefined]) {
      expect(await r.handle(ch, {}, OWN)).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    }
    expect(calls).toEqual([]);
  });

  it('refuses malformed payloads with the wire schemas', async () => {
    const { r, calls } = router();
    const bad: [string, unknown][] = [
      ['tether:approve', { id: 'ap_1', decision: 'allow-forever' }],
      ['tether:approve', { id: '../../v1/revoke', decision: 'deny' }],
      ['tether:approve', 'ap_1'],
      ['tether:status', { extra: true }],
      ['tether:connect', {}],
      ['tether:connect', { server: 'x'.repeat(600) }],
      ['tether:audit', { limit: -1 }],
    ];
    for (const [ch, payload] of bad) expect(await r.handle(ch, payload, OWN), ch).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(calls).toEqual([]);
  });

  it('refuses senders that are not our own pages', async () => {
    const { r, calls } = router();
    for (const url of ['https://evil.example/', 'file:///tmp/other.html', '']) {
      expect(await r.handle('tether:status', {}, url)).toMatchObject({ ok: false, error: { code: 'forbidden-sender' } });
    }
    expect(calls).toEqual([]);
  });

  it('reports the agent\'s failures with their codes instead of throwing', async () => {
    const { r } = router((channel) => {
      if (channel === 'approve') throw new ControlRequestError(404, 'not-found', 'no pending approval ap_1');
      if (channel === 'status') throw new AgentError('no-agent', 'no tether agent is running');
      throw new Error('boom with details');
    });
    expect(await r.handle('tether:approve', { id: 'ap_1', decision: 'deny' }, OWN)).toEqual({ ok: false, error: { code: 'not-found', message: 'no pending approval ap_1' } });
    expect(await r.handle('tether:status', {}, OWN)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await r.handle('tether:revoke', {}, OWN)).toEqual({ ok: false, error: { code: 'internal', message: 'the tether agent failed to answer' } });
  });
});
