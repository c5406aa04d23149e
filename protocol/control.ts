import * as z from 'zod';
import { LeaseScope, ProcessInfo } from './leases.js';

/**
 * The agent's local control API: HTTP over its Unix socket (a named pipe on Windows),
 * used by `tether status/revoke/approve/...` and later by the tray app's renderer.
 * Every request carries `tether-control: <CONTROL_VERSION>`; browser-origin requests
 * (any Origin or Referer header) are refused. Its calls are one table, AgentControlCalls in
 * bridge.ts. v2: every call's input is its JSON body (v1 put an approval's id in the path).
 */
export const CONTROL_VERSION = 2;
export const CONTROL_HEADER = 'tether-control';
export const CONTROL_PREFIX = `/v${CONTROL_VERSION}`;
/** Server-sent events; `?answer=ssh-prompts` from a client that shows SSH's questions to a person. */
export const CONTROL_EVENTS_PATH = `${CONTROL_PREFIX}/events`;

export const ControlErrorCodes = ['version-mismatch', 'forbidden', 'not-found', 'bad-request', 'conflict', 'unavailable', 'internal'] as const;
export const ControlError = z.object({ error: z.object({ code: z.enum(ControlErrorCodes), message: z.string() }) });
export type ControlError = z.infer<typeof ControlError>;

export const LinkStates = ['CONNECTING', 'HANDSHAKING', 'READY', 'CLOSED'] as const;

export const LeaseView = z.object({
  leaseId: z.string(),
  credential: z.string(),
  scope: LeaseScope,
  expiresAt: z.number(),
});
export type LeaseView = z.infer<typeof LeaseView>;

export const ServerView = z.object({
  server: z.string(),
  state: z.enum(LinkStates),
  serverId: z.string().optional(),
  fingerprint: z.string().optional(),
  reason: z.string().optional(),
  lending: z.array(z.string()),
  /** Providers granted "while connected" on this link. */
  allowed: z.array(z.string()),
  leases: z.array(LeaseView),
  activeStreams: z.number(),
  /** Relay streams in flight on this link per credential: every credential lent here (0 included), plus any still streaming. */
  activeByCredential: z.record(z.string(), z.number()).optional(),
  /** Set while the agent is retrying a lost link: when the next attempt starts, and why the last failed. */
  retry: z.object({ attempt: z.number(), at: z.number().optional(), last: z.string().optional() }).optional(),
  /** The last attempt met a host key no known_hosts line vouches for (trust-on-first-use offers it). */
  hostKey: z.object({ fingerprint: z.string(), keyType: z.string(), host: z.string(), port: z.number() }).optional(),
  /** SSH: the server's daemon is not the one this laptop asked for (older bundle, other heartbeat) and was kept, in one line. */
  note: z.string().optional(),
});
export type ServerView = z.infer<typeof ServerView>;

export const CredentialView = z.object({
  name: z.string(),
  provider: z.string(),
  baseUrl: z.string().optional(),
  store: z.string(),
  addedAt: z.string().optional(),
  /** Servers allowed to use it; absent = every server. */
  servers: z.array(z.string()).optional(),
});
export type CredentialView = z.infer<typeof CredentialView>;

/** GET /v1/status. Never a secret, a token or a pair code. */
export const AgentStatus = z.object({
  pid: z.number(),
  name: z.string(),
  fingerprint: z.string().optional(),
  startedAt: z.string(),
  socket: z.string(),
  servers: z.array(ServerView),
  credentials: z.array(CredentialView),
  pendingApprovals: z.number(),
  /** Questions an SSH login is waiting on (passphrase, password, code, unknown host key). */
  pendingSshPrompts: z.number().optional(),
});
export type AgentStatus = z.infer<typeof AgentStatus>;

/** POST /v1/revoke */
export const RevokeRequest = z.object({ server: z.string().optional() });
export type RevokeRequest = z.infer<typeof RevokeRequest>;
export const RevokeResponse = z.object({ servers: z.array(z.string()), leases: z.number() });
export type RevokeResponse = z.infer<typeof RevokeResponse>;

export const ApprovalView = z.object({
  id: z.string(),
  server: z.string(),
  provider: z.string(),
  process: ProcessInfo,
  createdAt: z.number(),
  expiresAt: z.number(),
  asks: z.number(),
  /** How long a lease allowed now lives (allow-once; allow-while-connected leases are renewed until the link ends). */
  leaseTtlMs: z.number().optional(),
  /** A subscription login: "Claude Pro/Max subscription, lent only to Claude Code". */
  subscription: z.string().optional(),
});
export type ApprovalView = z.infer<typeof ApprovalView>;

