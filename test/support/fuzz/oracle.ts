import type { WebSocket } from 'ws';
import { CloseCodes, MAX_FRAME_BYTES, ProtocolError, decodeFrame, decodeMessage } from '../../../protocol/index.js';
import type { FuzzFrame } from './frames.js';

/** What the receiver must do with a frame, judged by the same protocol module it runs. */
export interface Expectation {
  /** The frame does not decode: an `error` frame answers it (or the link closes). */
  decodeError: boolean;
  /** The frame ends the link: too big for ws, invalid UTF-8, another protocol version, bye. */
  closes: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function expectationOf(frame: FuzzFrame): Expectation {
  const { data } = frame;
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > MAX_FRAME_BYTES) return { decodeError: false, closes: true };
  if (typeof data !== 'string' && !frame.text) {
    try {
      decodeFrame(data);
      return { decodeError: false, closes: false };
    } catch {
      return { decodeError: true, closes: false };
    }
  }
  let text: string;
  try {
    text = typeof data === 'string' ? data : utf8.decode(data);
  } catch {
    return { decodeError: false, closes: true };
  }
  try {
    const message = decodeMessage(text);
    return { decodeError: false, closes: message.t === 'bye' };
  } catch (err) {
    return { decodeError: true, closes: err instanceof ProtocolError && err.closeCode === CloseCodes.versionMismatch };
  }
}

export function send(ws: WebSocket, frame: FuzzFrame): void {
  ws.send(frame.data, { binary: typeof frame.data !== 'string' && !frame.text });
}

export interface BatchOutcome {
  /** `error` frames received before the probe's answer (or the close). */
  errors: number;
  closed: { code: number; reason: string } | undefined;
}

/** What a crashed or half-crashed Node process leaves in its output. */
export const CRASH_OUTPUT = /unhandled|uncaught|UnhandledPromiseRejection|\n\s+at .+:\d+:\d+/i;

/** Raised with everything needed to replay: the seed, the frame's index, what it was. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

/**
 * Sends `frames`, then `probe`, and resolves once `answered` sees the probe's answer or the
 * connection closes; neither within `boundMs` is a hang. Frames are sent as one burst, as a
 * hostile peer would.
 */
export function throwBatch(ws: WebSocket, frames: FuzzFrame[], probe: () => void, answered: (message: { t?: unknown; ref?: unknown; id?: unknown }) => boolean, boundMs: number): Promise<BatchOutcome> {
  return new Promise((resolve, reject) => {
    let errors = 0;
    const done = (closed: BatchOutcome['closed']) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve({ errors, closed });
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      let message: { t?: unknown; ref?: unknown; id?: unknown };
      try {
        message = JSON.parse(data.toString('utf8')) as typeof message;
      } catch {
        return reject(new Error('the peer sent a text frame that is not JSON'));
      }
      if (answered(message)) return done(undefined);
      if (message.t === 'error') errors += 1;
    };
    const onClose = (code: number, reason: Buffer) => done({ code, reason: reason.toString() });
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      reject(new Error(`no answer and no close within ${boundMs} ms`));
    }, boundMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    if (ws.readyState !== ws.OPEN) return done({ code: 0, reason: 'closed before the batch' });
    for (const frame of frames) send(ws, frame);
    probe();
  });
}
