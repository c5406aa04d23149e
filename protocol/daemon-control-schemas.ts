import * as z from 'zod';
import { DisplayName, ProviderName, PublicKey } from './encoding.js';
import type { DaemonControlCall, LeaseAnswer } from './daemon-control.js';

/** The daemon control API's schemas (routes and versions: daemon-control.ts, which `tether token` loads without zod). */
export const LeasePurpose = z.enum(['token', 'env', 'exec']);
export type LeasePurpose = z.infer<typeof LeasePurpose>;

/** A lease for `credential` (a name the laptop lends), for `tether token/env/exec`. */
export const LeaseCall = z.strictObject({
  credential: ProviderName,
  /** Which laptop, when several are linked: its name. */
  as: DisplayName.optional(),
  purpose: LeasePurpose.default('token'),
  /** `tether exec`: a stable key its child keeps across the laptop's reconnects (exec-handles.ts). */
  handle: z.boolean().optional(),
});
export type LeaseCall = z.infer<typeof LeaseCall>;

/** The full schema of what parseLeaseAnswer (daemon-control.ts) checks by hand on `tether token`'s path; daemon-control.test.ts holds them equal. */
export const LeaseAnswerSchema = z.object({
  token: z.string(),
  leaseId: z.string(),
  name: z.string(),
  provider: z.string(),
  laptop: z.string(),
  scope: z.string(),
  expiresAt: z.string(),
  baseUrl: z.string(),
  proxyUrl: z.string(),
}) satisfies z.ZodType<LeaseAnswer>;

export const ReleaseCall = z.strictObject({ token: z.string().min(1).max(200) });
export const ReleaseAnswer = z.object({ released: z.boolean() });

const Iso = z.string();
export const StatusAnswer = z.object({
  serverId: z.string(),
  fingerprint: z.string(),
  pid: z.number(),
  /** Absent from daemons older than these fields. */
  version: z.string().optional(),
  bundle: z.string().optional(),
  heartbeatMs: z.number().optional(),
  /** Asked to make way for another bundle or heartbeat; goes once no laptop is linked. */
  retiring: z.boolean().optional(),
  proxyUrl: z.string(),
  socket: z.string(),
  laptops: z.array(
    z.object({
      name: z.string(),
      agentId: z.string(),
      connectedAt: Iso,
      /** What it lends: credential names and the provider spec each follows. */
      providers: z.array(z.object({ name: z.string(), provider: z.string(), active: z.number().optional() })),
      leases: z.number(),
    }),
  ),
  /** Never the token: status output ends up in terminals, logs and bug reports. */
  leases: z.array(z.object({ leaseId: z.string(), laptop: z.string(), name: z.string(), provider: z.string(), scope: z.string(), expiresAt: Iso, pid: z.number() })),
});
export type StatusAnswer = z.infer<typeof StatusAnswer>;

export const PairCodeAnswer = z.object({
  code: z.string(),
  fingerprint: z.string(),
  serverId: z.string(),
  socket: z.string(),
  /** With `serve --listen`: the wss:// URL and its certificate's fingerprint. */
  listen: z.string().optional(),
  tlsFingerprint: z.string().optional(),
  expiresAt: Iso,
});
export type PairCodeAnswer = z.infer<typeof PairCodeAnswer>;

/** `tether attach` with another bundle or heartbeat asks the running daemon to make way. */
export const RetireCall = z.strictObject({ agentKey: PublicKey });
export const RetireAnswer = z.object({
  /** True: the daemon ends every lease, says bye and exits now. False: it stays while in use. */
  retiring: z.boolean(),
  /** Who still depends on it, besides the laptop asking: other linked laptops, live `tether exec` handles. */
  inUse: z.object({ laptops: z.array(z.string()), execs: z.number() }),
});
export type RetireAnswer = z.infer<typeof RetireAnswer>;

const Empty = z.strictObject({});

/** Each call's request and answer. `satisfies`: every route has schemas, no schemas lack a route. */
export const DaemonControlSchemas = {
  lease: { request: LeaseCall, response: LeaseAnswerSchema },
  release: { request: ReleaseCall, response: ReleaseAnswer },
  status: { request: Empty, response: StatusAnswer },
  pairCode: { request: Empty, response: PairCodeAnswer },
  retire: { request: RetireCall, response: RetireAnswer },
} as const satisfies { [C in DaemonControlCall]: { request: z.ZodType; response: z.ZodType } };

/** What a client sends, and what the daemon's handler gets once it is checked (defaults filled in). */
export type DaemonControlRequest<C extends DaemonControlCall> = z.input<(typeof DaemonControlSchemas)[C]['request']>;
export type DaemonControlCheckedRequest<C extends DaemonControlCall> = z.output<(typeof DaemonControlSchemas)[C]['request']>;
export type DaemonControlResponse<C extends DaemonControlCall> = z.infer<(typeof DaemonControlSchemas)[C]['response']>;
