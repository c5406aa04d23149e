import type { PendingSshPrompt, SshPromptQueue } from '../ssh-prompt-queue.js';
import { promptHidden } from './tty.js';

/**
 * SSH's questions at the agent's terminal, one at a time (two servers connecting at once
 * must not read each other's keystrokes). Secrets are read with echo off and handed straight
 * to the queue; nothing is kept. A question answered elsewhere first (the Tether window) is
 * withdrawn from the terminal.
 */
export class TtySshPromptAnswerer {
  private readonly backlog: PendingSshPrompt[] = [];
  private current: { prompt: PendingSshPrompt; withdraw: AbortController } | undefined;
  readonly detach: () => void;

  constructor(
    private readonly queue: SshPromptQueue,
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stderr,
  ) {
    this.detach = queue.attach();
    queue.on('added', (p) => {
      this.backlog.push(p);
      if (!this.current) this.next();
    });
    queue.on('resolved', (p, outcome) => {
      const i = this.backlog.findIndex((b) => b.id === p.id);
      if (i >= 0) this.backlog.splice(i, 1);
      if (this.current?.prompt.id === p.id && !this.current.withdraw.signal.aborted) {
        this.output.write(`  (${outcome.by === 'person' ? 'answered in the Tether window' : outcome.by === 'expired' ? 'nobody answered in time' : 'withdrawn: ssh stopped asking'})`);
        this.current.withdraw.abort();
      }
    });
  }

  private next(): void {
    const prompt = this.backlog.shift();
    if (!prompt) return void (this.current = undefined);
    const withdraw = new AbortController();
    this.current = { prompt, withdraw };
    promptHidden(questionFor(prompt), this.input, this.output, prompt.echo, withdraw.signal).then(
      (answer) => {
        withdraw.abort();
        this.queue.answer(prompt.id, answer);
      },
      (err: Error) => {
        // Ctrl-C at the question: ssh is told nobody answers.
        if (err.message === 'cancelled') this.queue.cancel(prompt.id);
        withdraw.abort();
      },
    ).finally(() => this.next());
  }
}

export function questionFor(p: PendingSshPrompt): string {
  const text = p.text.replace(/\s+$/, '');
  const label = p.server && !text.includes(p.server) ? `[${p.server}] ` : '';
  return `${label}${text}${/[:?]$/.test(text) ? ' ' : ': '}`;
}
