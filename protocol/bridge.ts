import * as z from 'zod';
import {
  AgentStatus,
  ApprovalsResponse,
  ApproveRequest,
  CONTROL_PREFIX,
  ControlErrorCodes,
  MemorySecretRequest,
  OkResponse,
  ReloadResponse,
  RevokeRequest,
  RevokeResponse,
  CredentialView,
  SshPromptAnswerRequest,
  SshPromptCancelRequest,
  SshPromptsResponse,
  type ControlEvent,
} from './control.js';
import { ProviderName } from './encoding.js';
import { BRIDGE_CHANNELS, BRIDGE_EVENT_CHANNEL, BRIDGE_PREFIX, type BridgeChannel } from './bridge-channels.js';

export { BRIDGE_CHANNELS, BRIDGE_EVENT_CHANNEL, BRIDGE_PREFIX, type BridgeChannel };

/**
 * The tray app's one typed API: what the renderer may ask of the agent. The preload exposes it
 * as `window.tether`; the main process validates every request with these schemas (the same
 * ones the control socket uses) and answers through the agent's control API, so the tray,
 * the CLI and the tests all speak one contract.
 */
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

/**
 * Adding a credential from the UI: the secret crosses the bridge once, into the agent's vault
 * (the keychain where one answers, else the encrypted file); no response, event, log or status
 * ever carries it back.
 */
export const AddCredentialRequest = z
  .object({
    provider: ProviderName,
    name: ProviderName.optional(),
    baseUrl: z.string().url().max(2048).optional(),
    secret: z.string().min(1).max(64 * 1024),
    /** Servers allowed to use it; omitted = every server. */
    servers: z.array(z.string().min(1).max(512)).max(64).optional(),
  })
  .strict();
export type AddCredentialRequest = z.infer<typeof AddCredentialRequest>;
export const CredentialNameRequest = z.object({ name: ProviderName }).strict();
/** `servers: null` lends the credential to every server again. */
export const CredentialServersRequest = z.object({ name: ProviderName, servers: z.array(z.string().min(1).max(512)).max(64).nullable() }).strict();
export type CredentialServersRequest = z.infer<typeof CredentialServersRequest>;
export const CredentialResponse = z.object({ credential: CredentialView });

/** One lease, by id (`ls_…`): the agent sends `lease.revoke {leaseIds:[id]}` to its daemon. */
export const RevokeLeaseRequest = z.object({ leaseId: z.string().regex(/^ls_[\w-]{1,64}$/) }).strict();
export type RevokeLeaseRequest = z.infer<typeof RevokeLeaseRequest>;

/** The app's preferences, kept by the agent in settings.json (non-secret). */
export const AppSettings = z.object({
  /** What a request gets when no rule matches: ask the person, or answer it without asking. */
  approvalDefault: z.enum(['ask', 'allow', 'deny']).default('ask'),
  approvalTimeoutS: z.number().int().min(5).max(600).default(60),
  reconnectOnWake: z.boolean().default(true),
  /** Heartbeat asked of daemons this laptop starts; a running daemon keeps its own. */
  heartbeatS: z.number().int().min(1).max(60).default(1),
  startAtLogin: z.boolean().default(false),
});
export type AppSettings = z.infer<typeof AppSettings>;
export const SettingsPatch = z
  .object({
    approvalDefault: z.enum(['ask', 'allow', 'deny']),
    approvalTimeoutS: z.number().int().min(5).max(600),
    reconnectOnWake: z.boolean(),
    heartbeatS: z.number().int().min(1).max(60),
    startAtLogin: z.boolean(),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

/** A server the agent can connect to: a Host of ~/.ssh/config or one added by hand. */
export const ServerListing = z.object({
  name: z.string(),
  source: z.enum(['ssh-config', 'added']),
  url: z.string(),
  hostName: z.string().optional(),
  user: z.string().optional(),
  port: z.number().optional(),
});
export type ServerListing = z.infer<typeof ServerListing>;
export const ServerListResponse = z.object({ servers: z.array(ServerListing) });
export const AddServerRequest = z.object({ name: z.string().min(1).max(64), url: z.string().min(1).max(512) }).strict();
export const ServerNameRequest = z.object({ name: z.string().min(1).max(64) }).strict();
/**
 * Trust on first use: the fingerprint the person saw in the prompt. The agent adds the key to
 * known_hosts only if it is the one the server presented on the last refused attempt.
 */
export const TrustHostKeyRequest = z.object({ server: z.string().min(1).max(512), fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/) }).strict();
export type TrustHostKeyRequest = z.infer<typeof TrustHostKeyRequest>;

/** One call of the agent's control socket: where it lands and what it takes and gives. */
interface AgentControlCallSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly request: z.ZodType;
  readonly response: z.ZodType;
}

const call = <M extends 'GET' | 'POST', Q extends z.ZodType, A extends z.ZodType>(method: M, path: string, request: Q, response: A) =>
  ({ method, path: `${CONTROL_PREFIX}/${path}`, request, response }) as const;

