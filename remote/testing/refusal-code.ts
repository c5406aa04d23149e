import { TETHER_ERROR_HEADER } from '../../protocol/refusals.js';

/** The code a body repeats: `error.tether_code` in a provider-shaped body, `error.code` in the control API's. */
function bodyCode(body: unknown): unknown {
  const error = (body as { error?: { tether_code?: unknown; code?: unknown } } | null)?.error;
  return error?.tether_code ?? error?.code;
}

/**
 * The refusal code an answer carries in its x-tether-error header, when its body says the same;
 * otherwise a line naming both, so that a test expecting the code fails showing the disagreement.
 */
export function carriedCode(headers: Record<string, string | string[] | undefined> | Headers, text: string): string | undefined {
  const header = headers instanceof Headers ? (headers.get(TETHER_ERROR_HEADER) ?? undefined) : headers[TETHER_ERROR_HEADER];
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const inBody = bodyCode(body);
  if (header === undefined && inBody === undefined) return undefined;
  return header === inBody ? String(header) : `header ${String(header)}, body ${JSON.stringify(inBody)}`;
}