/** GET /v1/approvals */
export const ApprovalsResponse = z.object({ approvals: z.array(ApprovalView) });
export type ApprovalsResponse = z.infer<typeof ApprovalsResponse>;

/** POST /v1/approvals/:id — 404 if unknown, 409 if already decided. */
export const ApprovalDecision = z.enum(['allow-once', 'allow', 'deny']);
export const ApproveRequest = z.object({ decision: ApprovalDecision });
export type ApproveRequest = z.infer<typeof ApproveRequest>;
export const OkResponse = z.object({ ok: z.literal(true) });
export type OkResponse = z.infer<typeof OkResponse>;

/** POST /v1/credentials/reload */
export const ReloadResponse = z.object({ credentials: z.array(z.string()) });
export type ReloadResponse = z.infer<typeof ReloadResponse>;

/** POST /v1/memory-secret: for `--store memory`, the secret lives only in the running agent. */
export const MemorySecretRequest = z.object({ name: z.string().min(1).max(48), secret: z.string().min(1).max(64 * 1024) });
export type MemorySecretRequest = z.infer<typeof MemorySecretRequest>;

/** GET /v1/events: server-sent events, `event:` is the kind, `data:` the JSON below. */
export const LinkEvent = z.object({ server: z.string(), state: z.enum(LinkStates), reason: z.string().optional() });
export type LinkEvent = z.infer<typeof LinkEvent>;
export const ApprovalEvent = z.object({
  kind: z.enum(['added', 'resolved']),
  approval: ApprovalView,
  answer: ApprovalDecision.optional(),
  by: z.string().optional(),
});
export type ApprovalEvent = z.infer<typeof ApprovalEvent>;
export const ActivityEvent = z.object({
  kind: z.enum(['lease', 'relay', 'revoke', 'lease-ended']),
  server: z.string(),
  credential: z.string().optional(),
  decision: z.string().optional(),
  leaseId: z.string().optional(),
  status: z.union([z.number(), z.string()]).optional(),
  bytesUp: z.number().optional(),
  bytesDown: z.number().optional(),
  ms: z.number().optional(),
  pid: z.number().optional(),
});
export type ActivityEvent = z.infer<typeof ActivityEvent>;

/**
 * Something an SSH login asks a person (the user's ssh through SSH_ASKPASS, or the built-in
 * client). Never carries an answer: the answer goes in once, by `POST /v1/ssh-prompts/answer`.
 */
export const SshPromptKinds = ['passphrase', 'password', 'otp', 'host-key', 'confirm', 'text'] as const;
export const SshPromptView = z.object({
  id: z.string(),
  /** The server as the user named it. */
  server: z.string(),
  kind: z.enum(SshPromptKinds),
  /** What ssh (or the server's PAM) said, as it said it. */
  text: z.string(),
  /** False for secrets: a UI shows a password field and never the answer. */
  echo: z.boolean(),
  /** Unknown host key: what ssh showed, so the person can compare it with the server's. */
  fingerprint: z.string().optional(),
  keyType: z.string().optional(),
  /** 2 and up: ssh asks the same again, so the last answer was refused. */
  attempt: z.number(),
  createdAt: z.number(),
  expiresAt: z.number(),
});
export type SshPromptView = z.infer<typeof SshPromptView>;

/** GET /v1/ssh-prompts */
export const SshPromptsResponse = z.object({ prompts: z.array(SshPromptView) });
export type SshPromptsResponse = z.infer<typeof SshPromptsResponse>;
/** POST /v1/ssh-prompts/answer: 404 when it was already answered, cancelled or expired. */
export const SshPromptAnswerRequest = z.object({ id: z.string().regex(/^[\w-]{1,64}$/), answer: z.string().max(4096) }).strict();
export type SshPromptAnswerRequest = z.infer<typeof SshPromptAnswerRequest>;
/** POST /v1/ssh-prompts/cancel: ssh is told nobody answers (its login then fails). */
export const SshPromptCancelRequest = z.object({ id: z.string().regex(/^[\w-]{1,64}$/) }).strict();
export type SshPromptCancelRequest = z.infer<typeof SshPromptCancelRequest>;
export const SshPromptEvent = z.object({
  kind: z.enum(['added', 'resolved']),
  prompt: SshPromptView,
  /** For `resolved`: answered (by a person), cancelled (by a person, or ssh went away) or expired. */
  by: z.enum(['person', 'cancelled', 'expired']).optional(),
});
export type SshPromptEvent = z.infer<typeof SshPromptEvent>;

export type ControlEvent =
  | { event: 'link'; data: LinkEvent }
  | { event: 'approval'; data: ApprovalEvent }
  | { event: 'activity'; data: ActivityEvent }
  | { event: 'ssh-prompt'; data: SshPromptEvent };
