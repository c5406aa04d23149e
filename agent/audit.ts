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

/** Appends JSONL through one stream: no per-request open or sync write. */
export class AuditLog {
  private readonly stream: WriteStream;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => {}); // auditing must never take the agent down
  }

  record(entry: AuditEntry): void {
    if (this.stream.writableEnded) return;
    this.stream.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.writableEnded) resolve();
      else this.stream.end(() => resolve());
    });
  }
}

export function auditProcess(p: { pid: number; user?: string; cmdline: string[]; cwd?: string }): AuditProcess {
  return { pid: p.pid, ...(p.user ? { user: p.user } : {}), cmdline: p.cmdline, ...(p.cwd ? { cwd: p.cwd } : {}) };
}
