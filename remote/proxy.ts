import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { RelayOpen, isProviderName, providerErrorBody, providerSpec, type ErrorKind, type ErrorShape } from '../protocol/index.js';
import type { ControlApi } from './control-api.js';
import type { DaemonView } from './daemon-view.js';
import type { ExecHandle } from './exec-handles.js';
import { forwardRequest } from './forward-relay.js';
import { leaseTokenFrom, relayRequestHeaders } from './http-headers.js';
import { leaseFromUrl } from './lease-from-url.js';
import { callerOf } from './request-caller.js';
import { markAuthenticated } from './listener-budget.js';
import type { Lease } from './lease-table.js';

const LOOPBACK_HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(?::\d{1,5})?$/i;
const RELAY_METHODS = new Set<string>(RelayOpen.shape.method.options);

/** Why a request may not be served at all, whatever its path: DNS rebinding or a browser page. */
export function refusalOf(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host || !LOOPBACK_HOST.test(host)) return 'requests must be addressed to a loopback host (127.0.0.1 or localhost)';
  if (req.headers.origin !== undefined || req.headers.referer !== undefined) return 'browser requests (Origin or Referer header) are not served';
  // Fetch metadata: a browser says where a request comes from even when it sends no Origin.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `browser requests (Sec-Fetch-Site: ${site}) are not served`;
  return undefined;
}

/** A request that is malformed as HTTP, whoever sends it: answered 400 before anything else. */
export function malformedOf(req: IncomingMessage): string | undefined {
  // RFC 9112 §3.2: more than one Host is a 400. Node keeps only the first, so a second one
  // (loopback first, a foreign name after) would pass the loopback check unseen.
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts += 1;
  if (hosts > 1) return 'more than one Host header';
  return undefined;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendProviderError(res: ServerResponse, shape: ErrorShape, status: number, kind: ErrorKind, why: string): void {
  sendJson(res, status, providerErrorBody(shape, status, kind, why));
}

/** One loopback HTTP server: `/_tether/v1/…` is the control API, everything else the LLM proxy. */
export function createProxyServer(view: DaemonView, control: ControlApi): http.Server {
  return http.createServer((req, res) => {
    const malformed = malformedOf(req);
    if (malformed) {
      sendJson(res, 400, { error: { code: 'bad-request', message: `tether: ${malformed}` } });
      return;
    }
    const refusal = refusalOf(req);
    if (refusal) {
      sendJson(res, 403, { error: { code: 'forbidden', message: `tether: ${refusal}` } });
      return;
    }
    const url = req.url ?? '/';
    if (url === '/_tether' || url.startsWith('/_tether/')) {
      control.handle(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'the tether daemon failed to answer: see its log' } });
        else res.destroy();
      });
      return;
    }
    proxyRequest(view, req, res);
  });
}

function shapeFor(view: DaemonView, name: string, provider?: string): ErrorShape {
  const offered = provider ?? view.links().flatMap((l) => l.providers).find((p) => p.name === name)?.provider;
  return providerSpec(offered ?? name)?.errorShape ?? 'openai';
}

function proxyRequest(view: DaemonView, req: IncomingMessage, res: ServerResponse): void {
  const match = /^\/([^/?#]+)(.*)$/s.exec(req.url ?? '/');
  const name = match?.[1] ?? '';
  let rest = match?.[2] ?? '';
  if (!rest.startsWith('/')) rest = '/' + rest;
  if (!isProviderName(name)) {
    sendProviderError(res, 'openai', 404, 'not-found', 'no such path: the proxy serves /<credential-name>/… (see `tether status`)');
    return;
  }
  let token = leaseTokenFrom(req.headers);
  // Gemini's `?key=`: looked for only when no key header came; the lease is cut from the path that goes on.
  if (token === undefined && rest.includes('?')) {
    const inUrl = leaseFromUrl(rest, view.links().flatMap((l) => l.providers).find((p) => p.name === name)?.provider ?? name);
    if (inUrl) ({ token, path: rest } = inUrl);
  }
  const handle = token === undefined ? undefined : view.handles.get(token);
  if (handle) {
    markAuthenticated(req.socket);
    proxyThroughHandle(view, handle, name, rest, req, res);
    return;
  }
  const found = token === undefined ? undefined : view.leases.lookup(token);
  if (found?.state === 'live') {
    markAuthenticated(req.socket);
    relayLease(view, found.lease, name, rest, req, res);
    return;
  }
  const releasedWhy = token === undefined ? undefined : view.handles.releasedWhy(token);
  if (releasedWhy) {
    sendProviderError(res, shapeFor(view, name), 401, 'authentication', releasedWhy);
    return;
  }
  if (found?.state === 'ended') {
    sendProviderError(res, shapeFor(view, name, found.provider), 401, 'authentication', found.why);
    return;
  }
  const known = providerSpec(name) !== undefined || view.links().some((l) => l.providers.some((p) => p.name === name));
  if (!known) {
    sendProviderError(res, 'openai', 404, 'not-found', `no credential named "${name}" is lent here: see \`tether status\` for what the laptop offers`);
    return;
  }
  const why = found ? found.why : `no lease token in the request: run \`tether token ${name}\` and send it as the API key`;
  sendProviderError(res, shapeFor(view, name), 401, 'authentication', why);
}

function relayLease(view: DaemonView, lease: Lease, name: string, rest: string, req: IncomingMessage, res: ServerResponse): void {
  const shape = shapeFor(view, name, lease.provider);
  if (lease.name !== name) {
    sendProviderError(res, shape, 401, 'authentication', `this lease is for /${lease.name}, not /${name}: run \`tether token ${name}\``);
    return;
  }
  const link = view.findLink(lease.linkId);
  if (!link?.isOpen) {
    sendProviderError(res, shape, 401, 'authentication', 'laptop disconnected');
    return;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  if (!RELAY_METHODS.has(method)) {
    sendProviderError(res, shape, 405, 'bad-request', `method ${method.slice(0, 16)} is not relayed`);
    return;
  }
  if (lease.forward) forwardRequest(lease.forward, { provider: lease.provider, method, path: rest, shape, timeoutMs: view.upstreamTimeoutMs }, req, res);
  else if (providerSpec(lease.provider)?.subscription) {
    // A subscription is lent to its vendor's client only: the laptop decides from who is calling.
    const headers = relayRequestHeaders(req.rawHeaders);
    void callerOf(req).then((caller) => {
      if (res.destroyed) return;
      if (link.isOpen) link.openStream(lease.leaseId, method as RelayOpen['method'], rest, headers, req, res, shape, caller);
      else sendProviderError(res, shape, 401, 'authentication', 'laptop disconnected');
    });
  } else link.openStream(lease.leaseId, method as RelayOpen['method'], rest, relayRequestHeaders(req.rawHeaders), req, res, shape);
}

/** A `tether exec` child's key: relayed under the exec's current lease, or refused at once saying why. */
function proxyThroughHandle(view: DaemonView, handle: ExecHandle, name: string, rest: string, req: IncomingMessage, res: ServerResponse): void {
  const shape = shapeFor(view, name, handle.provider);
  view.handles.leaseFor(handle).then(
    (answer) => {
      if (res.destroyed) return;
      if (answer.ok) relayLease(view, answer.lease, name, rest, req, res);
      else sendProviderError(res, shape, answer.status, answer.kind, answer.why);
    },
    () => {
      if (!res.headersSent) sendProviderError(res, shape, 500, 'upstream', 'the tether daemon failed to answer: see its log');
      else res.destroy();
    },
  );
}
