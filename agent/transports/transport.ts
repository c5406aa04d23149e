import type WebSocket from 'ws';
import { MAX_FRAME_BYTES } from '../../protocol/index.js';
import type { PinnedServer } from '../config.js';

/** Something that yields a connected WebSocket to a daemon. SSH and wss come next. */
export interface Transport {
  /** Display form of the server, also the key its pin is stored under. */
  readonly serverName: string;
  /** A WebSocket that is open and paused (call resume() once listening), or an AgentError 'connect-failed'. */
  connect(): Promise<WebSocket>;
  /**
   * The daemon key this transport learned over an already authenticated channel (SSH),
   * set by connect(); the link pins it instead of asking for a pair code.
   */
  readonly pin?: PinnedServer | undefined;
  /** wss:// only: the TLS certificate fingerprint seen on the last connect, pinned at pairing. */
  readonly tlsFingerprint?: string | undefined;
  /** SSH only: one line about the server's daemon when it is not the one asked for (shown by `tether status`). */
  readonly note?: string | undefined;
}

export const WS_OPTIONS = { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false } as const;
