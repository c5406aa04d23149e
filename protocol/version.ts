/**
 * Wire protocol version. Bumped only for changes an older peer cannot understand; a peer of
 * another version is refused in the handshake (4426) with both versions named.
 * v2: `offer.credentials` (was `providers`) and `lease.request.credential` (was `provider`):
 * `provider` on the wire now always means a provider spec, never a credential's name.
 */
export const PROTOCOL_VERSION = 2;

/** Largest WebSocket message either side accepts; larger ones close the link with 1009. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Relay data travels in binary frames of at most this many payload bytes. */
export const MAX_DATA_CHUNK = 64 * 1024;

/** Bytes a relay stream may have in flight, per direction, before the receiver grants more credit. */
export const RELAY_WINDOW = 256 * 1024;

/** The daemon closes a socket that has not completed the handshake within this time (4401). */
export const HANDSHAKE_TIMEOUT_MS = 5000;

export const DEFAULT_HEARTBEAT_MS = 1000;

/** The dead-man timer fires after this many heartbeat periods without a sign of life. */
export const DEADMAN_HEARTBEATS = 3;

export const DEFAULT_LEASE_TTL_MS = 10 * 60 * 1000;
