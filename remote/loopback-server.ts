import http, { type IncomingMessage } from 'node:http';
import type { ControlApi } from './control-api.js';
import type { DaemonView } from './daemon-view.js';
import { sendControlRefusal } from './http-answers.js';
import { proxyRequest } from './proxy.js';
import { refusal, type Refusal } from '../protocol/refusals.js';

const LOOPBACK_HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(?::\d{1,5})?$/i;
const CONTROL_ROOT = '/_tether';

/** A request that is malformed as HTTP, whoever sends it: answered 400 before anything else. */
export function malformedOf(req: IncomingMessage): Refusal | undefined {
  // RFC 9112 §3.2: more than one Host is a 400. Node keeps only the first, so a second one
  // (loopback first, a foreign name after) would pass the loopback check unseen.
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts += 1;
  if (hosts > 1) return refusal('malformed-request', { detail: 'more than one Host header' });
  // §3.2 again: an HTTP/1.1 request without Host is a 400 (Node 20's parser says so itself, Node 18's does not).
  if (hosts === 0 && req.httpVersion === '1.1') return refusal('malformed-request', { detail: 'no Host header' });
  return undefined;
}

/** Why a request may not be served at all, whatever its path: DNS rebinding or a browser page. */
export function refusalOf(req: IncomingMessage): Refusal | undefined {
  const host = req.headers.host;
  if (!host || !LOOPBACK_HOST.test(host)) return refusal('not-loopback');
  if (req.headers.origin !== undefined || req.headers.referer !== undefined) return refusal('browser-request', { detail: 'browser requests (Origin or Referer header) are not served' });
  // Fetch metadata: a browser says where a request comes from even when it sends no Origin.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return refusal('browser-request', { detail: `browser requests (Sec-Fetch-Site: ${site}) are not served` });
  return undefined;
}

/**
 * The daemon's one loopback HTTP server: the guards every request passes, then `/_tether/…`
 * to the control API and everything else to the LLM proxy.
 */
export function createLoopbackServer(view: DaemonView, control: ControlApi): http.Server {
  return http.createServer((req, res) => {
    const refused = malformedOf(req) ?? refusalOf(req);
    if (refused) {
      sendControlRefusal(res, refused);
      return;
    }
    const url = req.url ?? '/';
    if (url === CONTROL_ROOT || url.startsWith(`${CONTROL_ROOT}/`)) {
      control.handle(req, res).catch(() => {
        if (!res.headersSent) sendControlRefusal(res, refusal('internal'));
        else res.destroy();
      });
      return;
    }
    proxyRequest(view, req, res);
  });
}
