import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeCredit, encodeData, encodeEnd, FrameKind } from './relay.js';

describe('binary relay frames', () => {
  it('lay out kind, sid and credit big-endian, byte for byte as the wire contract says', () => {
    for (const sid of [1, 0x7f, 0x80, 0x1234, 0x12345678, 0x80000000, 0xfffffffe, 0xffffffff]) {
      const ref = new DataView(new ArrayBuffer(9));
      ref.setUint8(0, FrameKind.credit);
      ref.setUint32(1, sid);
      ref.setUint32(5, 0x89abcdef);
      expect([...encodeCredit(sid, 0x89abcdef)]).toEqual([...new Uint8Array(ref.buffer)]);
      expect([...encodeEnd(sid)]).toEqual([FrameKind.end, ...new Uint8Array(ref.buffer).subarray(1, 5)]);
      expect([...encodeData(sid, Uint8Array.of(9, 8))]).toEqual([FrameKind.data, ...new Uint8Array(ref.buffer).subarray(1, 5), 9, 8]);
      expect(decodeFrame(new Uint8Array(ref.buffer))).toEqual({ kind: FrameKind.credit, sid, bytes: 0x89abcdef });
    }
  });
});
