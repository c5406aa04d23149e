import { EventEmitter } from 'node:events';
import { providerSpec, type LeaseRequest, type Message } from '../protocol/index.js';
import type { ActivityEvent, ServerView } from '../protocol/control.js';
import type { ApprovalQueue } from './approval-queue.js';
import type { Answer, ApprovalPolicy } from './approvals.js';
import { auditProcess, type AuditLog } from './audit.js';
import type { CredentialEntry } from './config.js';
import type { CredentialBook } from './credentials.js';
import { newLeaseId } from './crypto.js';
import { ForwardRenewals, forwardSecret } from './forward-renewals.js';
import { LeaseBook } from './lease-book.js';
import type { Link } from './link.js';
import { RelayHost } from './relay.js';

export interface SessionDeps {
  credentials: CredentialBook;
  policy: () => ApprovalPolicy;
  approvals: ApprovalQueue;
  audit: AuditLog;
  leaseTtlMs: number;
  upstreamTimeoutMs?: number;
}

export interface SessionEvents {
  activity: [ActivityEvent];
}

/**
 * What happens on one READY link: lease requests decided (policy, then a person), leases
 * tracked and renewed, relay streams served. Everything ends with the link.
 */
export class LinkSession extends EventEmitter<SessionEvents> {
  readonly leases: LeaseBook;
  readonly relay: RelayHost;
  /** Forward leases: their minted secrets, renewed at the daemon before they expire. */
  private readonly forwards: ForwardRenewals;
  /** Providers granted "allow while connected": later requests for them are granted at once. */
  private readonly allowed = new Set<string>();

  constructor(
    readonly link: Link,
    private readonly deps: SessionDeps,
  ) {
    super();
    this.leases = new LeaseBook((leaseId, ttlMs) => link.send({ t: 'lease.renew', leaseId, ttlMs }));
    this.forwards = new ForwardRenewals(
      this.leases,
      (leaseId, ttlMs, forward) => link.send({ t: 'lease.renew', leaseId, ttlMs, forward }),
      (leaseId, err) => deps.audit.record({ event: 'lease', server: this.server, leaseId, decision: 'renew-failed', detail: err instanceof Error ? err.message.slice(0, 200) : 'mint failed' }),
    );
    this.relay = new RelayHost({
      peer: {
        send: (m) => link.send(m),
        sendFrame: (f) => link.sendFrame(f),
        sendError: (code, message, ref) => link.send({ t: 'error', code, message, ...(ref ? { ref } : {}) }),
      },
      leases: this.leases,
      resolve: (name) => deps.credentials.resolve(name),
      ...(deps.upstreamTimeoutMs ? { upstreamTimeoutMs: deps.upstreamTimeoutMs } : {}),
      onDone: (d) => {
        deps.audit.record({ event: 'relay', server: this.server, provider: d.provider, name: d.credential, leaseId: d.leaseId, status: d.status, bytesUp: d.bytesUp, bytesDown: d.bytesDown, ms: d.ms });
        this.emit('activity', { kind: 'relay', server: this.server, credential: d.credential, leaseId: d.leaseId, status: d.status, bytesUp: d.bytesUp, bytesDown: d.bytesDown, ms: d.ms });
      },
    });
    this.leases.on('dropped', (lease, reason) => {
      this.forwards.drop(lease.leaseId);
      // An expired or released lease lets a running response finish; a revoked one does not.
      if (reason !== 'expired' && reason !== 'released') this.relay.abortLease(lease.leaseId, `lease ${reason}`);
      this.emit('activity', { kind: 'lease-ended', server: this.server, credential: lease.credential, leaseId: lease.leaseId, status: reason });
    });
    link.on('message', (m) => this.dispatch(m));
    link.on('frame', (f) => this.relay.frame(f));
    link.on('state', (state, reason) => {
      if (state !== 'CLOSED') return;
      this.relay.closeAll('link closed');
      this.leases.clear('link closed');
      this.allowed.clear();
      deps.approvals.cancel(this.server);
      deps.audit.record({ event: 'link', server: this.server, status: 'closed', detail: reason?.message ?? 'closed' });
    });
  }

  get server(): string {
    return this.link.serverName;
  }

  /** Sends the current credential list; call after READY and whenever it changes. */
  sendOffer(): string[] {
    const creds = this.deps.credentials.lendableTo(this.server);
    this.link.offer(creds.map((c) => ({ name: c.name, provider: c.provider, mode: c.command !== undefined ? ('forward' as const) : ('relay' as const) })));
    return creds.map((c) => c.name);
  }

  /** Ends every lease of this link now (user revoke) and forgets "allow while connected". */
  revoke(reason: string): number {
    const count = this.leases.size;
    this.link.send({ t: 'lease.revoke', reason });
    this.leases.clear('revoked');
    this.allowed.clear();
    this.deps.audit.record({ event: 'revoke', server: this.server, detail: reason, status: count });
    this.emit('activity', { kind: 'revoke', server: this.server, status: count });
    return count;
  }

  /**
   * Ends one lease; its credential's "allow while connected" is forgotten too, so the next
   * request for it is asked again rather than granted silently. False if no such lease lives.
   */
  revokeLease(leaseId: string, reason: string): boolean {
    const lease = this.leases.list().find((l) => l.leaseId === leaseId);
    if (!lease || this.link.state !== 'READY') return false;
    this.link.send({ t: 'lease.revoke', leaseIds: [leaseId], reason });
    this.leases.drop(leaseId, 'revoked');
    this.allowed.delete(lease.credential);
    this.deps.audit.record({ event: 'revoke', server: this.server, leaseId, detail: reason, status: 1 });
    this.emit('activity', { kind: 'revoke', server: this.server, credential: lease.credential, leaseId, status: 1 });
    return true;
  }

