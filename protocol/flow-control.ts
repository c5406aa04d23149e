import { ProtocolError } from './errors.js';
import { MAX_DATA_CHUNK, RELAY_WINDOW } from './version.js';

/**
 * Credit-based flow control of one relay stream, one direction per object, with no I/O: the
 * stream adapters (agent/relay.ts, remote/relay-stream.ts) feed it the frames they send and
 * receive and do what it answers. Each direction starts with RELAY_WINDOW bytes of credit;
 * DATA spends it, CREDIT returns it; a peer that sends past its credit, or DATA after its END,
 * has broken the protocol (a ProtocolError with a code the adapter sends in an `error` frame).
 */

/** Our sending side: how much DATA we may still send the peer. */
export class SendWindow {
  private credit = RELAY_WINDOW;

  /** Bytes we may send before the next CREDIT. */
  get available(): number {
    return this.credit;
  }

  /** The size of the next DATA frame for a piece of `want` bytes (0: wait for credit), spent from the window. */
  take(want: number): number {
    const n = Math.min(want, this.credit, MAX_DATA_CHUNK);
    this.credit -= n;
    return n;
  }

  /** A CREDIT frame. The window never grows past RELAY_WINDOW: a peer can only return what it was sent. */
  grant(bytes: number): void {
    this.credit = Math.min(RELAY_WINDOW, this.credit + bytes);
  }
}

/** When credit for consumed bytes goes back to the peer. */
export interface CreditPolicy {
  /**
   * Credit is sent once at least this much is due (1: as soon as any is). Batches like HTTP/2's
   * WINDOW_UPDATE spare the peer a wake-up per small event, and it always keeps at least
   * RELAY_WINDOW - batch of its window; no stall, since once the peer is out of credit every
   * byte it sent is here, due or still with our consumer.
   */
  batch: number;
}

/** Our receiving side: how much DATA the peer may still send, and the credit we owe it. */
export class ReceiveWindow {
  /** Bytes the peer may still send. */
  private open = RELAY_WINDOW;
  /** Bytes our consumer took that we have not credited back yet. */
  private due = 0;
  private ended = false;

  constructor(
    private readonly sid: number,
    private readonly policy: CreditPolicy,
  ) {}

  /** Bytes the peer may still send before we credit more. */
  get window(): number {
    return this.open;
  }

  /** The peer sent END: its side of the stream is complete. */
  get peerEnded(): boolean {
    return this.ended;
  }

  /** A DATA frame of `bytes` arrived. Throws 'flow-control' past the window, 'unexpected-message' after END. */
  data(bytes: number): void {
    if (this.ended) throw new ProtocolError('unexpected-message', `DATA after END on stream ${this.sid}`);
    if (bytes > this.open) throw new ProtocolError('flow-control', `stream ${this.sid}: ${bytes} bytes sent with ${this.open} bytes of credit`);
    this.open -= bytes;
  }

  /** An END frame arrived. */
  end(): void {
    this.ended = true;
  }

  /**
   * Our consumer took `bytes`. True when that made a CREDIT frame due (the adapter sends
   * takeCredit() now or at the end of the read it is handling). After the peer's END no credit
   * is due: it would buy no more DATA, only settle the account (see settle()).
   */
  consumed(bytes: number): boolean {
    const before = this.due;
    this.due += bytes;
    return !this.ended && before < this.policy.batch && this.due >= this.policy.batch;
  }

  /** The CREDIT to send now: everything due once a batch is, before the peer's END; else 0. */
  takeCredit(): number {
    if (this.ended || this.due < this.policy.batch) return 0;
    return this.settle();
  }

  /** Everything due, batch or not (to ride on a frame that goes anyway, after END); 0 when nothing is. */
  settle(): number {
    const bytes = this.due;
    this.due = 0;
    this.open += bytes;
    return bytes;
  }
}
