import type { ServerResponse } from 'node:http';
import { providerErrorBody, type ErrorShape } from '../protocol/providers.js';
import { TETHER_ERROR_HEADER, refusal, type Refusal, type RefusalCode, type RefusalFacts } from '../protocol/refusals.js';

/** How the loopback server answers: JSON, never cached (answers hold lease tokens). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** A refusal of the control API, or of a request that reached no route: `{error: {code, message}}`. */
export function sendControlRefusal(res: ServerResponse, r: Refusal): void {
  sendJson(res, r.status, { error: { code: r.code, message: r.message } }, { [TETHER_ERROR_HEADER]: r.code });
}

/** A refusal on the proxy, in the provider's error shape so its SDK shows the reason. */
export function sendProviderRefusal(res: ServerResponse, shape: ErrorShape, code: RefusalCode, facts: RefusalFacts = {}): void {
  const r = refusal(code, facts);
  sendJson(res, r.status, providerErrorBody(shape, r.status, r.kind, r.message, r.code), { [TETHER_ERROR_HEADER]: r.code });
}
