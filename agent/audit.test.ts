import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from './audit.js';
import { tempDir } from './testing/temp.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('AuditLog', () => {
  it('writes one JSON line per entry, time first, exactly the entry\'s fields after it, all of them by close()', async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const file = join(tmp.dir, 'audit.jsonl');
    const log = new AuditLog(file);
    const entries: AuditEntry[] = [
      { event: 'relay', server: 'gpu "box"\n', provider: 'openai', name: 'openai', leaseId: 'ls_abcdefgh', status: 200, bytesUp: 1, bytesDown: 2, ms: 3 },
      { event: 'lease', server: 'b', process: { pid: 7, cmdline: ['python3', 'ü'] }, decision: 'allow (policy)', detail: undefined },
      { event: 'link', server: 'c', status: 'closed' },
    ];
    for (const e of entries) log.record(e);
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(entries.length);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(parsed)[0]).toBe('time');
      expect(Number.isNaN(Date.parse(parsed.time as string))).toBe(false);
      expect(line).toBe(JSON.stringify({ time: parsed.time, ...entries[i] }));
    });
  });
});
