import type { LeaseRequest, ProcessInfo } from '../protocol/index.js';
import { LeaseRequestError, type AgentLink, type OfferedCredential } from './agent-link.js';
import { ForwardedCredential } from './forward-relay.js';
import type { Lease, LeaseTable } from './lease-table.js';

export interface GrantContext {
  readonly leases: LeaseTable;
  readonly maxLeaseTtlMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * Asks `link`'s laptop for a lease on `offered` and, once granted, mints its token in the
 * table. Rejects with a LeaseRequestError (also 'no-laptop' when the link closed meanwhile).
 */
export async function grantLease(
  ctx: GrantContext,
  link: AgentLink,
  offered: OfferedCredential,
  purpose: LeaseRequest['purpose'],
  process: ProcessInfo,
): Promise<Lease> {
  const grant = await link.requestLease(offered.name, purpose, process, ctx.requestTimeoutMs);
  if (!link.isOpen) throw new LeaseRequestError('no-laptop', `${link.name} disconnected while granting`);
  const ttl = Math.min(grant.ttlMs, ctx.maxLeaseTtlMs);
  const forward = grant.forward ? new ForwardedCredential(grant.forward) : undefined;
  // A lease granted once is never renewed, so it cannot outlive the one secret it carries.
  const expiresAt = forward && grant.scope === 'once' ? Math.min(Date.now() + ttl, forward.validUntil) : Date.now() + ttl;
  return ctx.leases.add({
    leaseId: grant.leaseId,
    linkId: link.id,
    laptop: link.name,
    name: offered.name,
    provider: offered.provider,
    scope: grant.scope,
    expiresAt,
    pid: process.pid,
    ...(forward ? { forward } : {}),
  });
}
