import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { ReceiveWindow, SendWindow } from './flow-control.js';
import { FrameKind, decodeFrame, encodeCredit, encodeData, encodeEnd } from './relay.js';
import { MAX_DATA_CHUNK, RELAY_WINDOW } from './version.js';

const BATCH = RELAY_WINDOW / 4;

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  return undefined;
}

describe('SendWindow', () => {
  it('spends the window in chunks of at most MAX_DATA_CHUNK, then waits for CREDIT', () => {
    const w = new SendWindow();
    expect(w.available).toBe(RELAY_WINDOW);
    const sizes: number[] = [];
    for (let n = w.take(1 << 20); n > 0; n = w.take(1 << 20)) sizes.push(n);
    expect(sizes).toEqual(Array(RELAY_WINDOW / MAX_DATA_CHUNK).fill(MAX_DATA_CHUNK));
    expect(w.take(1)).toBe(0);
    w.grant(10);
    expect(w.take(100)).toBe(10);
    expect(w.take(1)).toBe(0);
  });

  it('never grows past RELAY_WINDOW, whatever the peer credits', () => {
    const w = new SendWindow();
    w.take(100);
    w.grant(RELAY_WINDOW);
    expect(w.available).toBe(RELAY_WINDOW);
  });
});

describe('ReceiveWindow', () => {
  it('takes DATA up to the window and calls one byte more a flow-control violation', () => {
    const r = new ReceiveWindow(7, { batch: 1 });
    r.data(RELAY_WINDOW - 1);
    r.data(1);
    expect(r.window).toBe(0);
    expect(codeOf(() => r.data(1))).toBe('flow-control');
    // An empty DATA frame spends nothing and is no violation.
    expect(codeOf(() => r.data(0))).toBeUndefined();
  });

  it('calls DATA after END an unexpected message', () => {
    const r = new ReceiveWindow(7, { batch: 1 });
    r.data(5);
    r.end();
    expect(codeOf(() => r.data(1))).toBe('unexpected-message');
  });

  it('credits at once with a batch of 1', () => {
    const r = new ReceiveWindow(1, { batch: 1 });
    r.data(300);
    expect(r.consumed(100)).toBe(true);
    expect(r.takeCredit()).toBe(100);
    expect(r.consumed(200)).toBe(true);
    expect(r.takeCredit()).toBe(200);
    expect(r.window).toBe(RELAY_WINDOW);
  });

  it('batches credit: due once a batch is reached, then everything due in one CREDIT', () => {
    const r = new ReceiveWindow(1, { batch: BATCH });
    const event = 1000;
    const below = Math.floor((BATCH - 1) / event);
    let reached = 0;
    for (let i = 0; i < below; i++) {
      r.data(event);
      if (r.consumed(event)) reached++;
    }
    expect(reached).toBe(0);
    expect(r.takeCredit()).toBe(0);
    r.data(event);
    expect(r.consumed(event)).toBe(true);
    // More consumed before the CREDIT leaves (the same read): no second signal, one frame.
    r.data(event);
    expect(r.consumed(event)).toBe(false);
    const credit = r.takeCredit();
    expect(credit).toBeGreaterThanOrEqual(BATCH);
    expect(credit).toBe((below + 2) * event);
    expect(r.window).toBe(RELAY_WINDOW);
    expect(r.takeCredit()).toBe(0);
  });

  it('owes no CREDIT after END, but can settle the account on a frame that goes anyway', () => {
    const r = new ReceiveWindow(1, { batch: 1 });
    r.data(30);
    r.end();
    expect(r.consumed(30)).toBe(false);
    expect(r.takeCredit()).toBe(0);
    expect(r.settle()).toBe(30);
    expect(r.settle()).toBe(0);
  });
});

/**
 * A sender and a receiver joined by encoded frames, one frame at a time: the receiver's
 * consumer takes `consumeEvery`-th chunk only (a slow client) until the sender runs dry.
 */
function transfer(total: number, batch: number): { delivered: number; credits: number[]; stalls: number } {
  const send = new SendWindow();
  const recv = new ReceiveWindow(9, { batch });
  const toReceiver: Uint8Array[] = [];
  const toSender: Uint8Array[] = [];
  let left = total;
  let delivered = 0;
  let stalls = 0;
  const credits: number[] = [];
  while (left > 0 || toReceiver.length || toSender.length) {
    // The sender sends all its credit allows, then END.
    let sentSomething = false;
    for (let n = send.take(Math.min(left, 1500)); n > 0; n = send.take(Math.min(left, 1500))) {
      toReceiver.push(encodeData(9, new Uint8Array(n)));
      left -= n;
      sentSomething = true;
      if (left === 0) toReceiver.push(encodeEnd(9));
    }
    if (!sentSomething && left > 0 && toSender.length === 0 && toReceiver.length === 0) {
      stalls++;
      break;
    }
    // The receiver handles every frame of this read, then sends the CREDIT due.
    let due = false;
    for (const wire of toReceiver.splice(0)) {
      const frame = decodeFrame(wire);
      if (frame.kind === FrameKind.end) recv.end();
      else if (frame.kind === FrameKind.data) {
        recv.data(frame.payload.byteLength);
        delivered += frame.payload.byteLength;
        if (recv.consumed(frame.payload.byteLength)) due = true;
      }
    }
    if (due) {
      const bytes = recv.takeCredit();
      if (bytes > 0) toSender.push(encodeCredit(9, bytes));
    }
    for (const wire of toSender.splice(0)) {
      const frame = decodeFrame(wire);
      if (frame.kind !== FrameKind.credit) throw new Error('only CREDIT flows back');
      credits.push(frame.bytes);
      send.grant(frame.bytes);
    }
  }
  return { delivered, credits, stalls };
}

describe('flow control, frame by frame', () => {
  it('moves four windows without a stall or a violation, crediting in batches', () => {
    const { delivered, credits, stalls } = transfer(4 * RELAY_WINDOW + 123, BATCH);
    expect(stalls).toBe(0);
    expect(delivered).toBe(4 * RELAY_WINDOW + 123);
    for (const c of credits) expect(c).toBeGreaterThanOrEqual(BATCH);
    expect(credits.length).toBeLessThanOrEqual(Math.ceil((4 * RELAY_WINDOW + 123) / BATCH));
  });

  it('moves the same with credit at once', () => {
    const { delivered, stalls } = transfer(3 * RELAY_WINDOW, 1);
    expect(stalls).toBe(0);
    expect(delivered).toBe(3 * RELAY_WINDOW);
  });

  it('stalls, as it should, if the receiver never returns credit', () => {
    const { delivered, stalls } = transfer(2 * RELAY_WINDOW, Number.MAX_SAFE_INTEGER);
    expect(stalls).toBe(1);
    expect(delivered).toBe(RELAY_WINDOW);
  });
});
