import type { IncomingMessage, ServerResponse } from 'node:http';
import { RelayOpen, isProviderName, providerSpec, type ErrorShape } from '../protocol/index.js';
import type { DaemonView } from './daemon-view.js';
import { sendProviderRefusal } from './http-answers.js';
import type { ExecHandle } from './exec-handles.js';
import { forwardRequest } from './forward-relay.js';
import { leaseTokenFrom, relayRequestHeaders } from './http-headers.js';
import { leaseFromUrl } from './lease-from-url.js';
import { callerOf } from './request-caller.js';
import { markAuthenticated } from './listener-budget.js';
import type { Lease } from './lease-table.js';

const RELAY_METHODS = new Set<string>(RelayOpen.shape.method.options);

function shapeFor(view: DaemonView, name: string, provider?: string): ErrorShape {
  const offered = provider ?? view.links().flatMap((l) => l.providers).find((p) => p.name === name)?.provider;
  return providerSpec(offered ?? name)?.errorShape ?? 'openai';
}

/** The LLM proxy: `/<credential-name>/…` with a lease token, relayed through its laptop or forwarded; every refusal in the provider's shape. */
export function proxyRequest(view: DaemonView, req: IncomingMessage, res: ServerResponse): void {
  const match = /^\/([^/?#]+)(.*)$/s.exec(req.url ?? '/');
  const name = match?.[1] ?? '';
  let rest = match?.[2] ?? '';
  if (!rest.startsWith('/')) rest = '/' + rest;
  if (!isProviderName(name)) {
    sendProviderRefusal(res, 'openai', 'unknown-path');
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
  if (token !== undefined && view.handles.isReleased(token)) {
    sendProviderRefusal(res, shapeFor(view, name), 'exec-ended');
    return;
  }
  if (found?.state === 'ended') {
    sendProviderRefusal(res, shapeFor(view, name, found.provider), 'lease-ended', { detail: found.why });
    return;
  }
  const known = providerSpec(name) !== undefined || view.links().some((l) => l.providers.some((p) => p.name === name));
  if (!known) {
    sendProviderRefusal(res, 'openai', 'unknown-credential', { name });
    return;
  }
  if (found) sendProviderRefusal(res, shapeFor(view, name), 'unknown-lease', { detail: found.why });
  else sendProviderRefusal(res, shapeFor(view, name), 'no-lease-token', { name });
}

function relayLease(view: DaemonView, lease: Lease, name: string, rest: string, req: IncomingMessage, res: ServerResponse): void {
  if (lease.name !== name) {
    // Told in the shape of the path called: that is the SDK reading it, whatever the lease is for.
    sendProviderRefusal(res, shapeFor(view, name), 'wrong-credential', { detail: `this lease is for /${lease.name}, not /${name}: run \`tether token ${name}\`` });
    return;
  }
  const shape = shapeFor(view, name, lease.provider);
  const link = view.findLink(lease.linkId);
  if (!link?.isOpen) {
    sendProviderRefusal(res, shape, 'lease-ended', { detail: 'laptop disconnected' });
    return;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  if (!RELAY_METHODS.has(method)) {
    sendProviderRefusal(res, shape, 'method-not-relayed', { detail: `method ${method.slice(0, 16)} is not relayed` });
    return;
  }
  if (lease.forward) forwardRequest(lease.forward, { provider: lease.provider, method, path: rest, shape, timeoutMs: view.upstreamTimeoutMs }, req, res);
  else if (providerSpec(lease.provider)?.subscription) {
    // A subscription is lent to its vendor's client only: the laptop decides from who is calling.
    const headers = relayRequestHeaders(req.rawHeaders);
    void callerOf(req).then((caller) => {
      if (res.destroyed) return;
      if (link.isOpen) link.openStream(lease.leaseId, method as RelayOpen['method'], rest, headers, req, res, shape, caller);
      else sendProviderRefusal(res, shape, 'lease-ended', { detail: 'laptop disconnected' });
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
      else sendProviderRefusal(res, shape, answer.code, answer.facts);
    },
    () => {
      if (!res.headersSent) sendProviderRefusal(res, shape, 'internal');
      else res.destroy();
    },
  );
}
