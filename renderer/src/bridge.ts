import type { BridgeChannel, BridgeErrorCode, BridgeRequest, BridgeResponse, TetherBridge } from '../../protocol/bridge.js';

declare global {
  interface Window {
    tether?: TetherBridge;
  }
}

/** A refusal from the agent or the main process, with its stable code. */
export class BridgeCallError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function bridge(): TetherBridge {
  if (!window.tether) throw new BridgeCallError('unavailable', 'the Tether bridge is missing: open this page from the Tether app');
  return window.tether;
}

export async function call<C extends BridgeChannel>(channel: C, request: BridgeRequest<C>): Promise<BridgeResponse<C>> {
  const result = await bridge().call(channel, request);
  if (!result.ok) throw new BridgeCallError(result.error.code, result.error.message);
  return result.value;
}
