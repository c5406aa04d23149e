import http from 'node:http';

/** One way to reach the mock provider: straight, through two bare hops (the floor), Tether's relay, or Portkey. */
export interface Target {
  name: 'direct' | 'pipes' | 'relay' | 'portkey';
  url: string;
  headers: Record<string, string>;
  agent: http.Agent;
}

export function target(name: Target['name'], url: string, headers: Record<string, string>): Target {
  return { name, url, headers: { 'content-type': 'application/json', ...headers }, agent: new http.Agent({ keepAlive: true, maxSockets: 1024 }) };
}

export const chatBody = (model: string, stream = false): string => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Say hello' }] });

export interface Timed {
  status: number;
  /** Request start → last byte, ms. */
  total: number;
  /** Request start → first body byte, ms. */
  ttfb: number;
  bytes: number;
}

/** One request, the whole answer read (or, with `stall`, the head read and the body left unread). */
export function send(t: Target, body: string, opts: { onChunk?: (chunk: Buffer, at: number) => void; stall?: (res: http.IncomingMessage) => void } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let ttfb = NaN;
    let bytes = 0;
    const req = http.request(t.url, { method: 'POST', agent: t.agent, headers: { ...t.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (opts.stall) {
        opts.stall(res);
        resolve({ status: res.statusCode ?? 0, total: NaN, ttfb: NaN, bytes: 0 });
        return;
      }
      res.on('data', (chunk: Buffer) => {
        const at = performance.now();
        if (Number.isNaN(ttfb)) ttfb = at - start;
        bytes += chunk.byteLength;
        opts.onChunk?.(chunk, at);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, total: performance.now() - start, ttfb, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A paced stream (`mock-paced-N-R`): every event's arrival time and the offset the provider stamped on it. */
export async function pacedStream(t: Target, count: number, perSecond: number): Promise<{ ttfb: number; arrivals: number[]; stamps: number[]; reads: number }> {
  const arrivals: number[] = [];
  const stamps: number[] = [];
  let reads = 0;
  let carry = '';
  const r = await send(t, chatBody(`mock-paced-${count}-${perSecond}`, true), {
    onChunk: (chunk, at) => {
      reads += 1;
      const parts = (carry + chunk.toString('utf8')).split('\n\n');
      carry = parts.pop() ?? '';
      for (const part of parts) {
        const m = /"content":"([0-9.]+) "/.exec(part);
        if (!m) continue;
        arrivals.push(at);
        stamps.push(Number(m[1]));
      }
    },
  });
  if (r.status !== 200) throw new Error(`${t.name}: paced stream answered ${r.status}`);
  return { ttfb: r.ttfb, arrivals, stamps, reads };
}

/**
 * Per-event delay: how late each event arrived compared with the stream's least-delayed
 * event, after the provider's own spacing is taken out (its stamps). A path that holds or
 * coalesces events shows up here; a constant path latency does not (that is TTFB's job).
 */
export function eventDelays(s: { arrivals: number[]; stamps: number[] }): number[] {
  const lateness = s.arrivals.map((a, i) => a - s.stamps[i]!);
  const best = Math.min(...lateness);
  return lateness.map((l) => l - best);
}
