/**
 * Which header fields a relay passes on. The relay is an intermediary in RFC 9110's sense
 * (two hops: client → daemon, agent or daemon → provider), so both sides apply one rule.
 *
 * Hop-by-hop (RFC 9110 §7.6.1): Connection itself, every field Connection names, and the fields
 * §7.6.1 lists as needing removal whether named or not (Proxy-Connection, Keep-Alive, TE,
 * Transfer-Encoding, Upgrade). Also dropped: Proxy-Authenticate and Proxy-Authorization
 * (§11.7.1–2: credentials between a client and its proxy, that is this hop); Trailer (it
 * announces trailer fields, and the relay carries the body's bytes, not its trailers); Host
 * and Expect, which the next hop's HTTP client sets for its own connection (the URL's host;
 * 100-continue is answered per hop). Any other proxy-* name is end-to-end.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'trailer',
  'host',
  'expect',
]);

/** The field names a message's Connection headers list (lower case). */
export function connectionOptions(headers: readonly (readonly [string, string])[]): Set<string> {
  const named = new Set<string>();
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) {
      const option = token.trim().toLowerCase();
      if (option) named.add(option);
    }
  }
  return named;
}

/** The headers a relay forwards, in order: none that is hop-by-hop or named in Connection. */
export function endToEndHeaders<T extends readonly [string, string]>(headers: readonly T[]): T[] {
  const named = connectionOptions(headers);
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !HOP_BY_HOP_HEADERS.has(lower) && !named.has(lower);
  });
}
