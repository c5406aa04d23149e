import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SshPromptView } from '../protocol/control.js';
import { answerFor, type SshPrompt } from './transports/ssh-prompt.js';

/** An SSH login's question, as answerers see it; the answer never appears here. */
export type PendingSshPrompt = SshPromptView;

export type SshPromptOutcome = { by: 'person' } | { by: 'cancelled' } | { by: 'expired' };

export interface SshPromptQueueEvents {
  added: [PendingSshPrompt];
  resolved: [PendingSshPrompt, SshPromptOutcome];
}

interface Waiting {
  view: PendingSshPrompt;
  prompt: SshPrompt;
  timer: NodeJS.Timeout;
  settle: (answer: string | undefined) => void;
  detach: () => void;
}

/** sshd's default LoginGraceTime: past it the server has hung up anyway. */
export const SSH_PROMPT_TIMEOUT_MS = 120_000;

/**
 * What SSH logins are waiting on a person for, like the ApprovalQueue: each question has an
 * id and an expiry, whoever answers first (the agent's terminal, the tray's window, a UI on
 * the control socket) decides, and it is withdrawn when its ssh goes away. The answer is
 * handed to the waiting login and dropped; it is never kept, logged or emitted.
 */
export class SshPromptQueue extends EventEmitter<SshPromptQueueEvents> {
  private readonly waiting = new Map<string, Waiting>();
  private answerers = 0;

  constructor(private readonly timeoutMs = SSH_PROMPT_TIMEOUT_MS) {
    super();
  }

  /**
   * Something that shows prompts to a person is there (a terminal, a window). Without any,
   * `ask` answers undefined at once: a login with nobody to ask fails now, not at the expiry.
   */
  attach(): () => void {
    this.answerers += 1;
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.answerers -= 1;
    };
  }

  get hasAnswerers(): boolean {
    return this.answerers > 0;
  }

  ask(prompt: SshPrompt, signal?: AbortSignal): Promise<string | undefined> {
    if (!this.hasAnswerers || signal?.aborted) return Promise.resolve(undefined);
    const now = Date.now();
    const view: PendingSshPrompt = {
      id: 'sp_' + randomBytes(6).toString('base64url'),
      server: prompt.host,
      kind: prompt.kind,
      text: prompt.text,
      echo: prompt.echo,
      ...(prompt.fingerprint ? { fingerprint: prompt.fingerprint } : {}),
      ...(prompt.keyType ? { keyType: prompt.keyType } : {}),
      attempt: prompt.attempt ?? 1,
      createdAt: now,
      expiresAt: now + this.timeoutMs,
    };
    return new Promise((resolve) => {
      const onAbort = () => this.settle(view.id, undefined, { by: 'cancelled' });
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => this.settle(view.id, undefined, { by: 'expired' }), this.timeoutMs);
      timer.unref();
      this.waiting.set(view.id, { view, prompt, timer, settle: resolve, detach: () => signal?.removeEventListener('abort', onAbort) });
      this.emit('added', view);
    });
  }

  /** True if this answer went to the login; false if the prompt was unknown or already settled. */
  answer(id: string, answer: string): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    return this.settle(id, answerFor(w.prompt, answer), { by: 'person' });
  }

  /** Tells the login nobody answers (for a host key: no). */
  cancel(id: string): boolean {
    return this.settle(id, undefined, { by: 'cancelled' });
  }

  cancelAll(): void {
    for (const id of [...this.waiting.keys()]) this.cancel(id);
  }

  pending(): PendingSshPrompt[] {
    return [...this.waiting.values()].map((w) => w.view);
  }

  get(id: string): PendingSshPrompt | undefined {
    return this.waiting.get(id)?.view;
  }

  private settle(id: string, answer: string | undefined, outcome: SshPromptOutcome): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.detach();
    w.settle(answer);
    this.emit('resolved', w.view, outcome);
    return true;
  }
}
