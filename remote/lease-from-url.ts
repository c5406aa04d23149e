import { LEASE_TOKEN_PATTERN, providerSpec } from '../protocol/index.js';

/** A request path with the key parameter taken out, and the lease it carried (if it held one). */
export interface UrlLease {
  token: string | undefined;
  path: string;
}

/**
 * Google's REST API (and LiteLLM's Gemini calls, and many curl recipes) send the key as
 * `?key=…` rather than in a header. For a provider whose registry entry names such a
 * parameter, the lease is taken from it, and every occurrence of it is cut from the path
 * that goes on: the lease must reach neither the laptop (its audit log) nor the provider.
 * The rest of the query stays byte for byte (no re-encoding: `alt=sse`, `$fields` …).
 * undefined when the provider takes no key in the URL or the path does not carry one.
 */
export function leaseFromUrl(path: string, provider: string): UrlLease | undefined {
  const param = providerSpec(provider)?.keyQueryParam;
  return param === undefined ? undefined : takeQueryParam(path, param);
}

/** `takeQueryParam('/m?key=tth_x&alt=sse', 'key')` → `{token: 'tth_x', path: '/m?alt=sse'}`. */
export function takeQueryParam(path: string, param: string): UrlLease | undefined {
  const at = path.indexOf('?');
  if (at < 0) return undefined;
  const kept: string[] = [];
  const values: string[] = [];
  for (const part of path.slice(at + 1).split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (decodeQuery(name) === param) values.push(decodeQuery(eq < 0 ? '' : part.slice(eq + 1)) ?? '');
    else kept.push(part);
  }
  if (values.length === 0) return undefined;
  // Like the key headers: a value shaped like a lease wins over a placeholder beside it.
  const token = values.find((v) => LEASE_TOKEN_PATTERN.test(v)) ?? values.find((v) => v !== '');
  const rest = kept.filter((p) => p !== '');
  return { token, path: path.slice(0, at) + (rest.length ? `?${rest.join('&')}` : '') };
}

function decodeQuery(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
