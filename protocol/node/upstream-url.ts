/**
 * The provider URL a proxied request goes to: the credential's base URL with the client's
 * path appended, never anywhere else on that host. `new URL(base + path)` resolves `..`,
 * `%2e%2e` and `\`, so a lease could carry the real key to `https://gw.example/x` from a
 * credential lent for `https://gw.example/team-a`; and a path not starting with `/` could even
 * change the host (`@evil.example`). Every path with a dot segment at any level of
 * percent-decoding, a backslash (raw or encoded), a fragment or a control byte is refused
 * instead: a client of a real provider API never sends one.
 */
export type UpstreamUrl = { ok: true; url: URL } | { ok: false; why: string };

/** Decoding rounds a path is checked at: `%25` nested deeper than this is refused outright. */
const DECODE_ROUNDS = 4;

export function upstreamUrl(baseUrl: string, path: string): UpstreamUrl {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    return { ok: false, why: 'the credential has a base URL that cannot be used' };
  }
  if (base.search || base.hash) return { ok: false, why: 'the credential has a base URL with a query or fragment' };
  if (!path.startsWith('/')) return { ok: false, why: 'the request path must start with /' };
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  const query = q === -1 ? '' : path.slice(q);
  const bad = unsafePath(pathname) ?? (/[#\0-\x1f\x7f]/.test(query) ? 'a fragment or control character in the query' : undefined);
  if (bad) return { ok: false, why: `the request path was refused (${bad}): it must stay under the credential's base URL` };
  const basePath = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.href);
  url.pathname = basePath + pathname;
  url.search = query;
  // The check that matters, whatever the parser did: same origin, under the base path.
  const under = url.pathname === basePath || url.pathname.startsWith(basePath + '/');
  if (url.origin !== base.origin || !under) return { ok: false, why: "the request path leaves the credential's base URL" };
  return { ok: true, url };
}

/** Why a path is refused, or undefined: each decoding of it is split at / and \ and searched for dot segments. */
function unsafePath(pathname: string): string | undefined {
  let text = pathname;
  for (let round = 0; round <= DECODE_ROUNDS; round++) {
    if (/[\0-\x1f\x7f#]/.test(text)) return 'a control character or fragment';
    if (text.includes('\\')) return 'a backslash';
    if (text.split('/').some((s) => s === '.' || s === '..')) return 'a dot segment';
    let next: string;
    try {
      next = decodeURIComponent(text);
    } catch {
      return 'malformed percent-encoding';
    }
    if (next === text) return undefined;
    text = next;
  }
  return 'percent-encoding nested too deep';
}
