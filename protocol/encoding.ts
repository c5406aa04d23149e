import * as z from 'zod';

/** base64url without padding, exactly `bytes` long once decoded. */
export function base64url(bytes: number) {
  const length = Math.ceil((bytes * 4) / 3);
  return z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${length}}$`), `expected ${bytes} bytes as base64url`);
}

/** Ed25519 public key, signature, and 256-bit nonce as they travel. */
export const PublicKey = base64url(32);
export const Signature = base64url(64);
export const Nonce = base64url(32);

/** Names chosen by people (server ids, laptop names, credential names): printable, short, no newlines. */
export const DisplayName = z.string().min(1).max(64).regex(/^[\w.@:+-][\w .@:+-]*$/, 'letters, digits, space and ._@:+- only');

/** A credential or provider name as it appears in proxy paths: `/openai/...`. */
export const PROVIDER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,47}$/;
export const ProviderName = z.string().min(1).max(48).regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and -');

/** ProviderName's test without zod, for every proxied request: the pattern is ASCII, so units are code points. */
export function isProviderName(name: string): boolean {
  return PROVIDER_NAME_PATTERN.test(name);
}

/** Relay stream ids are chosen by the daemon; 0 is never used. */
export const StreamId = z.number().int().min(1).max(0xffffffff);

export const LEASE_ID_PATTERN = /^ls_[A-Za-z0-9_-]{8,64}$/;
export const LeaseId = z.string().regex(LEASE_ID_PATTERN);

/** Lease tokens: `tth_` and 256 random bits. They exist only on the server. */
export const LEASE_TOKEN_PREFIX = 'tth_';
export const LEASE_TOKEN_PATTERN = /^tth_[A-Za-z0-9_-]{43}$/;
