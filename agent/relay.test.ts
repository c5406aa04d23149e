import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameKind, PROVIDERS, RELAY_WINDOW, decodeFrame, encodeCredit, encodeData, encodeEnd, type Message } from '../protocol/index.js';
import { TETHER_ERROR_HEADER } from '../protocol/refusals.js';
import type { ResolvedCredential } from './credentials.js';
import { LeaseBook } from './lease-book.js';
import { RelayHost, type RelayDone } from './relay.js';

const SECRET = 'sk-test-REAL-KEY-0123456789';
const LEASE = 'ls_AAAAAAAAAAAAAAAAAAAAAA';

/** Records what the agent sends back to the daemon, with waiters. */
class RecordingPeer {
  messages: Message[] = [];
  dataBytes = 0;
  body: Buffer[] = [];
  credits = 0;
  ended = false;
  errors: string[] = [];
  private waiters: (() => void)[] = [];
  send = (m: Message) => {
    this.messages.push(m);
    this.wake();
  };
  sendError = (code: string) => {
    this.errors.push(code);
    this.wake();
  };
  sendFrame = (bytes: Uint8Array) => {
    const f = decodeFrame(bytes);
    if (f.kind === FrameKind.data) {
      this.dataBytes += f.payload.byteLength;
      this.body.push(Buffer.from(f.payload));
    } else if (f.kind === FrameKind.end) this.ended = true;
    else this.credits += f.bytes;
    this.wake();
  };
  /** The refusal code of the answer the relay made itself: its x-tether-error header, when the body's error.tether_code agrees. */
  refusalCode(): string | undefined {
    const head = this.messages.find((m) => m.t === 'relay.head');
    const header = head?.headers.find(([n]) => n === TETHER_ERROR_HEADER)?.[1];
    const inBody = (JSON.parse(Buffer.concat(this.body).toString()) as { error?: { tether_code?: string } }).error?.tether_code;
    return header === inBody ? header : `header ${String(header)}, body ${String(inBody)}`;
  }
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (cond() ? resolve() : this.waiters.push(check));
      this.waiters.push(check);
    });
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
}

const credFor = (url: string): ResolvedCredential => ({
  entry: { name: 'work-openai', provider: 'openai', store: 'memory', addedAt: '' },
  spec: PROVIDERS.openai!,
  baseUrl: url.replace(/\/+$/, ''),
  secret: SECRET,
  keyHeader: 'authorization',
  keyPrefix: 'Bearer ',
});

let upstream: http.Server;
let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
let baseUrl: string;
let peer: RecordingPeer;
let host: RelayHost;
let done: RelayDone[];

beforeEach(async () => {
  upstream = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
  peer = new RecordingPeer();
  done = [];
  const leases = new LeaseBook(() => {});
  leases.add({ leaseId: LEASE, credential: 'work-openai', scope: 'once', ttlMs: 60_000 });
  host = new RelayHost({ peer, leases, resolve: async () => credFor(baseUrl), onDone: (d) => done.push(d) });
});

