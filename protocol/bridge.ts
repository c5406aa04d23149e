import { z } from 'zod';
import {
  AgentStatus,
  ApprovalsResponse,
  ApproveRequest,
  ControlErrorCodes,
  OkResponse,
  RevokeRequest,
  RevokeResponse,
  type ControlEvent,
} from './control.js';

/**
 * The tray app's one typed API: what the renderer may ask of the agent. The preload exposes it
 * as `window.tether`; the main process validates every request with these schemas (the same
 * ones the control socket uses) and answers through the agent's control API, so the tray,
 * the CLI and the tests all speak one contract.
 */
export const BRIDGE_PREFIX = 'tether:';
/** The one channel main pushes agent events on (ControlEvent). */
export const BRIDGE_EVENT_CHANNEL = `${BRIDGE_PREFIX}event`;

export const ServerRequest = z.object({ server: z.string().min(1).max(512) }).strict();
export type ServerRequest = z.infer<typeof ServerRequest>;
export const DisconnectRequest = z.object({ server: z.string().min(1).max(512).optional() }).strict();
export type DisconnectRequest = z.infer<typeof DisconnectRequest>;
export const Empty = z.object({}).strict();

export const AuditTailRequest = z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict();
export const AuditLine = z.object({
  time: z.string(),
  event: z.string(),
  server: z.string(),
  provider: z.string().optional(),
  name: z.string().optional(),
  decision: z.string().optional(),
  scope: z.string().optional(),
  status: z.union([z.number(), z.string()]).optional(),
  detail: z.string().optional(),
  process: z.object({ pid: z.number(), user: z.string().optional(), cmdline: z.array(z.string()), cwd: z.string().optional() }).optional(),
});
export type AuditLine = z.infer<typeof AuditLine>;
export const AuditTailResponse = z.object({ entries: z.array(AuditLine) });
export type AuditTailResponse = z.infer<typeof AuditTailResponse>;

/** Channel → request and response schemas. Adding a call means adding it here, nowhere else. */
export const BridgeCalls = {
  status: { request: Empty, response: AgentStatus },
  approvals: { request: Empty, response: ApprovalsResponse },
  approve: { request: ApproveRequest.extend({ id: z.string().regex(/^[\w-]{1,64}$/) }).strict(), response: OkResponse },
  revoke: { request: RevokeRequest.strict(), response: RevokeResponse },
  connect: { request: ServerRequest, response: OkResponse },
  disconnect: { request: DisconnectRequest, response: OkResponse },
  audit: { request: AuditTailRequest, response: AuditTailResponse },
} as const;

export type BridgeChannel = keyof typeof BridgeCalls;
export const BRIDGE_CHANNELS = Object.keys(BridgeCalls) as BridgeChannel[];
export type BridgeRequest<C extends BridgeChannel> = z.infer<(typeof BridgeCalls)[C]['request']>;
export type BridgeResponse<C extends BridgeChannel> = z.infer<(typeof BridgeCalls)[C]['response']>;

export const BridgeErrorCodes = [...ControlErrorCodes, 'unknown-channel', 'forbidden-sender'] as const;
export type BridgeErrorCode = (typeof BridgeErrorCodes)[number];
/** What crosses IPC: never a thrown Error (Electron mangles their messages), always this. */
export type BridgeResult<T> = { ok: true; value: T } | { ok: false; error: { code: BridgeErrorCode; message: string } };

/** `window.tether` in the renderer. */
export interface TetherBridge {
  call<C extends BridgeChannel>(channel: C, request: BridgeRequest<C>): Promise<BridgeResult<BridgeResponse<C>>>;
  /** Agent events (links, approvals, activity); returns the unsubscribe function. */
  onEvent(listener: (event: ControlEvent) => void): () => void;
}

export function isBridgeChannel(name: unknown): name is BridgeChannel {
  return typeof name === 'string' && Object.hasOwn(BridgeCalls, name);
}
