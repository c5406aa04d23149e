import * as z from 'zod';
import { DisplayName, Nonce, PublicKey, Signature, base64url } from './encoding.js';

/**
 * Handshake (DESIGN.md, "Wire protocol"; docs/ARCHITECTURE.md, "Handshake"):
 *   daemon → hello; agent → auth | pair; daemon → welcome.
 * Both signatures cover one transcript of both nonces and both keys, each under its own
 * role label, so a signature made for one purpose is useless for any other.
 */

export const ServerId = z.string().min(1).max(128).regex(/^[\w.@:-]+$/);

export const Hello = z.object({
  t: z.literal('hello'),
  v: z.number().int(),
  serverId: ServerId,
  serverKey: PublicKey,
  nonce: Nonce,
});
export type Hello = z.infer<typeof Hello>;

/** Later connections: proof of the agent's key, bound to this connection's nonces. */
export const Auth = z.object({
  t: z.literal('auth'),
  v: z.number().int(),
  agentKey: PublicKey,
  name: DisplayName,
  nonce: Nonce,
  sig: Signature,
});
export type Auth = z.infer<typeof Auth>;

/**
 * First contact: the one-time pair code never travels. `mac` is HMAC-SHA256 keyed by the
 * code over the transcript, so only someone who knows the code, and sees this daemon's key,
 * can produce it.
 */
export const Pair = z.object({
  t: z.literal('pair'),
  v: z.number().int(),
  agentKey: PublicKey,
  name: DisplayName,
  nonce: Nonce,
  sig: Signature,
  mac: base64url(32),
});
export type Pair = z.infer<typeof Pair>;

export const Welcome = z.object({
  t: z.literal('welcome'),
  v: z.number().int(),
  /** Stable id of the agent's key as the daemon knows it (a fingerprint, not a secret). */
  agentId: z.string().min(1).max(128),
  sig: Signature,
  /** Present only after a pairing: proves the daemon knew the code too. */
  mac: base64url(32).optional(),
  heartbeatMs: z.number().int().min(50).max(60_000),
  maxLeaseTtlMs: z.number().int().min(1000),
});
export type Welcome = z.infer<typeof Welcome>;

export type TranscriptRole = 'agent-auth' | 'agent-pair' | 'pair-mac-agent' | 'pair-mac-daemon' | 'daemon-welcome';

export interface TranscriptFields {
  serverId: string;
  serverKey: string;
  serverNonce: string;
  agentKey: string;
  agentNonce: string;
  agentName: string;
}

/**
 * The bytes (as UTF-8 text) each side signs or MACs. Every field is validated to be free
 * of newlines before it gets here, so the layout is unambiguous.
 */
export function handshakeTranscript(role: TranscriptRole, f: TranscriptFields): string {
  return [
    'tether/v1/handshake',
    `role=${role}`,
    `serverId=${f.serverId}`,
    `serverKey=${f.serverKey}`,
    `serverNonce=${f.serverNonce}`,
    `agentKey=${f.agentKey}`,
    `agentNonce=${f.agentNonce}`,
    `agentName=${f.agentName}`,
  ].join('\n');
}

/** Pair codes: 65 bits in Crockford base32, shown as XXXX-XXXX-XXXX-X. */
export const PAIR_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const PAIR_CODE_LENGTH = 13;

/** Accepts what a person may type: any case, dashes or spaces, and the usual look-alikes. */
export function normalizePairCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[OIL]/g, (c) => (c === 'O' ? '0' : '1'));
}

export function formatPairCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}

export function isPairCode(code: string): boolean {
  return code.length === PAIR_CODE_LENGTH && [...code].every((c) => PAIR_CODE_ALPHABET.includes(c));
}
