import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ProcessInfo } from '../protocol/index.js';
import type { Answer, ApprovalSubject } from './approvals.js';

export interface PendingApproval {
  id: string;
  server: string;
  provider: string;
  process: ProcessInfo;
  createdAt: number;
  expiresAt: number;
  /** How many times this process (same pid and command line) asked for this provider. */
  asks: number;
  /** How long an allowed lease lives, for the prompt to say. */
  leaseTtlMs?: number;
  /** A subscription login, in words, for the prompt to say. */
  subscription?: string;
}

export type ApprovalOutcome = { answer: Answer; by: 'person' } | { answer: 'deny'; by: 'timeout' } | { answer: 'deny'; by: 'cancelled' };

export interface ApprovalQueueEvents {
  added: [PendingApproval];
  resolved: [PendingApproval, ApprovalOutcome];
}

interface Waiting {
  approval: PendingApproval;
  timer: NodeJS.Timeout;
  settle: (outcome: ApprovalOutcome) => void;
}

/**
 * Requests waiting for a person. Answered from the TTY prompt or the control socket;
 * the first answer wins, later ones are ignored; nobody answering means deny 'timeout'.
 */
export class ApprovalQueue extends EventEmitter<ApprovalQueueEvents> {
  private readonly waiting = new Map<string, Waiting>();
  private readonly askCounts = new Map<string, number>();

  constructor(private timeoutMs: number) {
    super();
  }

  setTimeoutMs(ms: number): void {
    this.timeoutMs = ms;
  }

  ask(subject: ApprovalSubject): { approval: PendingApproval; outcome: Promise<ApprovalOutcome> } {
    const key = `${subject.server}\0${subject.provider}\0${subject.process.pid}\0${subject.process.cmdline.join(' ')}`;
    const asks = (this.askCounts.get(key) ?? 0) + 1;
    this.askCounts.set(key, asks);
    const now = Date.now();
    const approval: PendingApproval = {
      id: 'ap_' + randomBytes(6).toString('base64url'),
      server: subject.server,
      provider: subject.provider,
      process: subject.process,
      createdAt: now,
      expiresAt: now + this.timeoutMs,
      asks,
      ...(subject.leaseTtlMs !== undefined ? { leaseTtlMs: subject.leaseTtlMs } : {}),
      ...(subject.subscription !== undefined ? { subscription: subject.subscription } : {}),
    };
    const outcome = new Promise<ApprovalOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(approval.id, { answer: 'deny', by: 'timeout' }), this.timeoutMs);
      timer.unref();
      this.waiting.set(approval.id, { approval, timer, settle: resolve });
    });
    this.emit('added', approval);
    return { approval, outcome };
  }

  /** True if this answer decided the request; false if it was unknown or already decided. */
  answer(id: string, answer: Answer): boolean {
    return this.settle(id, { answer, by: 'person' });
  }

  /** Deny everything still waiting for one server (its link closed) or for all. */
  cancel(server?: string): void {
    for (const w of [...this.waiting.values()]) {
      if (server === undefined || w.approval.server === server) this.settle(w.approval.id, { answer: 'deny', by: 'cancelled' });
    }
  }

  pending(): PendingApproval[] {
    return [...this.waiting.values()].map((w) => w.approval);
  }

  get(id: string): PendingApproval | undefined {
    return this.waiting.get(id)?.approval;
  }

  private settle(id: string, outcome: ApprovalOutcome): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.settle(outcome);
    this.emit('resolved', w.approval, outcome);
    return true;
  }
}
