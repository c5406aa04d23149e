import { open } from 'node:fs/promises';
import { AuditLine } from '../protocol/bridge.js';

/** Enough for ~1000 lines; audit.jsonl grows forever, so only its end is ever read. */
const TAIL_BYTES = 512 * 1024;

/** The newest `limit` audit lines, newest first; lines that do not parse are skipped. */
export async function readAuditTail(file: string, limit: number): Promise<AuditLine[]> {
  let text: string;
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1); // drop the cut first line
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: AuditLine[] = [];
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      const parsed = AuditLine.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // a line cut by a crash: skip it
    }
  }
  return out;
}
