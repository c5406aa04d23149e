import * as z from 'zod';
import { LeaseId, ProviderName } from './encoding.js';
import { isValidKeyHeader } from './providers.js';

/** The credentials the agent lends on this link; sent after welcome and on change. */
export const Offer = z.object({
  t: z.literal('offer'),
  credentials: z
    .array(
      z.object({
        /** What tools put in the proxy path: `/work-openai/v1/...`. */
        name: ProviderName,
        /** Which provider spec (protocol/providers.ts) it follows. */
        provider: ProviderName,
        mode: z.enum(['relay', 'forward']),
      }),
    )
    .max(64),
});
export type Offer = z.infer<typeof Offer>;

const Cmdline = z.array(z.string().max(4096)).max(64);

/** The requesting process as the daemon read it from /proc: for the person approving, never for access decisions. */
export const ProcessInfo = z.object({
  pid: z.number().int().nonnegative(),
  uid: z.number().int().nonnegative(),
  user: z.string().max(64).optional(),
  cmdline: Cmdline,
  cwd: z.string().max(4096).optional(),
  parents: z.array(z.object({ pid: z.number().int().nonnegative(), cmdline: Cmdline })).max(16),
});
export type ProcessInfo = z.infer<typeof ProcessInfo>;

export const RequestId = z.string().regex(/^rq_[A-Za-z0-9_-]{4,64}$/);

/** daemon → agent: a process on the server wants a lease. */
export const LeaseRequest = z.object({
  t: z.literal('lease.request'),
  id: RequestId,
  /** The credential's name, as offered (not its provider spec). */
  credential: ProviderName,
  purpose: z.enum(['token', 'env', 'exec']),
  process: ProcessInfo,
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

/**
 * Forward mode: a secret minted on the laptop (a credential whose secret is a command's
 * output) that the daemon holds in memory and sends to the provider itself. Validity is
 * relative (`expiresInMs` from receipt), so the laptop's and server's clocks need not agree.
 */
export const ForwardSecret = z.object({
  /** Goes into an HTTP header: printable ASCII, no spaces or line breaks. */
  secret: z.string().min(1).max(8192).regex(/^[\x21-\x7e]+$/),
  expiresInMs: z.number().int().min(1000).max(24 * 60 * 60 * 1000),
});
export type ForwardSecret = z.infer<typeof ForwardSecret>;

/** On a grant, also where the daemon sends the secret: the credential's base URL and key header. */
export const ForwardGrant = ForwardSecret.extend({
  baseUrl: z.string().max(2048).regex(/^https?:\/\/[^\s]+$/),
  keyHeader: z.string().refine(isValidKeyHeader, 'not a header that can carry a key'),
  keyPrefix: z.string().max(32).regex(/^[\x20-\x7e]*$/),
});
export type ForwardGrant = z.infer<typeof ForwardGrant>;

/** How long a grant holds: see LeaseGrant. */
export const LeaseScope = z.enum(['once', 'connection']);
export type LeaseScope = z.infer<typeof LeaseScope>;

/**
 * agent → daemon. `once`: one lease, never renewed. `connection`: renewed by the agent
 * while the link lives, and later requests like it are granted without asking again.
 */
export const LeaseGrant = z.object({
  t: z.literal('lease.grant'),
  id: RequestId,
  leaseId: LeaseId,
  scope: LeaseScope,
  ttlMs: z.number().int().min(1000),
  /** Only for a credential the laptop lends in forward mode. */
  forward: ForwardGrant.optional(),
});
export type LeaseGrant = z.infer<typeof LeaseGrant>;

export const DenyReasons = ['denied', 'timeout', 'unknown-credential', 'error'] as const;
export const LeaseDeny = z.object({
  t: z.literal('lease.deny'),
  id: RequestId,
  reason: z.enum(DenyReasons),
  message: z.string().max(300),
});
export type LeaseDeny = z.infer<typeof LeaseDeny>;

/** agent → daemon: extend a lease it granted (the link is alive and the policy still allows it). */
export const LeaseRenew = z.object({
  t: z.literal('lease.renew'),
  leaseId: LeaseId,
  ttlMs: z.number().int().min(1000),
  /** Forward mode: a freshly minted secret replacing the one the daemon holds. */
  forward: ForwardSecret.optional(),
});
export type LeaseRenew = z.infer<typeof LeaseRenew>;

/** agent → daemon: revoke some or all of this link's leases now. */
export const LeaseRevoke = z.object({
  t: z.literal('lease.revoke'),
  leaseIds: z.array(LeaseId).max(1024).optional(),
  reason: z.string().max(200),
});
export type LeaseRevoke = z.infer<typeof LeaseRevoke>;

export const LeaseEndReasons = ['expired', 'revoked', 'released', 'daemon-stopping'] as const;
/** daemon → agent: a lease is gone (expiry, revoke, or the tool released it), so the laptop's view stays true. */
export const LeaseEnded = z.object({
  t: z.literal('lease.ended'),
  leaseId: LeaseId,
  reason: z.enum(LeaseEndReasons),
});
export type LeaseEnded = z.infer<typeof LeaseEnded>;
