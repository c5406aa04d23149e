import * as z from 'zod';
import {
  AgentStatus,
  ApprovalsResponse,
  ApproveRequest,
  ControlErrorCodes,
  OkResponse,
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

/**
 * Channel → request and response schemas. A new call is named in bridge-channels.ts and given its
 * schemas here; `satisfies` refuses a name without schemas and schemas without a name.
 */
export const BridgeCalls = {
  status: { request: Empty, response: AgentStatus },
  approvals: { request: Empty, response: ApprovalsResponse },
  approve: { request: ApproveRequest.extend({ id: z.string().regex(/^[\w-]{1,64}$/) }).strict(), response: OkResponse },
  revoke: { request: RevokeRequest.strict(), response: RevokeResponse },
  connect: { request: ServerRequest, response: OkResponse },
  disconnect: { request: DisconnectRequest, response: OkResponse },
  audit: { request: AuditTailRequest, response: AuditTailResponse },
  addCredential: { request: AddCredentialRequest, response: CredentialResponse },
  removeCredential: { request: CredentialNameRequest, response: OkResponse },
  credentialServers: { request: CredentialServersRequest, response: CredentialResponse },
  revokeLease: { request: RevokeLeaseRequest, response: RevokeResponse },
  settings: { request: Empty, response: AppSettings },
  saveSettings: { request: SettingsPatch, response: AppSettings },
  servers: { request: Empty, response: ServerListResponse },
  addServer: { request: AddServerRequest, response: OkResponse },
  removeServer: { request: ServerNameRequest, response: OkResponse },
  trustHostKey: { request: TrustHostKeyRequest, response: OkResponse },
  /** SSH's questions (passphrase, password, one-time code, unknown host key) waiting for a person. */
  sshPrompts: { request: Empty, response: SshPromptsResponse },
  /** The answer crosses once, to the waiting login; no response, event or log carries it back. */
  answerSshPrompt: { request: SshPromptAnswerRequest, response: OkResponse },
  cancelSshPrompt: { request: SshPromptCancelRequest, response: OkResponse },
} as const satisfies Record<BridgeChannel, { request: z.ZodType; response: z.ZodType }>;

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

export function isBridgeChannel(name: unknown): name is BridgeChannel {
  return typeof name === 'string' && Object.hasOwn(BridgeCalls, name);
}
