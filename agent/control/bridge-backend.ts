import { BridgeCalls, type BridgeChannel, type BridgeRequest, type BridgeResponse } from '../../protocol/bridge.js';
import type { ControlClient } from './client.js';

/** Where each bridge call lands on the control socket. */
const ROUTES: { [C in BridgeChannel]: { method: 'GET' | 'POST'; path: (req: BridgeRequest<C>) => string; body: (req: BridgeRequest<C>) => unknown } } = {
  status: { method: 'GET', path: () => '/v1/status', body: () => undefined },
  approvals: { method: 'GET', path: () => '/v1/approvals', body: () => undefined },
  approve: { method: 'POST', path: (r) => `/v1/approvals/${encodeURIComponent(r.id)}`, body: (r) => ({ decision: r.decision }) },
  revoke: { method: 'POST', path: () => '/v1/revoke', body: (r) => r },
  connect: { method: 'POST', path: () => '/v1/connect', body: (r) => r },
  disconnect: { method: 'POST', path: () => '/v1/disconnect', body: (r) => r },
  audit: { method: 'POST', path: () => '/v1/audit', body: (r) => r },
  addCredential: { method: 'POST', path: () => '/v1/credentials/add', body: (r) => r },
  removeCredential: { method: 'POST', path: () => '/v1/credentials/remove', body: (r) => r },
  credentialServers: { method: 'POST', path: () => '/v1/credentials/servers', body: (r) => r },
  revokeLease: { method: 'POST', path: () => '/v1/leases/revoke', body: (r) => r },
  settings: { method: 'GET', path: () => '/v1/settings', body: () => undefined },
  saveSettings: { method: 'POST', path: () => '/v1/settings', body: (r) => r },
  servers: { method: 'GET', path: () => '/v1/servers', body: () => undefined },
  addServer: { method: 'POST', path: () => '/v1/servers/add', body: (r) => r },
  removeServer: { method: 'POST', path: () => '/v1/servers/remove', body: (r) => r },
  trustHostKey: { method: 'POST', path: () => '/v1/host-keys/trust', body: (r) => r },
  sshPrompts: { method: 'GET', path: () => '/v1/ssh-prompts', body: () => undefined },
  answerSshPrompt: { method: 'POST', path: () => '/v1/ssh-prompts/answer', body: (r) => r },
  cancelSshPrompt: { method: 'POST', path: () => '/v1/ssh-prompts/cancel', body: (r) => r },
};

export type BridgeBackend = <C extends BridgeChannel>(channel: C, request: BridgeRequest<C>) => Promise<BridgeResponse<C>>;

/** Answers bridge calls through the agent's control socket (the tray and the UI tests share it). */
export function controlBackend(client: ControlClient): BridgeBackend {
  return <C extends BridgeChannel>(channel: C, request: BridgeRequest<C>) => {
    const route = ROUTES[channel];
    return client.call(route.method, route.path(request), BridgeCalls[channel].response, route.body(request)) as Promise<BridgeResponse<C>>;
  };
}
