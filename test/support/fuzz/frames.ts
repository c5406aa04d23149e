import { FrameKind, MAX_DATA_CHUNK, MAX_FRAME_BYTES, PROTOCOL_VERSION, encodeCredit, encodeData, encodeEnd, type Message } from '../../../protocol/index.js';
import type { Prng } from './prng.js';

/**
 * Fuzzed frames for either end of a link: valid messages of the sending side with their
 * fields mutated (wrong types, huge strings, missing or unknown fields, deep nesting,
 * prototype keys), other sides' and unknown messages, broken JSON, and binary relay frames
 * with valid headers and wrong stream ids, lengths and credit values, or random bytes.
 */

/** Who sends the frames: a hostile laptop (to a daemon) or a hostile daemon (to an agent). */
export type Sender = 'laptop' | 'daemon';

export interface FrameContext {
  /** Relay streams live on this link (their frames reach real stream state). */
  sids: number[];
  /** Lease ids the receiver knows (renewals, relay.open on a real lease). */
  leaseIds: string[];
  /** Leave out frames that end the link on purpose (bye, another version), for long links. */
  keepLink?: boolean;
}

export interface FuzzFrame {
  /** A string goes as a text frame; bytes as a binary frame unless `text` says otherwise. */
  data: string | Uint8Array;
  /** Raw bytes sent as a text frame (invalid UTF-8 among them). */
  text?: boolean;
  /** What the generator made, for the failure report. */
  kind: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const b64 = (rng: Prng, bytes: number) => rng.string(Math.ceil((bytes * 4) / 3));
const leaseId = (rng: Prng, ctx: FrameContext) => (ctx.leaseIds.length && rng.chance(0.5) ? rng.pick(ctx.leaseIds) : `ls_${rng.string(rng.int(8, 20))}`);
const requestId = (rng: Prng) => `rq_${rng.string(rng.int(4, 16))}`;
const headers = (rng: Prng): Json => Array.from({ length: rng.int(0, 4) }, () => [rng.pick(['content-type', 'x-a', 'authorization', 'transfer-encoding', 'host']), rng.string(rng.int(0, 20))]);

function sid(rng: Prng, ctx: FrameContext): number {
  const r = rng.next();
  if (ctx.sids.length && r < 0.5) return rng.pick(ctx.sids);
  if (r < 0.6) return 0;
  if (r < 0.7) return 0xffffffff;
  if (r < 0.85) return rng.int(1, 8);
  return rng.uint32();
}

/** One valid message of each type, with plausible field values. */
function template(type: Message['t'], rng: Prng, ctx: FrameContext): JsonObject {
  const v = PROTOCOL_VERSION;
  switch (type) {
    case 'hello':
      return { t: type, v, serverId: 'fuzz-box', serverKey: b64(rng, 32), nonce: b64(rng, 32) };
    case 'auth':
      return { t: type, v, agentKey: b64(rng, 32), name: 'fuzz', nonce: b64(rng, 32), sig: b64(rng, 64) };
    case 'pair':
      return { t: type, v, agentKey: b64(rng, 32), name: 'fuzz', nonce: b64(rng, 32), sig: b64(rng, 64), mac: b64(rng, 32) };
    case 'welcome':
      return { t: type, v, agentId: rng.string(16), sig: b64(rng, 64), heartbeatMs: 1000, maxLeaseTtlMs: 600_000 };
    case 'hb':
      return { t: type };
    case 'bye':
      return { t: type, reason: rng.string(rng.int(0, 30)) };
    case 'error':
      return { t: type, code: rng.pick(['bad-json', 'bad-message', 'internal', 'unknown-stream', 'flow-control']), message: rng.string(rng.int(0, 40)), ref: String(sid(rng, ctx)) };
    case 'offer':
      return { t: type, credentials: Array.from({ length: rng.int(0, 3) }, () => ({ name: rng.pick(['openai', 'fuzzcred', 'x']), provider: rng.pick(['openai', 'anthropic', 'nope']), mode: rng.pick(['relay', 'forward']) })) };
    case 'lease.request':
      return { t: type, id: requestId(rng), credential: rng.pick(['openai', 'anthropic', 'nope']), purpose: rng.pick(['token', 'env', 'exec']), process: { pid: rng.int(0, 99999), uid: 1000, cmdline: ['node', 'x'], parents: [] } };
    case 'lease.grant':
      return { t: type, id: requestId(rng), leaseId: leaseId(rng, ctx), scope: rng.pick(['once', 'connection']), ttlMs: rng.int(1000, 600_000) };
    case 'lease.deny':
      return { t: type, id: requestId(rng), reason: rng.pick(['denied', 'timeout', 'unknown-credential', 'unknown-provider', 'error']), message: rng.string(rng.int(0, 30)) };
    case 'lease.renew':
      return { t: type, leaseId: leaseId(rng, ctx), ttlMs: rng.int(1000, 600_000) };
    case 'lease.revoke':
      return rng.chance(0.3) ? { t: type, reason: 'fuzz' } : { t: type, leaseIds: [leaseId(rng, ctx)], reason: 'fuzz' };
    case 'lease.ended':
      return { t: type, leaseId: leaseId(rng, ctx), reason: rng.pick(['expired', 'revoked', 'released', 'daemon-stopping']) };
    case 'relay.open':
      return { t: type, sid: sid(rng, ctx), leaseId: leaseId(rng, ctx), method: rng.pick(['GET', 'POST']), path: rng.pick(['/v1/models', '/v1/chat/completions', '/x']), headers: headers(rng) };
    case 'relay.head':
      return { t: type, sid: sid(rng, ctx), status: rng.pick([200, 404, 500]), headers: headers(rng) };
    case 'relay.abort':
      return { t: type, sid: sid(rng, ctx), reason: rng.string(rng.int(0, 30)) };
  }
}

const LAPTOP_TYPES: Message['t'][] = ['hb', 'bye', 'error', 'offer', 'lease.grant', 'lease.deny', 'lease.renew', 'lease.revoke', 'relay.head', 'relay.abort', 'auth', 'pair'];
const DAEMON_TYPES: Message['t'][] = ['hb', 'bye', 'error', 'lease.request', 'lease.ended', 'relay.open', 'relay.abort', 'hello', 'welcome'];
const ALL_TYPES = [...new Set([...LAPTOP_TYPES, ...DAEMON_TYPES])];
const LINK_ENDING: ReadonlySet<string> = new Set(['bye']);
const LINK_ENDERS = 0.01;

function hugeString(rng: Prng): string {
  // Mostly a few KB, now and then up to a few hundred KB (the receiver parses it all).
  const r = rng.next();
  const n = r < 0.9 ? rng.int(300, 4000) : r < 0.99 ? rng.int(4000, 64_000) : rng.int(64_000, 300_000);
  return rng.pick(['a', '\u00e9', '\ud83d\ude00', '\n', '"']).repeat(Math.ceil(n / 2));
}

function wrongValue(rng: Prng): Json {
  switch (rng.int(0, 12)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 0xffffffff + 1, -0]);
    case 3: return rng.string(rng.int(0, 12));
    case 4: return [];
    case 5: return {};
    case 6: return [rng.string(3), 1, null];
    case 7: return JSON.parse('{"__proto__":{"t":"hb","polluted":true}}') as Json;
    case 8: return '';
    case 9: return rng.uint32();
    case 10: return '\u0000\r\n\u2028';
    case 11: return [[rng.string(2), rng.string(2), rng.string(2)]];
    default: return rng.pick(['hb', 'relay.open', 'toString', 'constructor']);
  }
}

