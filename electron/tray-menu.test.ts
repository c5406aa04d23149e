import { describe, expect, it } from 'vitest';
import type { AgentStatus, ServerView } from '../protocol/control.js';
import { toTemplate } from './tray-app.js';
import { hasCountdown, trayIcon, trayIconFile, trayMenu, type TrayAction, type TrayItem } from './tray-menu.js';

const server = (name: string, state: ServerView['state'], leases = 0): ServerView => ({
  server: name,
  state,
  lending: state === 'READY' ? ['openai'] : [],
  allowed: [],
  leases: Array.from({ length: leases }, (_, i) => ({ leaseId: `ls_${name}${i}`, credential: 'openai', scope: 'once' as const, expiresAt: 0 })),
  activeStreams: 0,
});

const status = (servers: ServerView[], pendingApprovals = 0): AgentStatus => ({
  pid: 1,
  name: 'laptop',
  startedAt: '2025-01-01T00:00:00.000Z',
  socket: '/tmp/agent.sock',
  servers,
  credentials: [],
  pendingApprovals,
});

const labels = (items: TrayItem[]): string[] => items.flatMap((i) => (i.type === 'separator' ? ['---'] : i.type === 'submenu' ? [i.label, ...labels(i.items).map((l) => `  ${l}`)] : [i.label]));
const find = (items: TrayItem[], label: string) => items.find((i) => i.type !== 'separator' && i.label.startsWith(label));

describe('tray menu from agent state', () => {
  it('lists every server with its state and the right Connect/Disconnect, the lease count, and the fixed items', () => {
    const items = trayMenu({
      status: status([server('gpu-box', 'READY', 2), server('ci', 'HANDSHAKING')]),
      known: ['gpu-box', 'ci', 'old-box', 'flaky', 'broken'],
      reconnectAt: { flaky: 10_500 },
      errors: { broken: 'host key changed' },
      now: 5_000,
    });
    expect(labels(items)).toEqual([
      'gpu-box — connected (2 leases)',
      '  Disconnect',
      'ci — connecting…',
      '  Disconnect',
      'old-box — disconnected',
      '  Connect',
      'flaky — reconnecting in 6 s',
      '  Connect',
      'broken — error: host key changed',
      '  Connect',
      '---',
      '2 live leases',
      'Disconnect all',
      '---',
      'Open Tether…',
      'Quit Tether',
    ]);
    expect(find(items, 'Disconnect all')).toMatchObject({ enabled: true, action: { kind: 'disconnect-all' } });
    const gpu = find(items, 'gpu-box');
    expect(gpu?.type === 'submenu' && gpu.items[0]).toMatchObject({ action: { kind: 'disconnect', server: 'gpu-box' } });
  });

  it('with nothing connected: Disconnect all is disabled and no lease is counted', () => {
    const items = trayMenu({ status: status([]), known: [], now: 0 });
    expect(labels(items)).toEqual(['No servers yet', '---', '0 live leases', 'Disconnect all', '---', 'Open Tether…', 'Quit Tether']);
    expect(find(items, 'Disconnect all')).toMatchObject({ enabled: false });
  });

  it('offers "Install command line tool…" where the app can install one, before Quit', () => {
    const items = trayMenu({ status: status([]), known: [], now: 0, installCli: true });
    expect(labels(items).slice(-3)).toEqual(['Open Tether…', 'Install command line tool…', 'Quit Tether']);
    expect(find(items, 'Install command line tool')).toMatchObject({ enabled: true, action: { kind: 'install-cli' } });
  });

  it('a waiting approval comes first, opens the prompt, and switches the icon to attention', () => {
    const s = status([server('gpu-box', 'READY', 1)], 2);
    const items = trayMenu({ status: s, known: [], now: 0 });
    expect(items[0]).toMatchObject({ label: '2 requests waiting for approval…', action: { kind: 'open', page: 'prompt' } });
    expect(trayIcon(s)).toBe('attention');
    expect(trayIcon(status([server('gpu-box', 'READY', 1)]))).toBe('lending');
    expect(trayIcon(status([server('gpu-box', 'CLOSED')]))).toBe('idle');
    expect(trayIconFile('attention', 'darwin')).toBe('tray-attentionTemplate.png');
    expect(trayIconFile('attention', 'linux')).toBe('tray-attention.png');
  });

  it('an SSH login waiting for an answer comes before approvals and also asks for attention', () => {
    const s = { ...status([server('gpu-box', 'CONNECTING')], 1), pendingSshPrompts: 1 };
    const items = trayMenu({ status: s, known: [], now: 0 });
    expect(labels(items).slice(0, 3)).toEqual(['SSH login waiting for you (1)…', '1 request waiting for approval…', '---']);
    expect(items[0]).toMatchObject({ action: { kind: 'open', page: 'prompt' } });
    expect(trayIcon({ ...status([]), pendingSshPrompts: 1 })).toBe('attention');
  });

  it('menu clicks run the item\'s action', () => {
    const done: TrayAction[] = [];
    const template = toTemplate(trayMenu({ status: status([server('gpu-box', 'READY')]), known: [], now: 0 }), (a) => done.push(a));
    template[0]!.submenu![0]!.click!();
    template.find((t) => t.label === 'Quit Tether')!.click!();
    expect(done).toEqual([{ kind: 'disconnect', server: 'gpu-box' }, { kind: 'quit' }]);
  });

  it('shows the agent\'s reconnect state: countdown, attempt under way, last error, unknown host key', () => {
    const retrying: ServerView = { ...server('flaky', 'CLOSED'), reason: 'reconnecting: attempt 3 in 4.2 s', retry: { attempt: 3, at: 9_200, last: 'connect ECONNREFUSED /run/tether.sock' } };
    const underWay: ServerView = { ...server('slow', 'CONNECTING'), retry: { attempt: 2, last: 'went silent for 3000 ms' } };
    const refused: ServerView = { ...server('new-box', 'CLOSED'), reason: 'unknown host key', hostKey: { fingerprint: 'SHA256:abc', keyType: 'ssh-ed25519', host: 'new-box', port: 22 } };
    const gaveUp: ServerView = { ...server('moved', 'CLOSED'), reason: 'HOST KEY CHANGED for moved' };
    const items = trayMenu({ status: status([retrying, underWay, refused, gaveUp]), known: [], now: 5_000 });
    expect(labels(items).slice(0, 10)).toEqual([
      'flaky — reconnecting in 5 s',
      '  Stop reconnecting',
      '  Last error: connect ECONNREFUSED /run/tether.sock',
      'slow — reconnecting (attempt 2)…',
      '  Stop reconnecting',
      '  Last error: went silent for 3000 ms',
      'new-box — error: unknown host key SHA256:abc',
      '  Connect',
      'moved — error: HOST KEY CHANGED for moved',
      '  Connect',
    ]);
    // A second later the countdown has moved on: the tray redraws from the same status.
    expect(labels(trayMenu({ status: status([retrying]), known: [], now: 6_100 }))[0]).toBe('flaky — reconnecting in 4 s');
    expect(hasCountdown(status([retrying]))).toBe(true);
    expect(hasCountdown(status([underWay, gaveUp]))).toBe(false);
    const stop = find(items, 'flaky');
    expect(stop?.type === 'submenu' && stop.items[0]?.type === 'item' ? stop.items[0].action : undefined).toEqual({ kind: 'disconnect', server: 'flaky' });
  });
});
