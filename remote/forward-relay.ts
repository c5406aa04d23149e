import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { providerSpec, type ErrorShape, type ForwardGrant, type ForwardSecret } from '../protocol/index.js';
import type { RefusalCode } from '../protocol/refusals.js';
import { sendProviderRefusal } from './http-answers.js';
import { providerRequestHeaders, requestProvider, stalledMessage } from '../protocol/node/provider-call.js';
import { upstreamUrl } from '../protocol/node/upstream-url.js';
import { providerResponseHeaders, relayRequestHeaders } from './http-headers.js';

/**
 * Forward mode, daemon side: a secret the laptop minted and sent with a grant, held in this
 * process's memory only (never in status, logs or on disk) for as long as its lease lives.
 * The daemon calls the provider with it itself; any end of the lease drops it.
 */
export class ForwardedCredential {
  private secret: string | undefined;
  private expiresAt: number;
  readonly baseUrl: string;
  readonly keyHeader: string;
  readonly keyPrefix: string;
  private readonly inflight = new Set<http.ClientRequest>();

  constructor(grant: ForwardGrant, now = Date.now()) {
    this.secret = grant.secret;
    this.expiresAt = now + grant.expiresInMs;
    this.baseUrl = grant.baseUrl.replace(/\/+$/, '');
    this.keyHeader = grant.keyHeader;
    this.keyPrefix = grant.keyPrefix;
  }

  /** When the current secret stops being usable (daemon clock). */
  get validUntil(): number {
    return this.expiresAt;
  }

  /** lease.renew with a freshly minted secret; ignored once dropped. */
  update(next: ForwardSecret, now = Date.now()): void {
    if (this.secret === undefined) return;
    this.secret = next.secret;
    this.expiresAt = now + next.expiresInMs;
  }

  /** The value for the key header, or undefined when dropped or past its validity. */
  headerValue(now = Date.now()): string | undefined {
    if (this.secret === undefined || now >= this.expiresAt) return undefined;
    return this.keyPrefix + this.secret;
  }

  /** The lease ended: forget the secret; `abort` also cuts requests in flight (revocation, disconnect). */
  drop(abort: boolean): void {
    this.secret = undefined;
    if (abort) for (const up of this.inflight) up.destroy();
    this.inflight.clear();
  }

  /** Requests the daemon is making with this credential right now (for `tether status`). */
  get active(): number {
    return this.inflight.size;
  }

  track(up: http.ClientRequest): void {
    this.inflight.add(up);
    up.once('close', () => this.inflight.delete(up));
  }

  // Never serialised or printed by accident.
  toJSON(): string {
    return '[forwarded credential]';
  }

  [inspect.custom](): string {
    return '[forwarded credential]';
  }
}

function fail(res: ServerResponse, shape: ErrorShape, code: RefusalCode, detail: string): void {
  sendProviderRefusal(res, shape, code, { detail });
}

export interface ForwardCall {
  provider: string;
  method: string;
  path: string;
  shape: ErrorShape;
  /** No progress (connecting, sending the body, waiting) for this long before the response headers → 504. */
  timeoutMs: number;
}

/**
 * One proxied request in forward mode: the client's request goes to the credential's base
 * URL with the forwarded secret in the provider's key header, and the answer streams back
 * as it comes (both directions piped, so backpressure holds memory down). A provider that
 * makes no progress for `timeoutMs` before its headers gets a 504 in its own shape; once the
 * answer streams, it may take as long as it likes (the client decides when to give up).
 */
export function forwardRequest(fwd: ForwardedCredential, call: ForwardCall, req: IncomingMessage, res: ServerResponse): void {
  const { provider, method, path, shape } = call;
  const value = fwd.headerValue();
  if (value === undefined) {
    fail(res, shape, 'lease-ended', 'the forwarded credential expired or was revoked: run `tether token` again (the laptop renews it while connected)');
    return;
  }
  const target = upstreamUrl(fwd.baseUrl, path);
  if (!target.ok) {
    fail(res, shape, 'path-escape', target.why);
    return;
  }
  const { url } = target;
  const headers = providerRequestHeaders(relayRequestHeaders(req.rawHeaders), providerSpec(provider)?.requiredHeaders ?? {}, fwd.keyHeader, value);
  const upstream = requestProvider(url, method, headers, call.timeoutMs);
  if (!upstream) {
    fail(res, shape, 'upstream-unreachable', `unsupported upstream scheme ${url.protocol}`);
    return;
  }
  const up = upstream.req;
  fwd.track(up);
  let answered = false;
  // Progress before the headers: each piece of the request body sent, then the wait itself.
  req.on('data', upstream.progress);
  up.on('response', (upRes) => {
    answered = true;
    try {
      res.writeHead(upRes.statusCode ?? 502, providerResponseHeaders(upRes.rawHeaders));
    } catch {
      upRes.destroy();
      fail(res, shape, 'relay-failed', 'the provider sent response headers that cannot be forwarded');
      return;
    }
    upRes.pipe(res);
    upRes.on('error', () => res.destroy());
    // Cut short upstream (or dropped on revocation): the client must not take it as complete.
    upRes.on('aborted', () => res.destroy());
  });
  up.on('error', (err: NodeJS.ErrnoException) => {
    if (answered || res.headersSent) res.destroy();
    else if (upstream.timedOut) fail(res, shape, 'upstream-timeout', stalledMessage(url.host, call.timeoutMs));
    else if (fwd.headerValue() === undefined) fail(res, shape, 'lease-ended', 'the lease was revoked while the request was under way');
    else fail(res, shape, 'upstream-unreachable', `cannot reach ${url.host}: ${err.code ?? 'connection failed'}`);
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}
