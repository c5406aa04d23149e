import type { BridgeChannel, BridgeRequest, BridgeResponse } from '../../protocol/bridge.js';
import type { AgentControlClient } from './client.js';

export type BridgeBackend = <C extends BridgeChannel>(channel: C, request: BridgeRequest<C>) => Promise<BridgeResponse<C>>;

/** Answers bridge calls through the agent's control socket (the tray and the UI tests share it): each channel is a control call. */
export function controlBackend(client: AgentControlClient): BridgeBackend {
  return (channel, request) => client.call(channel, request);
}
