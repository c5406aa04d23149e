import { createWriteStream, type WriteStream } from 'node:fs';

export interface AuditProcess {
  pid: number;
  user?: string;
  cmdline: string[];
  cwd?: string;
}

/** One line of audit.jsonl. Never a secret, a token or a pair code: only names and counts. */
export interface AuditEntry {
  event: 'link' | 'lease' | 'relay' | 'revoke';
  server: string;
  provider?: string;
  name?: string;
  process?: AuditProcess;
  decision?: string;
  scope?: string;
  leaseId?: string;
  status?: number | string;
  bytesUp?: number;
  bytesDown?: number;
  ms?: number;
  detail?: string;
}

/**
 * Appends JSONL through one stream: no per-request open or sync write, and lines are
 * gathered for up to FLUSH_MS into one write, so a busy relay does not pay a file write
 * per request (measured in bench/: it was the agent's largest cost per relayed request).
 */
const FLUSH_MS = 50;

export class AuditLog {
  private readonly stream: WriteStream;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Lines gathered since the last flush, written as one string. */
  private pending = '';

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => {}); // auditing must never take the agent down
  }

  record(entry: AuditEntry): void {
    if (this.stream.writableEnded) return;
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
      this.flushTimer.unref();
    }
    // Same text as JSON.stringify({ time, ...entry }) (an entry always has `event`, never `time`), without the copy.
    this.pending += `{"time":"${new Date().toISOString()}",${JSON.stringify(entry).slice(1)}\n`;
  }

  private flush(): void {
    if (!this.flushTimer) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const lines = this.pending;
    this.pending = '';
    if (lines) this.stream.write(lines);
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => {
      if (this.stream.writableEnded) resolve();
      else this.stream.end(() => resolve());
    });
  }
}

export function auditProcess(p: { pid: number; user?: string; cmdline: string[]; cwd?: string }): AuditProcess {
  return { pid: p.pid, ...(p.user ? { user: p.user } : {}), cmdline: p.cmdline, ...(p.cwd ? { cwd: p.cwd } : {}) };
}
