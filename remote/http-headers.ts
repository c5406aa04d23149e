import { KEY_HEADERS, LEASE_TOKEN_PATTERN, endToEndHeaders } from '../protocol/index.js';

/** Never relayed from the client: its key headers (they carry our lease token) and our own pid hint. */
const CLIENT_ONLY = new Set<string>([...KEY_HEADERS, 'x-tether-pid']);

function pairsOf(rawHeaders: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

/**
 * Request headers as they go to the laptop (or, in forward mode, the provider): no key headers,
 * no pid hint, nothing hop-by-hop (protocol/hop-by-hop.ts). content-length stays: the body is
 * relayed byte for byte; a chunked body simply arrives without one.
 */
export function relayRequestHeaders(rawHeaders: readonly string[]): [string, string][] {
  return endToEndHeaders(pairsOf(rawHeaders)).filter(([name]) => name && !CLIENT_ONLY.has(name.toLowerCase()));
}

/** Response headers as a flat list for res.writeHead, minus hop-by-hop and malformed ones; Node frames the body itself. */
export function relayResponseHeaders(headers: readonly (readonly [string, string])[]): string[] {
  const out: string[] = [];
  for (const [name, value] of endToEndHeaders(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) continue;
    out.push(name, value);
  }
  return out;
}

/** The same for a provider's response in forward mode (Node's flat rawHeaders). */
export function providerResponseHeaders(rawHeaders: readonly string[]): string[] {
  return relayResponseHeaders(pairsOf(rawHeaders));
}

/**
 * The lease token from wherever this provider's clients put a key. Some clients send a
 * placeholder in a second key header, so a value shaped like a lease token wins.
 */
export function leaseTokenFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const candidates: string[] = [];
  for (const name of KEY_HEADERS) {
    const raw = headers[name];
    let value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (value && name === 'authorization') value = /^bearer\s+(\S+)$/i.exec(value)?.[1];
    if (value) candidates.push(value);
  }
  return candidates.find((c) => LEASE_TOKEN_PATTERN.test(c)) ?? candidates[0];
}