/** Mutates one field (or the object's shape); returns a short name of what it did. */
function mutate(rng: Prng, obj: JsonObject): string {
  // Not `v`: another version ends the link, and those frames come from linkEnder at their own rate.
  const keys = Object.keys(obj).filter((k) => k !== 'v');
  const key = rng.pick(keys);
  switch (rng.int(0, 9)) {
    case 0:
      delete obj[key];
      return `drop ${key}`;
    case 1:
      obj[key] = wrongValue(rng);
      return `wrong ${key}`;
    case 2:
      obj[key] = hugeString(rng);
      return `huge ${key}`;
    case 3:
      obj[rng.pick(['x', 'extra', 'sid2', 'toString', 'hasOwnProperty'])] = wrongValue(rng);
      return 'unknown field';
    case 4:
      obj.t = rng.pick(['lease', 'relay.', 'HB', 'hb ', 'hello2', '', 'constructor', '__proto__', rng.string(rng.int(1, 60))]);
      return 'unknown type';
    case 5:
      obj[key] = nest(rng.int(2, rng.chance(0.05) ? 20_000 : 200), rng.chance(0.5));
      return `deep ${key}`;
    case 6: {
      // defineProperty: a plain `obj.__proto__ =` would set the prototype, not send the key.
      const value = rng.chance(0.5) ? { t: 'hb', polluted: true, isAdmin: true } : { prototype: { polluted: true } };
      Object.defineProperty(obj, rng.pick(['__proto__', 'constructor', 'prototype']), { value, enumerable: true, configurable: true, writable: true });
      return 'proto key';
    }
    case 7:
      obj[key] = rng.pick(['\ud800', '\udfff\ud800', '\u0000', '\\', '${}', '%s%n', '../../etc/passwd']);
      return `odd text ${key}`;
    case 8:
      if (Array.isArray(obj[key])) (obj[key] as Json[]).push(...Array.from({ length: rng.int(1, 2000) }, () => wrongValue(rng)));
      else obj[key] = Array.from({ length: rng.int(1, 300) }, () => rng.string(4));
      return `array ${key}`;
    default:
      obj[key] = rng.pick([-1, 0, 1, 0xffffffff, 2 ** 32, 2 ** 31, 99999999999, 1.25]);
      return `number ${key}`;
  }
}

