import type { z } from 'zod';
import { CloseCodes, ProtocolError } from './errors.js';
import { Auth, Hello, Pair, Welcome } from './handshake.js';
import { decodeHotMessage } from './hot-messages.js';
import { LeaseDeny, LeaseEnded, LeaseGrant, LeaseRenew, LeaseRequest, LeaseRevoke, Offer } from './leases.js';
import { RelayAbort, RelayHead, RelayOpen } from './relay.js';
import { Bye, ErrorFrame, Heartbeat } from './session.js';
import { PROTOCOL_VERSION } from './version.js';

/** Every JSON message on the wire, by its tag. Binary relay frames are in relay.ts. */
const schemas = {
  hello: Hello,
  auth: Auth,
  pair: Pair,
  welcome: Welcome,
  hb: Heartbeat,
  bye: Bye,
  error: ErrorFrame,
  offer: Offer,
  'lease.request': LeaseRequest,
  'lease.grant': LeaseGrant,
  'lease.deny': LeaseDeny,
  'lease.renew': LeaseRenew,
  'lease.revoke': LeaseRevoke,
  'lease.ended': LeaseEnded,
  'relay.open': RelayOpen,
  'relay.head': RelayHead,
  'relay.abort': RelayAbort,
} as const;

type Schemas = typeof schemas;
export type MessageType = keyof Schemas;
export type Message = { [K in MessageType]: z.infer<Schemas[K]> }[MessageType];
export type MessageOf<T extends MessageType> = Extract<Message, { t: T }>;

export const MESSAGE_TYPES = Object.keys(schemas) as MessageType[];

function isMessageType(t: string): t is MessageType {
  return Object.hasOwn(schemas, t);
}

/**
 * Text frame → validated message. Throws ProtocolError with a stable code; the caller
 * answers with an error frame or closes, it never crashes.
 */
export function decodeMessage(text: string): Message {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad-json', 'frame is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError('bad-message', 'frame is not a JSON object');
  }
  const tag = (raw as { t?: unknown }).t;
  if (typeof tag !== 'string') throw new ProtocolError('bad-message', 'frame has no string "t" tag');
  if (!isMessageType(tag)) throw new ProtocolError('unknown-type', `unknown message type "${tag.slice(0, 40)}"`);
  const version = (raw as { v?: unknown }).v;
  if (version !== undefined && version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'version-mismatch',
      `peer speaks tether protocol v${String(version).slice(0, 10)}, this side speaks v${PROTOCOL_VERSION}: install the same tether version on both sides`,
      CloseCodes.versionMismatch,
    );
  }
  const hot = decodeHotMessage(tag, raw as Record<string, unknown>);
  if (hot) return hot;
  const parsed = schemas[tag].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'message';
    throw new ProtocolError('bad-message', `invalid ${tag}: ${where}: ${issue?.message ?? 'does not match the schema'}`);
  }
  return parsed.data as Message;
}

/** Message → text frame. Outgoing messages are built by our own typed code, so no validation here. */
export function encodeMessage(message: Message): string {
  return JSON.stringify(message);
}
