import type { Answer } from './approvals.js';
import type { ApprovalQueue, PendingApproval } from './approval-queue.js';

const KEYS: Record<string, Answer> = { o: 'allow-once', a: 'allow', d: 'deny', '\r': 'deny', '\n': 'deny' };

/** One line per fact a person needs to decide: who, what, and which process asks. */
export function describeApproval(a: PendingApproval): string {
  const p = a.process;
  const lines = [
    `\n${a.server} asks for ${a.provider}${a.asks > 1 ? ` (asked ${a.asks} times)` : ''}`,
    `  process  pid ${p.pid}, user ${p.user ?? `uid ${p.uid}`}`,
    `  command  ${p.cmdline.join(' ')}`,
  ];
  if (a.subscription) lines.push(`  login    ${a.subscription}`);
  if (p.cwd) lines.push(`  cwd      ${p.cwd}`);
  if (p.parents.length) lines.push(`  parents  ${p.parents.map((q) => `${q.pid} ${q.cmdline.join(' ')}`).join(' <- ')}`);
  lines.push(`  [o] allow once  [a] allow while connected  [d/Enter] deny  (${Math.round((a.expiresAt - Date.now()) / 1000)} s)`);
  return lines.join('\n') + '\n';
}

/** Answers the ApprovalQueue from a terminal, one request at a time, in raw mode. */
export class TtyApprover {
  private readonly backlog: PendingApproval[] = [];
  private current: PendingApproval | undefined;

  constructor(
    private readonly queue: ApprovalQueue,
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WritableStream,
  ) {
    queue.on('added', (a) => {
      this.backlog.push(a);
      if (!this.current) this.next();
    });
    queue.on('resolved', (a, outcome) => {
      const i = this.backlog.findIndex((b) => b.id === a.id);
      if (i >= 0) this.backlog.splice(i, 1);
      if (this.current?.id === a.id) {
        if (outcome.by !== 'person' || !this.answeredHere) this.output.write(`  -> ${outcome.answer} (${outcome.by === 'person' ? 'answered elsewhere' : outcome.by})\n`);
        this.current = undefined;
        this.next();
      }
    });
  }

  private answeredHere = false;

  private readonly onData = (chunk: Buffer): void => {
    const key = chunk.toString('utf8').toLowerCase();
    if (key === '\u0003') {
      process.kill(process.pid, 'SIGINT');
      return;
    }
    const answer = KEYS[key];
    if (!answer || !this.current) return;
    this.answeredHere = true;
    this.output.write(`  -> ${answer}\n`);
    this.queue.answer(this.current.id, answer);
  };

  private next(): void {
    this.answeredHere = false;
    this.current = this.backlog.shift();
    if (!this.current) {
      this.input.off('data', this.onData);
      if (this.input.isTTY) this.input.setRawMode(false);
      this.input.pause();
      return;
    }
    this.output.write(describeApproval(this.current));
    if (this.input.isTTY) this.input.setRawMode(true);
    if (this.input.listenerCount('data') === 0 || !this.input.listeners('data').includes(this.onData)) this.input.on('data', this.onData);
    this.input.resume();
  }
}