/** A value nested `depth` levels deep: built as text when deep, JSON.stringify would recurse. */
function nest(depth: number, arrays: boolean): Json {
  if (depth > 1000) return { __raw: arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` } as Json;
  let value: Json = 1;
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
  return value;
}

/** JSON.stringify, with deep values (see nest) spliced in as text. */
function stringify(obj: JsonObject): string {
  const raws: string[] = [];
  const text = JSON.stringify(obj, (_k, v: unknown) => {
    if (v && typeof v === 'object' && '__raw' in v) {
      raws.push((v as { __raw: string }).__raw);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return raws.length ? text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!) : text;
}

function jsonFrame(rng: Prng, sender: Sender, ctx: FrameContext): FuzzFrame {
  const own = sender === 'laptop' ? LAPTOP_TYPES : DAEMON_TYPES;
  const type = rng.pick((rng.chance(0.85) ? own : ALL_TYPES).filter((t) => !LINK_ENDING.has(t)));
  const obj = template(type, rng, ctx);
  const changes: string[] = [];
  // Some go out as they are: valid frames are part of the mix the receiver must keep serving.
  const n = rng.chance(0.15) ? 0 : rng.int(1, 3);
  for (let i = 0; i < n; i++) changes.push(mutate(rng, obj));
  return { data: stringify(obj), kind: `${type}${changes.length ? ` (${changes.join(', ')})` : ''}` };
}

/** Frames after which the link must end: another protocol version, bye, invalid UTF-8, past 1 MB. */
function linkEnder(rng: Prng, sender: Sender, ctx: FrameContext): FuzzFrame {
  const obj = template(rng.pick(sender === 'laptop' ? LAPTOP_TYPES : DAEMON_TYPES), rng, ctx);
  switch (rng.int(0, 9)) {
    case 0:
    case 1:
    case 2:
      // Any version but ours: the one before it, the next, and values that are no version at all.
      obj.v = rng.pick([0, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1, String(PROTOCOL_VERSION), null, PROTOCOL_VERSION + 1e-7, -1, `v${PROTOCOL_VERSION}`]);
      return { data: stringify(obj), kind: `${obj.t as string} (version ${String(obj.v)})` };
    case 3:
    case 4:
    case 5:
      return { data: stringify(template('bye', rng, ctx)), kind: 'bye' };
    case 6:
    case 7:
    case 8: {
      const bytes = rng.bytes(rng.int(1, 200));
      bytes[0] = 0xff;
      return { data: bytes, text: true, kind: 'invalid UTF-8 text' };
    }
    case 9:
      if (rng.chance(0.5)) return { data: stringify({ ...obj, pad: 'a'.repeat(rng.int(MAX_FRAME_BYTES, MAX_FRAME_BYTES + 100_000)) }), kind: 'text past 1 MB' };
    default: {
      // Rare (1 in 20 of these): 1 MB per frame is a lot of copying for nothing new.
      const frame = new Uint8Array(MAX_FRAME_BYTES + rng.int(1, 1000));
      frame.set(encodeData(rng.int(1, 8), new Uint8Array(0)));
      return { data: frame, kind: 'binary past 1 MB' };
    }
  }
}

function brokenJson(rng: Prng, sender: Sender, ctx: FrameContext): FuzzFrame {
  const valid = stringify(template(rng.pick((sender === 'laptop' ? LAPTOP_TYPES : DAEMON_TYPES).filter((t) => !LINK_ENDING.has(t))), rng, ctx));
  switch (rng.int(0, 7)) {
    case 0:
      return { data: valid.slice(0, rng.int(0, valid.length - 1)), kind: 'truncated json' };
    case 1:
      return { data: rng.pick(['', ' ', 'null', '[]', '1', '"hb"', 'true', '{}', '{"t":null}', '{"t":1}', '[{"t":"hb"}]', '{"t":"hb"', '{"t":"hb"}}', '{"t":"bye","t":"hb"}']), kind: 'odd json' };
    case 2:
      return { data: String.fromCharCode(...rng.bytes(rng.int(1, 200))), kind: 'random latin-1 text' };
    case 3:
      return { data: valid.replace(/"/g, "'"), kind: 'single quotes' };
    case 4:
      return { data: `${valid}${rng.string(rng.int(1, 10), ' ,}]{["x')}`, kind: 'trailing garbage' };
    case 5:
      return { data: rng.string(rng.int(1, 500), '{}[]":,0123456789tfnule\\ '), kind: 'json alphabet soup' };
    case 6: {
      const at = rng.int(0, valid.length - 1);
      return { data: valid.slice(0, at) + String.fromCharCode(rng.int(0, 0xffff)) + valid.slice(at + 1), kind: 'flipped char' };
    }
    default:
      return { data: rng.pick([`{"t":"hb","v":${PROTOCOL_VERSION}}`, `{"v":${PROTOCOL_VERSION},"t":"hb","t":"hb"}`, '{"t":"hb"}\u0000']), kind: 'near hb' };
  }
}

function binaryFrame(rng: Prng, ctx: FrameContext): FuzzFrame {
  const id = sid(rng, ctx);
  switch (rng.int(0, 9)) {
    case 0:
      return { data: encodeData(id, rng.bytes(rng.int(0, 2048))), kind: `DATA sid=${id}` };
    case 1: {
      if (rng.chance(0.8)) return { data: encodeData(id, rng.bytes(rng.int(1, 64))), kind: `small DATA sid=${id}` };
      // Past the 64 KB chunk limit, or a whole window at once.
      const n = rng.pick([MAX_DATA_CHUNK, MAX_DATA_CHUNK + 1, MAX_DATA_CHUNK * 4, rng.int(MAX_DATA_CHUNK, 300_000)]);
      const out = new Uint8Array(5 + n);
      out.set(encodeData(id, new Uint8Array(0)));
      return { data: out, kind: `big DATA sid=${id} len=${n}` };
    }
    case 2:
      return { data: encodeEnd(id), kind: `END sid=${id}` };
    case 3: {
      const out = new Uint8Array(5 + rng.int(1, 8));
      out.set(encodeEnd(id));
      return { data: out, kind: `END with payload sid=${id}` };
    }
    case 4: {
      const credit = rng.pick([1, 0x7fffffff, 0xffffffff, 262_144, 262_145, rng.uint32()]);
      return { data: encodeCredit(id, credit || 1), kind: `CREDIT sid=${id} bytes=${credit}` };
    }
    case 5: {
      const frame = encodeCredit(id, 1);
      frame.fill(0, 5);
      return { data: frame, kind: `CREDIT 0 sid=${id}` };
    }
    case 6: {
      const frame = new Uint8Array(rng.pick([5, 6, 8, 10, 13]));
      frame.set(encodeEnd(id));
      frame[0] = FrameKind.credit;
      return { data: frame, kind: `CREDIT of ${frame.byteLength - 5} bytes sid=${id}` };
    }
    case 7:
      return { data: rng.bytes(rng.int(0, 4)), kind: 'short binary' };
    case 8: {
      const frame = rng.bytes(rng.int(5, 64));
      frame[0] = rng.pick([0, 4, 0x7f, 0x80, 0xff]);
      return { data: frame, kind: `kind 0x${frame[0]!.toString(16)}` };
    }
    default:
      return { data: rng.bytes(rng.int(0, 4096)), kind: 'random binary' };
  }
}

/** One fuzzed frame from `sender`; about one in a hundred ends the link (none with `keepLink`). */
export function fuzzFrame(rng: Prng, sender: Sender, ctx: FrameContext): FuzzFrame {
  if (!ctx.keepLink && rng.chance(LINK_ENDERS)) return linkEnder(rng, sender, ctx);
  const r = rng.next();
  if (r < 0.55) return jsonFrame(rng, sender, ctx);
  if (r < 0.72) return brokenJson(rng, sender, ctx);
  return binaryFrame(rng, ctx);
}
