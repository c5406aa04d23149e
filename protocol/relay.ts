import * as z from 'zod';
import { LeaseId, StreamId } from './encoding.js';
import { ProtocolError, CloseCodes } from './errors.js';
import { MAX_DATA_CHUNK } from './version.js';

/**
 * Relay streams: one per proxied HTTP request, opened by the daemon.
 * Control travels as JSON (open, head, abort); bytes travel as binary frames (DATA, END,
 * CREDIT) so the hot path never touches JSON or base64.
 *
 * Flow control: each side may have at most RELAY_WINDOW bytes of DATA outstanding per
 * stream and direction; the receiver returns credit as its consumer drains.
 */

const HeaderList = z.array(z.tuple([z.string().min(1).max(256), z.string().max(16 * 1024)])).max(256);

export const RelayOpen = z.object({
  t: z.literal('relay.open'),
  sid: StreamId,
  leaseId: LeaseId,
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']),
  /** Path after the provider prefix, with query: `/v1/chat/completions?x=1`. */
  path: z.string().startsWith('/').max(8192),
  headers: HeaderList,
  /**
   * The process that made the request, as the daemon read it from /proc: sent for
   * subscription credentials only, which the laptop lends to their vendor's own client.
   */
  caller: z.object({ pid: z.number().int().nonnegative(), cmdline: z.array(z.string().max(4096)).max(8) }).optional(),
});
export type RelayOpen = z.infer<typeof RelayOpen>;

export const RelayHead = z.object({
  t: z.literal('relay.head'),
  sid: StreamId,
  status: z.number().int().min(100).max(599),
  headers: HeaderList,
});
export type RelayHead = z.infer<typeof RelayHead>;

/** Either side gives up on a stream (client went away, upstream failed, lease revoked). */
export const RelayAbort = z.object({
  t: z.literal('relay.abort'),
  sid: StreamId,
  reason: z.string().max(300),
});
export type RelayAbort = z.infer<typeof RelayAbort>;
/** The laptop's relay.abort reason for a lease it no longer holds (it expired or was revoked there first). */
export const UNKNOWN_LEASE_ABORT = 'unknown lease';

/** Binary frame kinds. Values are part of the wire contract: never renumber. */
export const FrameKind = {
  data: 0x01,
  end: 0x02,
  credit: 0x03,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export type BinaryFrame =
  | { kind: typeof FrameKind.data; sid: number; payload: Uint8Array }
  | { kind: typeof FrameKind.end; sid: number }
  | { kind: typeof FrameKind.credit; sid: number; bytes: number };

const HEADER_BYTES = 5;

// Bytes by hand rather than through a DataView: one object less per frame on the hot path.
function putUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
}

function getUint32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function header(kind: FrameKind, sid: number, extra: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + extra);
  out[0] = kind;
  putUint32(out, 1, sid);
  return out;
}

/** DATA frame: [0x01][sid u32 BE][payload]. The payload is copied once, into the frame. */
export function encodeData(sid: number, payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_DATA_CHUNK) throw new RangeError(`relay chunk of ${payload.byteLength} bytes exceeds ${MAX_DATA_CHUNK}`);
  const out = header(FrameKind.data, sid, payload.byteLength);
  out.set(payload, HEADER_BYTES);
  return out;
}

export function encodeEnd(sid: number): Uint8Array {
  return header(FrameKind.end, sid, 0);
}

export function encodeCredit(sid: number, bytes: number): Uint8Array {
  const out = header(FrameKind.credit, sid, 4);
  putUint32(out, HEADER_BYTES, bytes);
  return out;
}

/** Decodes a binary WebSocket message; a DATA payload is a view into `frame`, not a copy. */
export function decodeFrame(frame: Uint8Array): BinaryFrame {
  if (frame.byteLength < HEADER_BYTES) throw new ProtocolError('bad-frame', `binary frame of ${frame.byteLength} bytes is shorter than its header`);
  const kind = frame[0]!;
  const sid = getUint32(frame, 1);
  if (sid === 0) throw new ProtocolError('bad-frame', 'stream id 0 is reserved');
  switch (kind) {
    case FrameKind.data:
      if (frame.byteLength - HEADER_BYTES > MAX_DATA_CHUNK) {
        throw new ProtocolError('frame-too-large', `relay chunk exceeds ${MAX_DATA_CHUNK} bytes`, CloseCodes.protocolError);
      }
      return { kind, sid, payload: frame.subarray(HEADER_BYTES) };
    case FrameKind.end:
      if (frame.byteLength !== HEADER_BYTES) throw new ProtocolError('bad-frame', 'END frame carries no payload');
      return { kind, sid };
    case FrameKind.credit: {
      if (frame.byteLength !== HEADER_BYTES + 4) throw new ProtocolError('bad-frame', 'CREDIT frame carries exactly 4 bytes');
      const bytes = getUint32(frame, HEADER_BYTES);
      if (bytes === 0) throw new ProtocolError('bad-frame', 'CREDIT of 0 bytes');
      return { kind, sid, bytes };
    }
    default:
      throw new ProtocolError('bad-frame', `unknown binary frame kind 0x${kind.toString(16)}`);
  }
}
