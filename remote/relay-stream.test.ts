import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RELAY_WINDOW } from '../protocol/index.js';
import { CREDIT_BATCH } from './relay-stream.js';
import type { FakeStream } from './testing/fake-laptop.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, leaseToken, pairedLaptop, request } from './testing/harness.js';

const scene = daemonPerTest();
const requests: http.ClientRequest[] = [];

// Registered after the scene's, so it runs first (vitest runs after-hooks in reverse).
afterEach(() => {
  for (const r of requests.splice(0)) r.destroy();
});

async function setup() {
  const started = await scene.start();
  const laptop = await pairedLaptop(started.daemon, { name: 'alice-mbp', offer: ['openai'] });
  scene.laptops.push(laptop);
  autoGrant(laptop);
  const { token } = await leaseToken(started.daemon, 'openai');
  return { daemon: started.daemon, laptop, token };
}

/** Starts a request whose response the client never reads. */
function stalledClient(url: string, token: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      res.pause();
      resolve(res);
    });
    requests.push(req);
    req.on('error', reject);
    req.end('{}');
  });
}

function waitFor(stream: FakeStream, event: string): Promise<void> {
  return new Promise((resolve) => stream.once(event, () => resolve()));
}

describe('relay flow control', () => {
  it('stops returning credit to a laptop whose client stopped reading, while another stream completes', async () => {
    const { daemon, laptop, token } = await setup();
    const streams: FakeStream[] = [];
    const big = 1 << 30; // far more than any socket buffer: only flow control stops it
    laptop.onRelayOpen = (stream) => {
      streams.push(stream);
      if (stream.sid === 1) {
        stream.head(200, [['content-type', 'application/octet-stream']]);
        void stream.sendBody(big);
      } else {
        void stream.requestBody().then(async (body) => {
          stream.head(200, [['content-type', 'text/plain']]);
          await stream.sendBody(300 * 1024, body[0]);
          stream.end();
        });
      }
    };
    const stalled = await stalledClient(`${daemon.proxyUrl}/openai/v1/files/x/content`, token);
    const first = streams[0]!;

    // Stalled for real: out of credit, and no credit arrives while a whole second request is served.
    let confirmed = false;
    for (let round = 0; round < 500 && !confirmed; round++) {
      if (first.credit > 0) await waitFor(first, 'stalled');
      const creditBefore = first.creditReceived;
      const other = await request(`${daemon.proxyUrl}/openai/v1/models`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: 'z' });
      expect(other.status).toBe(200);
      expect(other.text).toBe('z'.repeat(300 * 1024));
      confirmed = first.credit === 0 && first.creditReceived === creditBefore;
    }
    expect(confirmed).toBe(true);
    // The laptop never had more than one window in flight.
    expect(first.bytesSent).toBe(RELAY_WINDOW + first.creditReceived);
    expect(first.bytesSent).toBeLessThan(big);

    // Reading again returns credit, and the laptop continues.
    const more = waitFor(first, 'credit');
    stalled.resume();
    await more;
    stalled.destroy();
    expect((await laptop.next('relay.abort', (m) => m.sid === 1)).sid).toBe(1);
  });

  it('returns response credit in batches, not a frame per small event, and a stream longer than the window never stalls', async () => {
    const { daemon, laptop, token } = await setup();
    const event = Buffer.from(`data: ${'x'.repeat(90)}\n\n`); // 98 bytes, like one SSE token event
    const events = 4000; // ~392 KB: half again the window, so the laptop depends on the credit coming back
    const credits: number[] = [];
    laptop.onRelayOpen = (stream) => {
      stream.on('credit', (bytes?: number) => bytes && credits.push(bytes));
      stream.head(200, [['content-type', 'text/event-stream']]);
      void (async () => {
        for (let i = 0; i < events; i++) {
          while (stream.credit < event.length) await new Promise((r) => stream.once('credit', r));
          stream.send(event);
          if (i % 50 === 0) await new Promise((r) => setImmediate(r));
        }
        stream.end();
      })();
    };
    const res = await request(`${daemon.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(res.status).toBe(200);
    expect(res.text.length).toBe(events * event.length);
    expect(credits.length).toBeGreaterThan(0);
    for (const c of credits) expect(c).toBeGreaterThanOrEqual(CREDIT_BATCH);
    expect(credits.length).toBeLessThanOrEqual(Math.ceil((events * event.length) / CREDIT_BATCH));
  });

  it('sends the request body only within the laptop\'s credit', async () => {
    const { daemon, laptop, token } = await setup();
    const body = Buffer.alloc(3 * RELAY_WINDOW + 12345);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const opened = new Promise<FakeStream>((resolve) => {
      laptop.onRelayOpen = (stream) => {
        stream.autoCredit = false;
        resolve(stream);
      };
    });
    const answer = request(`${daemon.proxyUrl}/openai/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
    const stream = await opened;
    const received = () => stream.body.reduce((n, b) => n + b.length, 0);
    while (received() < RELAY_WINDOW) await new Promise((r) => laptop.ws.once('message', r));
    // A heartbeat round trip: anything the daemon had queued would have arrived before the answer.
    laptop.send({ t: 'hb' });
    await laptop.next('hb');
    expect(received()).toBe(RELAY_WINDOW);
    stream.autoCredit = true;
    const { encodeCredit } = await import('../protocol/index.js');
    laptop.sendFrame(encodeCredit(stream.sid, RELAY_WINDOW));
    const got = await stream.requestBody();
    expect(got.equals(body)).toBe(true);
    stream.head(204, []);
    stream.end();
    expect((await answer).status).toBe(204);
  });

  it('treats DATA beyond the credit as a flow-control error and cuts that stream only', async () => {
    const { daemon, laptop, token } = await setup();
    const opened = new Promise<FakeStream>((resolve) => {
      laptop.onRelayOpen = (stream) => {
        if (stream.sid !== 1) {
          stream.head(204, []);
          stream.end();
          return;
        }
        stream.head(200);
        void stream.sendBody(1 << 30);
        resolve(stream);
      };
    });
    await stalledClient(`${daemon.proxyUrl}/openai/v1/x`, token);
    const stream = await opened;
    // Out of credit with none in flight (checked across a heartbeat round trip)...
    for (let settled = false; !settled; ) {
      if (stream.credit > 0) await waitFor(stream, 'stalled');
      const before = stream.creditReceived;
      laptop.send({ t: 'hb' });
      await laptop.next('hb');
      settled = stream.credit === 0 && stream.creditReceived === before;
    }
    // ...then one byte more than granted.
    stream.send(Buffer.alloc(1));
    expect((await laptop.next('error')).code).toBe('flow-control');
    expect((await laptop.next('relay.abort')).sid).toBe(stream.sid);
    expect(daemon.links()).toHaveLength(1);
    const other = await request(`${daemon.proxyUrl}/openai/v1/y`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(other.status).toBe(204);
  });
});
