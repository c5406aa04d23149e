import type { AgentStatus, ServerView } from '../protocol/control.js';

/** What a click on a tray item does; main turns these into agent calls. */
export type TrayAction =
  | { kind: 'connect'; server: string }
  | { kind: 'disconnect'; server: string }
  | { kind: 'disconnect-all' }
  | { kind: 'open'; page: 'servers' | 'prompt' }
  | { kind: 'install-cli' }
  | { kind: 'quit' };

export type TrayItem =
  | { type: 'item'; label: string; enabled: boolean; action?: TrayAction }
  | { type: 'separator' }
  | { type: 'submenu'; label: string; items: TrayItem[] };

export type ServerDisplayState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'error';

/** One server as the tray knows it: the agent's view, plus what the tray remembers. */
export interface TrayServer {
  server: string;
  view?: ServerView;
  /** When a reconnect is scheduled (ms since epoch), if one is. */
  reconnectAt?: number;
  /** Why the last attempt failed, if it did. */
  error?: string;
}

export interface TrayModel {
  status: AgentStatus | undefined;
  /** Every server the user has (ssh config, added ones), including disconnected ones. */
  known: string[];
  reconnectAt?: Record<string, number>;
  errors?: Record<string, string>;
  now: number;
  /** Offer "Install command line tool…" (where the app can put a `tether` on the PATH). */
  installCli?: boolean;
}

export type TrayIcon = 'idle' | 'lending' | 'attention';

export function serverState(s: TrayServer, now: number): { state: ServerDisplayState; label: string } {
  const v = s.view;
  if (v?.state === 'READY') return { state: 'connected', label: 'connected' };
  if (v && (v.state === 'CONNECTING' || v.state === 'HANDSHAKING')) {
    return v.retry ? { state: 'reconnecting', label: `reconnecting (attempt ${v.retry.attempt})…` } : { state: 'connecting', label: 'connecting…' };
  }
  if (s.reconnectAt !== undefined && s.reconnectAt > now) {
    return { state: 'reconnecting', label: `reconnecting in ${Math.ceil((s.reconnectAt - now) / 1000)} s` };
  }
  if (s.error) return { state: 'error', label: `error: ${clip(s.error, 60)}` };
  return { state: 'disconnected', label: 'disconnected' };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function liveLeases(status: AgentStatus | undefined): number {
  return (status?.servers ?? []).reduce((n, s) => n + s.leases.length, 0);
}

/** The tray menu, from agent state alone: a pure function, so it is tested without Electron. */
export function trayMenu(model: TrayModel): TrayItem[] {
  const views = new Map((model.status?.servers ?? []).map((v) => [v.server, v]));
  const names = [...new Set([...model.known, ...views.keys()])];
  const items: TrayItem[] = [];
  const pending = model.status?.pendingApprovals ?? 0;
  const asking = model.status?.pendingSshPrompts ?? 0;
  if (asking > 0) items.push({ type: 'item', label: `SSH login waiting for you (${asking})…`, enabled: true, action: { kind: 'open', page: 'prompt' } });
  if (pending > 0) items.push({ type: 'item', label: `${pending} request${pending > 1 ? 's' : ''} waiting for approval…`, enabled: true, action: { kind: 'open', page: 'prompt' } });
  if (asking > 0 || pending > 0) items.push({ type: 'separator' });
  if (!names.length) items.push({ type: 'item', label: 'No servers yet', enabled: false });
  for (const server of names) {
    const view = views.get(server);
    // The agent's status says when it retries and why the last attempt failed; the model may override.
    const reconnectAt = model.reconnectAt?.[server] ?? view?.retry?.at;
    const error = model.errors?.[server] ?? view?.retry?.last ?? (view?.state === 'CLOSED' ? (view.hostKey ? `unknown host key ${view.hostKey.fingerprint}` : view.reason) : undefined);
    const s: TrayServer = {
      server,
      ...(view ? { view } : {}),
      ...(reconnectAt !== undefined ? { reconnectAt } : {}),
      ...(error ? { error } : {}),
    };
    const { state, label } = serverState(s, model.now);
    const leases = view?.leases.length ?? 0;
    const sub: TrayItem[] = [
      state === 'connected' || state === 'connecting' || (state === 'reconnecting' && view)
        ? { type: 'item', label: state === 'reconnecting' ? 'Stop reconnecting' : 'Disconnect', enabled: true, action: { kind: 'disconnect', server } }
        : { type: 'item', label: 'Connect', enabled: true, action: { kind: 'connect', server } },
    ];
    if (state === 'reconnecting' && error && view) sub.push({ type: 'item', label: `Last error: ${clip(error, 80)}`, enabled: false });
    items.push({
      type: 'submenu',
      label: `${server} — ${label}${leases ? ` (${leases} lease${leases > 1 ? 's' : ''})` : ''}`,
      items: sub,
    });
  }
  const leases = liveLeases(model.status);
  const connected = [...views.values()].filter((v) => v.state !== 'CLOSED').length;
  items.push(
    { type: 'separator' },
    { type: 'item', label: leases === 1 ? '1 live lease' : `${leases} live leases`, enabled: false },
    { type: 'item', label: 'Disconnect all', enabled: connected > 0, action: { kind: 'disconnect-all' } },
    { type: 'separator' },
    { type: 'item', label: 'Open Tether…', enabled: true, action: { kind: 'open', page: 'servers' } },
    ...(model.installCli ? [{ type: 'item' as const, label: 'Install command line tool…', enabled: true, action: { kind: 'install-cli' as const } }] : []),
    { type: 'item', label: 'Quit Tether', enabled: true, action: { kind: 'quit' } },
  );
  return items;
}

/** True while a countdown is on screen: the tray redraws every second then. */
export function hasCountdown(status: AgentStatus | undefined): boolean {
  return (status?.servers ?? []).some((s) => s.retry?.at !== undefined);
}

/** Attention while an approval or an SSH question waits, "lending" while any lease lives, idle otherwise. */
export function trayIcon(status: AgentStatus | undefined): TrayIcon {
  if ((status?.pendingApprovals ?? 0) > 0 || (status?.pendingSshPrompts ?? 0) > 0) return 'attention';
  return liveLeases(status) > 0 ? 'lending' : 'idle';
}

/** Icon file per platform: template images on macOS (the menu bar tints them), colour elsewhere. */
export function trayIconFile(icon: TrayIcon, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? `tray-${icon}Template.png` : `tray-${icon}.png`;
}