/**
 * The agent's control API, written once: every call's method, path and schemas. The control
 * server routes and validates from this table, the CLI's client and the tray's bridge call
 * through it, so adding a call is one entry here and one handler (the server's handler table
 * is typed from this one: a call without a handler does not compile). GET calls take `{}`.
 * Events (`GET /v2/events`, server-sent) are a stream, not a call, and live in event-stream.ts.
 */
export const AgentControlCalls = {
  status: call('GET', 'status', Empty, AgentStatus),
  approvals: call('GET', 'approvals', Empty, ApprovalsResponse),
  approve: call('POST', 'approvals/answer', ApproveRequest.extend({ id: z.string().regex(/^[\w-]{1,64}$/) }).strict(), OkResponse),
  revoke: call('POST', 'revoke', RevokeRequest.strict(), RevokeResponse),
  connect: call('POST', 'connect', ServerRequest, OkResponse),
  disconnect: call('POST', 'disconnect', DisconnectRequest, OkResponse),
  audit: call('POST', 'audit', AuditTailRequest, AuditTailResponse),
  addCredential: call('POST', 'credentials/add', AddCredentialRequest, CredentialResponse),
  removeCredential: call('POST', 'credentials/remove', CredentialNameRequest, OkResponse),
  credentialServers: call('POST', 'credentials/servers', CredentialServersRequest, CredentialResponse),
  revokeLease: call('POST', 'leases/revoke', RevokeLeaseRequest, RevokeResponse),
  settings: call('GET', 'settings', Empty, AppSettings),
  saveSettings: call('POST', 'settings', SettingsPatch, AppSettings),
  servers: call('GET', 'servers', Empty, ServerListResponse),
  addServer: call('POST', 'servers/add', AddServerRequest, OkResponse),
  removeServer: call('POST', 'servers/remove', ServerNameRequest, OkResponse),
  trustHostKey: call('POST', 'host-keys/trust', TrustHostKeyRequest, OkResponse),
  /** SSH's questions (passphrase, password, one-time code, unknown host key) waiting for a person. */
  sshPrompts: call('GET', 'ssh-prompts', Empty, SshPromptsResponse),
  /** The answer crosses once, to the waiting login; no response, event or log carries it back. */
  answerSshPrompt: call('POST', 'ssh-prompts/answer', SshPromptAnswerRequest, OkResponse),
  cancelSshPrompt: call('POST', 'ssh-prompts/cancel', SshPromptCancelRequest, OkResponse),
  // The CLI's alone, never the renderer's (not bridge channels):
  reloadCredentials: call('POST', 'credentials/reload', Empty, ReloadResponse),
  /** `tether creds add --memory`: the secret goes to the agent's memory only. */
  memorySecret: call('POST', 'memory-secret', MemorySecretRequest.extend({ name: ProviderName }).strict(), OkResponse),
} as const satisfies Record<string, AgentControlCallSpec>;

export type AgentControlCall = keyof typeof AgentControlCalls;
export type AgentControlRequest<C extends AgentControlCall> = z.infer<(typeof AgentControlCalls)[C]['request']>;
export type AgentControlResponse<C extends AgentControlCall> = z.infer<(typeof AgentControlCalls)[C]['response']>;

/**
 * What the renderer may call: the bridge channels (bridge-channels.ts), each one a call of the
 * table above. `satisfies` refuses a channel that is not a control call.
 */
export const BridgeCalls: Pick<typeof AgentControlCalls, BridgeChannel> = AgentControlCalls satisfies Record<BridgeChannel, AgentControlCallSpec>;

export type BridgeRequest<C extends BridgeChannel> = z.infer<(typeof BridgeCalls)[C]['request']>;
export type BridgeResponse<C extends BridgeChannel> = z.infer<(typeof BridgeCalls)[C]['response']>;

export const BridgeErrorCodes = [...ControlErrorCodes, 'unknown-channel', 'forbidden-sender'] as const;
export type BridgeErrorCode = (typeof BridgeErrorCodes)[number];
/** What crosses IPC: never a thrown Error (Electron mangles their messages), always this. */
export type BridgeResult<T> = { ok: true; value: T } | { ok: false; error: { code: BridgeErrorCode; message: string } };

/** `window.tether` in the renderer. */
export interface TetherBridge {
  call<C extends BridgeChannel>(channel: C, request: BridgeRequest<C>): Promise<BridgeResult<BridgeResponse<C>>>;
  /** Agent events (links, approvals, activity, SSH prompts); returns the unsubscribe function. */
  onEvent(listener: (event: ControlEvent) => void): () => void;
}

const BRIDGE_CHANNEL_SET: ReadonlySet<string> = new Set(BRIDGE_CHANNELS);

/** Only the bridge's channels: the table also holds calls the renderer may never make. */
export function isBridgeChannel(name: unknown): name is BridgeChannel {
  return typeof name === 'string' && BRIDGE_CHANNEL_SET.has(name);
}