afterEach(async () => {
  host.closeAll('test over');
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

const open = (sid: number, extra: Partial<{ method: 'GET' | 'POST'; path: string; headers: [string, string][]; leaseId: string }> = {}) =>
  host.open({ t: 'relay.open', sid, leaseId: extra.leaseId ?? LEASE, method: extra.method ?? 'POST', path: extra.path ?? '/v1/chat/completions?x=1', headers: extra.headers ?? [] });

describe('RelayHost', () => {
  it.each([
    ['a header name HTTP cannot carry', ['authori\ua689ation', 'x']],
    ['a header value with a line break', ['x-a', 'one\r\ntwo']],
    ['a header value past Latin-1', ['x-a', '\u{1f600}']],
  ] as const)('answers a relay.open with %s with a 400, and the upstream is never called', async (_what, header) => {
    let called = false;
    handler = (_req, res) => {
      called = true;
      res.end();
    };
    open(1, { headers: [[header[0], header[1]]] });
    await peer.until(() => peer.ended);
    expect(peer.messages.find((m) => m.t === 'relay.head')).toMatchObject({ sid: 1, status: 400 });
    expect(Buffer.concat(peer.body).toString()).toMatch(/headers cannot be sent/);
    expect(called).toBe(false);
    expect(host.active).toBe(0);
  });

  it('replaces the key header, strips lease and hop-by-hop headers, and streams both ways', async () => {
    let seen: { url?: string; headers: http.IncomingHttpHeaders; body: string } | undefined;
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
        res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', 'x-upstream': 'yes' });
        res.write('data: one\n\n');
        res.end('data: two\n\n');
      });
    };
    open(1, {
      headers: [
        ['content-type', 'application/json'],
        ['x-api-key', 'tth_leaked'],
        ['authorization', 'Bearer tth_lease'],
        ['connection', 'x-hop'],
        ['x-hop', 'drop me'],
        ['host', '127.0.0.1:9'],
        ['x-keep', 'kept'],
      ],
    });
    host.frame({ kind: FrameKind.data, sid: 1, payload: Buffer.from('{"model":') });
    host.frame({ kind: FrameKind.data, sid: 1, payload: Buffer.from('"gpt"}') });
    host.frame({ kind: FrameKind.end, sid: 1 });
    await peer.until(() => peer.ended);
    expect(seen?.url).toBe('/v1/chat/completions?x=1');
    expect(seen?.body).toBe('{"model":"gpt"}');
    expect(seen?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen?.headers['x-api-key']).toBeUndefined();
    expect(seen?.headers['x-hop']).toBeUndefined();
    expect(seen?.headers['x-keep']).toBe('kept');
    expect(seen?.headers.host).toBe(new URL(baseUrl).host);
    const head = peer.messages.find((m) => m.t === 'relay.head');
    expect(head).toMatchObject({ sid: 1, status: 200 });
    const names = head?.t === 'relay.head' ? head.headers.map(([k]) => k) : [];
    expect(names).toContain('x-upstream');
    expect(names).not.toContain('connection');
    expect(names).not.toContain('transfer-encoding');
    expect(Buffer.concat(peer.body).toString()).toBe('data: one\n\ndata: two\n\n');
    expect(peer.credits).toBe(15);
    expect(done[0]).toMatchObject({ status: 200, bytesUp: 15, bytesDown: 22 });
  });

  it('stops reading a 50 MB response when the daemon gives no credit, and resumes on CREDIT', async () => {
    const total = 50 * 1024 * 1024;
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 120);
    let stalled!: () => void;
    const stall = new Promise<void>((r) => (stalled = r));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      const pump = () => {
        while (written < total) {
          written += chunk.byteLength;
          if (!res.write(chunk)) {
            // Blocked: if no 'drain' comes within a while, the agent has stopped reading.
            const t = setTimeout(stalled, 500);
            res.once('drain', () => {
              clearTimeout(t);
              pump();
            });
            return;
          }
        }
        res.end();
      };
      pump();
    };
    open(2, { method: 'GET', path: '/big' });
    host.frame({ kind: FrameKind.end, sid: 2 });
    await peer.until(() => peer.dataBytes === RELAY_WINDOW);
    await stall;
    // Exactly the window went to the daemon; upstream got only as far as socket buffers allow.
    expect(peer.dataBytes).toBe(RELAY_WINDOW);
    expect(written).toBeLessThan(total / 5);
    const before = peer.dataBytes;
    host.frame(decodeFrame(encodeCredit(2, RELAY_WINDOW)));
    await peer.until(() => peer.dataBytes === before + RELAY_WINDOW);
    expect(peer.ended).toBe(false);
    // What the agent itself read from upstream stays near the credit it was given
    // (the rest of `written` sits in loopback socket buffers of the kernel).
    host.abort({ t: 'relay.abort', sid: 2, reason: 'enough' });
    expect(done[0]!.bytesDown).toBeLessThanOrEqual(2 * RELAY_WINDOW + 4 * 64 * 1024);
  });

  it('cancels the upstream request when the daemon aborts', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    let started!: () => void;
    const begun = new Promise<void>((r) => (started = r));
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('partial');
      res.on('close', upstreamClosed);
      started();
    };
    open(3, { method: 'GET', path: '/slow' });
    host.frame({ kind: FrameKind.end, sid: 3 });
    await begun;
    await peer.until(() => peer.dataBytes > 0);
    host.abort({ t: 'relay.abort', sid: 3, reason: 'client went away' });
    await closed;
    expect(host.active).toBe(0);
    // Late frames for a finished stream are ignored; never-seen streams are reported.
    host.frame(decodeFrame(encodeData(3, new Uint8Array([1]))));
    host.frame(decodeFrame(encodeEnd(99)));
    expect(peer.errors).toEqual(['unknown-stream']);
  });

  it('aborts a stream whose lease is unknown', () => {
    open(4, { leaseId: 'ls_BBBBBBBBBBBBBBBBBBBBBB' });
    expect(peer.messages).toEqual([{ t: 'relay.abort', sid: 4, reason: 'unknown lease' }]);
  });

  it('answers 502 in the provider shape when upstream is unreachable', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    baseUrl = `http://127.0.0.1:${port}`;
    open(5, { method: 'GET', path: '/v1/models' });
    host.frame({ kind: FrameKind.end, sid: 5 });
    await peer.until(() => peer.ended);
    expect(peer.messages[0]).toMatchObject({ t: 'relay.head', sid: 5, status: 502 });
    expect(peer.refusalCode()).toBe('upstream-unreachable');
    // It names the address and the error: what the user needs to fix the base URL.
    const body = JSON.parse(Buffer.concat(peer.body).toString()) as { error: { message: string } };
    expect(body.error.message).toMatch(/cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('treats more bytes than the window as a flow-control error', async () => {
    handler = () => {};
    open(6);
    const big = new Uint8Array(64 * 1024);
    for (let i = 0; i < 5; i++) host.frame({ kind: FrameKind.data, sid: 6, payload: big });
    expect(peer.errors).toContain('flow-control');
  });

  it('treats DATA after END as an unexpected message and gives the stream up', async () => {
    handler = () => {};
    open(8);
    host.frame({ kind: FrameKind.data, sid: 8, payload: new Uint8Array(10) });
    host.frame({ kind: FrameKind.end, sid: 8 });
    host.frame({ kind: FrameKind.data, sid: 8, payload: new Uint8Array(1) });
    expect(peer.errors).toContain('unexpected-message');
    expect(peer.messages).toContainEqual(expect.objectContaining({ t: 'relay.abort', sid: 8 }));
    expect(host.active).toBe(0);
  });

  it('answers 504 in the provider shape when the provider never starts answering, but never cuts a slow stream', async () => {
    const leases = new LeaseBook(() => {});
    leases.add({ leaseId: LEASE, credential: 'work-openai', scope: 'once', ttlMs: 60_000 });
    const timed = new RelayHost({ peer, leases, resolve: async () => credFor(baseUrl), upstreamTimeoutMs: 300 });
    try {
      handler = () => {}; // accepts the request, never answers
      timed.open({ t: 'relay.open', sid: 9, leaseId: LEASE, method: 'POST', path: '/v1/chat/completions', headers: [] });
      timed.frame({ kind: FrameKind.end, sid: 9 });
      await peer.until(() => peer.ended);
      const head = peer.messages.find((m) => m.t === 'relay.head');
      expect(head).toMatchObject({ status: 504 });
      expect(peer.refusalCode()).toBe('upstream-timeout');
      expect(JSON.parse(Buffer.concat(peer.body).toString())).toMatchObject({ error: { type: 'server_error' } });

      // Headers at once, the body long after the timeout: the answer is under way, so it is left alone.
      const slow = new RecordingPeer();
      const host2 = new RelayHost({ peer: slow, leases, resolve: async () => credFor(baseUrl), upstreamTimeoutMs: 300 });
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        setTimeout(() => res.end('data: two\n\n'), 700);
      };
      host2.open({ t: 'relay.open', sid: 10, leaseId: LEASE, method: 'POST', path: '/v1/chat/completions', headers: [] });
      host2.frame({ kind: FrameKind.end, sid: 10 });
      await slow.until(() => slow.ended);
      expect(slow.messages.find((m) => m.t === 'relay.head')).toMatchObject({ status: 200 });
      expect(Buffer.concat(slow.body).toString()).toBe('data: one\n\ndata: two\n\n');
    } finally {
      timed.closeAll('test over');
    }
  });
});
