import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './messages.js';
import { PROTOCOL_VERSION } from './version.js';
import { ProtocolError } from './errors.js';
import { decodeFrame, encodeCredit, encodeData, encodeEnd, FrameKind } from './relay.js';
import { handshakeTranscript, normalizePairCode, isPairCode, formatPairCode } from './handshake.js';
import { providerErrorBody } from './providers.js';

const key = 'A'.repeat(43);
const sig = 'B'.repeat(86);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('decodeMessage', () => {
  it('round-trips a valid hello', () => {
    const hello = { t: 'hello', v: PROTOCOL_VERSION, serverId: 'gpu-box', serverKey: key, nonce: key } as const;
    expect(decodeMessage(encodeMessage(hello))).toEqual(hello);
  });

  it.each([
    ['not json', '{"t":', 'bad-json'],
    ['an array', '[1,2]', 'bad-message'],
    ['no tag', '{"x":1}', 'bad-message'],
    ['unknown tag', '{"t":"steal-keys"}', 'unknown-type'],
    ['inherited property as tag', '{"t":"constructor"}', 'unknown-type'],
    ['newer version', `{"t":"hello","v":${PROTOCOL_VERSION + 1},"serverId":"a","serverKey":"${key}","nonce":"${key}"}`, 'version-mismatch'],
    ['older version (v1 named the credential `provider`)', `{"t":"lease.request","v":1,"id":"rq_0001","provider":"openai"}`, 'version-mismatch'],
    ['short key', `{"t":"hello","v":${PROTOCOL_VERSION},"serverId":"a","serverKey":"abc","nonce":"${key}"}`, 'bad-message'],
    ['newline in server id', `{"t":"hello","v":${PROTOCOL_VERSION},"serverId":"a\\nb","serverKey":"${key}","nonce":"${key}"}`, 'bad-message'],
    ['bad signature length', `{"t":"auth","v":${PROTOCOL_VERSION},"agentKey":"${key}","name":"lap","nonce":"${key}","sig":"${sig}x"}`, 'bad-message'],
  ])('refuses %s with %s', (_name, text, code) => {
    expect(codeOf(() => decodeMessage(text))).toBe(code);
  });

  it('names both versions on a mismatch', () => {
    try {
      decodeMessage(`{"t":"welcome","v":7}`);
    } catch (err) {
      expect((err as ProtocolError).message).toMatch(new RegExp(`v7.*v${PROTOCOL_VERSION}`));
      expect((err as ProtocolError).closeCode).toBe(4426);
    }
  });
});

describe('binary relay frames', () => {
  it('round-trips DATA, END and CREDIT', () => {
    const payload = new Uint8Array([1, 2, 3]);
    const data = decodeFrame(encodeData(7, payload));
    expect(data).toMatchObject({ kind: FrameKind.data, sid: 7 });
    expect(data.kind === FrameKind.data && [...data.payload]).toEqual([1, 2, 3]);
    expect(decodeFrame(encodeEnd(9))).toEqual({ kind: FrameKind.end, sid: 9 });
    expect(decodeFrame(encodeCredit(0xffffffff, 65536))).toEqual({ kind: FrameKind.credit, sid: 0xffffffff, bytes: 65536 });
  });

  it.each([
    ['too short', new Uint8Array([1, 0, 0]), 'bad-frame'],
    ['stream 0', new Uint8Array([1, 0, 0, 0, 0, 9]), 'bad-frame'],
    ['unknown kind', new Uint8Array([0x7f, 0, 0, 0, 1]), 'bad-frame'],
    ['END with payload', new Uint8Array([2, 0, 0, 0, 1, 5]), 'bad-frame'],
    ['CREDIT of 0', new Uint8Array([3, 0, 0, 0, 1, 0, 0, 0, 0]), 'bad-frame'],
    ['oversize DATA', new Uint8Array(5 + 64 * 1024 + 1).fill(1, 0, 1).fill(1, 4, 5), 'frame-too-large'],
  ])('refuses %s', (_name, bytes, code) => {
    expect(codeOf(() => decodeFrame(bytes))).toBe(code);
  });

  it('decodes frames that sit at an offset in a larger buffer', () => {
    const big = new Uint8Array(20);
    big.set(encodeCredit(3, 10), 8);
    expect(decodeFrame(big.subarray(8, 17))).toEqual({ kind: FrameKind.credit, sid: 3, bytes: 10 });
  });
});