  /** Forgets every "allow while connected" (the approval default changed): leases already granted stay. */
  forgetAllowances(): void {
    this.allowed.clear();
  }

  view(): ServerView {
    const { link } = this;
    const lending = link.state === 'READY' ? this.deps.credentials.lendableTo(this.server).map((c) => c.name) : [];
    const activeByCredential: Record<string, number> = Object.fromEntries(lending.map((name) => [name, 0]));
    for (const [name, n] of this.relay.activeByCredential()) activeByCredential[name] = n;
    return {
      server: this.server,
      state: link.state,
      ...(link.server ? { serverId: link.server.serverId, fingerprint: link.server.fingerprint } : {}),
      ...(link.closeReason ? { reason: link.closeReason.message } : {}),
      lending,
      allowed: [...this.allowed],
      leases: this.leases.list().map((l) => ({ leaseId: l.leaseId, credential: l.credential, scope: l.scope, expiresAt: l.expiresAt })),
      activeStreams: this.relay.active,
      activeByCredential,
    };
  }

  private dispatch(m: Message): void {
    switch (m.t) {
      case 'lease.request':
        void this.onLeaseRequest(m);
        return;
      case 'lease.ended':
        this.leases.drop(m.leaseId, m.reason);
        return;
      case 'relay.open':
        this.relay.open(m);
        return;
      case 'relay.abort':
        this.relay.abort(m);
        return;
      case 'error':
        this.deps.audit.record({ event: 'link', server: this.server, status: m.code, detail: m.message.slice(0, 200) });
        return;
      default:
        this.link.send({ t: 'error', code: 'unexpected-message', message: `agent does not accept ${m.t} after the handshake` });
    }
  }

  /** A lease's life here: ours, capped by what the daemon accepts. */
  private leaseTtlMs(): number {
    return Math.min(this.deps.leaseTtlMs, this.link.welcome?.maxLeaseTtlMs ?? this.deps.leaseTtlMs);
  }

  private async onLeaseRequest(req: LeaseRequest): Promise<void> {
    const lent = this.deps.credentials.lendableTo(this.server).find((c) => c.name === req.credential);
    const subscription = lent ? subscriptionWords(lent) : undefined;
    const subject = { server: this.server, provider: req.credential, process: req.process, leaseTtlMs: this.leaseTtlMs(), ...(subscription ? { subscription } : {}) };
    const deny = (reason: 'denied' | 'timeout' | 'unknown-credential' | 'error', message: string) => {
      this.link.send({ t: 'lease.deny', id: req.id, reason, message: message.slice(0, 300) });
      this.deps.audit.record({ event: 'lease', server: this.server, name: req.credential, process: auditProcess(req.process), decision: reason });
      this.emit('activity', { kind: 'lease', server: this.server, credential: req.credential, decision: reason, pid: req.process.pid });
    };
    // A credential whose allow-list does not name this server is not lent here at all.
    if (!lent) {
      deny('unknown-credential', `this laptop does not lend "${req.credential}"`);
      return;
    }
    let answer: Answer;
    let how = 'policy';
    if (this.allowed.has(req.credential)) {
      answer = 'allow';
      how = 'while-connected';
    } else {
      const decided = this.deps.policy().decide(subject);
      if (decided === 'ask') {
        const { outcome } = this.deps.approvals.ask(subject);
        const result = await outcome;
        if (result.by === 'timeout') return deny('timeout', 'nobody approved the request in time on the laptop');
        answer = result.answer;
        how = result.by;
      } else answer = decided;
    }
    if (this.link.state !== 'READY') return;
    if (answer === 'deny') return deny('denied', how === 'person' ? 'denied on the laptop' : 'denied by the laptop\'s approval policy');
    try {
      const cred = await this.deps.credentials.resolve(req.credential);
      // Forward mode: the command runs here, after the approval, never on the daemon's word alone.
      const minted = cred.minter ? await cred.minter.current() : undefined;
      if (this.link.state !== 'READY') return;
      const ttlMs = this.leaseTtlMs();
      const scope = answer === 'allow' ? 'connection' : 'once';
      const leaseId = newLeaseId();
      this.leases.add({ leaseId, credential: cred.entry.name, scope, ttlMs });
      if (answer === 'allow') this.allowed.add(req.credential);
      const forward = minted ? { ...forwardSecret(minted), baseUrl: cred.baseUrl, keyHeader: cred.keyHeader, keyPrefix: cred.keyPrefix } : undefined;
      this.link.send({ t: 'lease.grant', id: req.id, leaseId, scope, ttlMs, ...(forward ? { forward } : {}) });
      if (minted && cred.minter && scope === 'connection') this.forwards.track(leaseId, cred.minter, minted);
      this.deps.audit.record({ event: 'lease', server: this.server, provider: cred.spec.id, name: cred.entry.name, process: auditProcess(req.process), decision: `${answer} (${how})`, scope, leaseId });
      this.emit('activity', { kind: 'lease', server: this.server, credential: cred.entry.name, decision: answer, leaseId, pid: req.process.pid });
    } catch (err) {
      deny('error', err instanceof Error ? err.message : 'cannot load the credential');
    }
  }
}

/** What the approval prompt says of a subscription login: the plan, and who it is lent to. */
export function subscriptionWords(entry: CredentialEntry): string | undefined {
  const sub = providerSpec(entry.provider)?.subscription;
  if (!sub || !entry.subscription) return undefined;
  return `${sub.plan} subscription, lent ${entry.subscription.anyClient ? 'to any program (widened with --any-client)' : `only to ${sub.client}`}`;
}
