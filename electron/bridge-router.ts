import { AgentError } from '../agent/errors.js';
import { ControlRequestError } from '../agent/control/client.js';
import type { BridgeBackend } from '../agent/control/bridge-backend.js';
import { BRIDGE_PREFIX, BridgeCalls, BridgeErrorCodes, isBridgeChannel, type BridgeErrorCode, type BridgeResult } from '../protocol/bridge.js';

/**
 * Main-process side of the preload bridge: an IPC request is answered only if its channel is
 * on the allow-list, its sender is one of our own pages, and its payload passes the wire
 * schema. Everything else is refused with a stable code, never thrown across IPC.
 */
export class BridgeRouter {
  constructor(
    private readonly backend: BridgeBackend,
    /** True for URLs of pages we loaded ourselves (file:// of the built renderer). */
    private readonly trustedSender: (url: string) => boolean,
  ) {}

  /** `ipcChannel` is the full IPC name (`tether:status`); `senderUrl` the frame that sent it. */
  async handle(ipcChannel: unknown, payload: unknown, senderUrl: string): Promise<BridgeResult<unknown>> {
    if (!this.trustedSender(senderUrl)) return refuse('forbidden-sender', 'this page may not talk to the tether agent');
    const name = typeof ipcChannel === 'string' && ipcChannel.startsWith(BRIDGE_PREFIX) ? ipcChannel.slice(BRIDGE_PREFIX.length) : undefined;
    if (!isBridgeChannel(name)) return refuse('unknown-channel', `no such bridge call: ${String(ipcChannel).slice(0, 60)}`);
    const parsed = BridgeCalls[name].request.safeParse(payload ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuse('bad-request', `${name}: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
    }
    try {
      // The schema table ties each channel to its request type; TypeScript cannot follow the index.
      return { ok: true, value: await this.backend(name, parsed.data as never) };
    } catch (err) {
      if (err instanceof ControlRequestError) return refuse(asCode(err.code), err.message);
      if (err instanceof AgentError) return refuse(err.code === 'no-agent' ? 'unavailable' : 'bad-request', err.message);
      return refuse('internal', 'the tether agent failed to answer');
    }
  }
}

function asCode(code: string): BridgeErrorCode {
  return (BridgeErrorCodes as readonly string[]).includes(code) ? (code as BridgeErrorCode) : 'internal';
}

function refuse(code: BridgeErrorCode, message: string): BridgeResult<never> {
  return { ok: false, error: { code, message } };
}