describe('handshake helpers', () => {
  const fields = { serverId: 's', serverKey: key, serverNonce: key, agentKey: key, agentNonce: key, agentName: 'lap' };
  it('separates roles in the transcript', () => {
    expect(handshakeTranscript('agent-auth', fields)).not.toBe(handshakeTranscript('daemon-welcome', fields));
  });
  it('normalizes what people type for a pair code', () => {
    expect(normalizePairCode('abcd-efgh-ijkl-o')).toBe('ABCDEFGH1JK10');
    expect(isPairCode(normalizePairCode(formatPairCode('0123456789ABC')))).toBe(true);
    expect(isPairCode('SHORT')).toBe(false);
  });
});

describe('provider error bodies', () => {
  it('speak each provider\'s shape', () => {
    expect(providerErrorBody('anthropic', 401, 'authentication', 'laptop disconnected')).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'tether: laptop disconnected' },
    });
    expect(providerErrorBody('openai', 401, 'authentication', 'x')).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(providerErrorBody('gemini', 401, 'authentication', 'x')).toMatchObject({ error: { status: 'UNAUTHENTICATED', code: 401 } });
  });

  it('a gateway timeout (forward mode\'s 504) in each shape', () => {
    expect(providerErrorBody('anthropic', 504, 'timeout', 'x')).toMatchObject({ error: { type: 'timeout_error' } });
    expect(providerErrorBody('openai', 504, 'timeout', 'x')).toMatchObject({ error: { type: 'server_error', code: null } });
    expect(providerErrorBody('gemini', 504, 'timeout', 'x')).toMatchObject({ error: { status: 'DEADLINE_EXCEEDED', code: 504 } });
  });
});

describe('forward mode on lease.grant and lease.renew', () => {
  const leaseId = `ls_${'C'.repeat(22)}`;
  const forward = { secret: 'ya29.minted-token', expiresInMs: 3000, baseUrl: 'https://aiplatform.googleapis.com', keyHeader: 'authorization', keyPrefix: 'Bearer ' };
  const grant = { t: 'lease.grant', id: 'rq_abcdef', leaseId, scope: 'connection', ttlMs: 60_000, forward } as const;

  it('round-trips a grant with a forwarded secret and a renew with a new one', () => {
    expect(decodeMessage(encodeMessage(grant))).toEqual(grant);
    const renew = { t: 'lease.renew', leaseId, ttlMs: 5000, forward: { secret: 'ya29.next', expiresInMs: 3000 } } as const;
    expect(decodeMessage(encodeMessage(renew))).toEqual(renew);
    const plain = { t: 'lease.grant', id: 'rq_abcdef', leaseId, scope: 'once', ttlMs: 60_000 } as const;
    expect(decodeMessage(encodeMessage(plain))).toEqual(plain);
  });

  it.each([
    ['a secret with a line break (header injection)', { ...forward, secret: 'tok\r\nx-evil: 1' }],
    ['an empty secret', { ...forward, secret: '' }],
    ['a key header that is not one', { ...forward, keyHeader: 'host' }],
    ['a non-http base URL', { ...forward, baseUrl: 'file:///etc/passwd' }],
    ['a prefix with a line break', { ...forward, keyPrefix: 'Bearer\n' }],
    ['a validity under a second', { ...forward, expiresInMs: 10 }],
  ])('refuses %s', (_name, bad) => {
    expect(codeOf(() => decodeMessage(JSON.stringify({ ...grant, forward: bad })))).toBe('bad-message');
  });
});
