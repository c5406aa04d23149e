
interface Corkable {
  cork(): void;
  uncork(): void;
}

/** What WriteBatch needs of a ws WebSocket (typed here: this layer does not import ws). */
export interface BatchedSocket {
  send(data: string | Uint8Array): void;
}

/**
 * Holds a WebSocket's socket writes until the event loop's I/O phase is over, so the frames
 * one burst of events produces (relay.open + DATA + END, or relay.head + DATA + END + CREDIT)
 * leave in one writev instead of one syscall (and one wake-up of the peer) each. Measured:
 * the relay's added latency on loopback roughly halves (bench/RESULTS.md). Both ends of the
 * link use it: the agent and the daemon.
 */
export class WriteBatch {
  /** The batch under way: the socket it corked (one object per batch, so a flushed one is told apart). */
  private corked: { socket: Corkable } | undefined;

  constructor(readonly ws: BatchedSocket) {}

  send(data: string | Uint8Array): void {
    if (!this.corked) {
      // ws keeps its transport stream as _socket (a net.Socket, or an SSH channel): both cork.
      const socket = (this.ws as unknown as { _socket?: Partial<Corkable> })._socket;
      if (typeof socket?.cork === 'function' && typeof socket.uncork === 'function') {
        const batch = { socket: socket as Corkable };
        batch.socket.cork();
        this.corked = batch;
        setImmediate(() => {
          // flush() may have sent this batch already, and a new one may have begun since.
          if (this.corked !== batch) return;
          this.corked = undefined;
          batch.socket.uncork();
        });
      }
    }
    this.ws.send(data);
  }

  /**
   * Sends what is held now, before this turn ends: on sleep or quit there may be no next turn
   * (the OS freezes the laptop once the power handler returns), and lease.revoke + bye must
   * already be on their way by then.
   */
  flush(): void {
    const batch = this.corked;
    this.corked = undefined;
    batch?.socket.uncork();
  }
}
