import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatPairCode, type ProcessInfo } from '../protocol/index.js';
import { DAEMON_CONTROL_HEADER, DAEMON_CONTROL_ROOT, DAEMON_CONTROL_ROUTES, DAEMON_CONTROL_VERSIONS, leaseCallFromV1, type DaemonControlCall } from '../protocol/daemon-control.js';
import { DaemonControlSchemas, type DaemonControlCheckedRequest, type DaemonControlResponse } from '../protocol/daemon-control-schemas.js';
import { refusal, type Refusal, type RefusalCode, type RefusalFacts } from '../protocol/refusals.js';
import { LeaseRequestError, type AgentLink } from './agent-link.js';
import { grantLease } from './lease-grant.js';
import type { DaemonView } from './daemon-view.js';
import type { Lease } from './lease-table.js';
import { markAuthenticated } from './listener-budget.js';
import { identifyPeer, type PeerIdentity } from './peer-process.js';
import { sendControlRefusal, sendJson } from './http-answers.js';
import { TETHER_VERSION } from './version.js';

/** A refusal of the control API: thrown by a handler, answered as `{error: {code, message}}`. */
export class DaemonControlRefusal extends Error {
  override readonly name = 'DaemonControlRefusal';
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

const refuse = (code: RefusalCode, facts?: RefusalFacts) => new DaemonControlRefusal(refusal(code, facts));

const MAX_BODY = 64 * 1024;
/** `METHOD /path` → call, from the one table. */
const ROUTES = new Map<string, DaemonControlCall>(Object.entries(DAEMON_CONTROL_ROUTES).map(([name, spec]) => [`${spec.method} ${spec.path}`, name as DaemonControlCall]));
const CALL_LIST = Object.values(DAEMON_CONTROL_ROUTES).map((c) => c.path.slice(c.path.lastIndexOf('/') + 1)).join(',');

interface CallContext {
  req: IncomingMessage;
  res: ServerResponse;
  peer: PeerIdentity;
}

type Handlers = {
  [C in DaemonControlCall]: (request: DaemonControlCheckedRequest<C>, ctx: CallContext) => DaemonControlResponse<C> | Promise<DaemonControlResponse<C> | undefined>;
};

/**
 * The daemon's control API (protocol/daemon-control.ts) used by the server CLI. Permission first:
 * only processes of the daemon's own uid, as the kernel reports them, may call it.
 */
export class ControlApi {
  constructor(private readonly view: DaemonView) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const peer = await this.peerOf(req);
      if (!peer || peer.uid !== this.view.uid) throw refuse('other-user', { detail: `only processes of uid ${this.view.uid} may use this daemon's control API` });
      // Our own uid: a long call (a lease waiting for approval) is no longer held to the pre-auth deadline.
      markAuthenticated(req.socket);
      const version = versionOf(req);
      const route = `${req.method ?? 'GET'} ${(req.url ?? '').split('?')[0]}`;
      const name = ROUTES.get(route);
      if (name === undefined) throw refuse('unknown-call', { detail: `no control call ${route.slice(0, 80)}: this daemon speaks ${DAEMON_CONTROL_ROOT}/v1/{${CALL_LIST}}` });
      let body = DAEMON_CONTROL_ROUTES[name].method === 'GET' ? {} : await readJson(req);
      if (name === 'lease' && version === 1) body = leaseCallFromV1(body);
      const checked = DaemonControlSchemas[name].request.safeParse(body);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw refuse('bad-request', { detail: `${name}: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` });
      }
      const handler = this.handlers[name] as (request: unknown, ctx: CallContext) => unknown;
      const answer = await handler(checked.data, { req, res, peer });
      if (answer !== undefined) sendJson(res, 200, answer);
    } catch (err) {
      if (!(err instanceof DaemonControlRefusal)) throw err;
      if (!res.headersSent) sendControlRefusal(res, err.refusal);
    }
  }

  private readonly handlers: Handlers = {
    lease: (r, ctx) => this.lease(r, ctx),
    release: (r) => {
      const released = this.view.handles.release(r.token) || this.view.leases.release(r.token);
      this.view.retirement.check();
      return { released };
    },
    status: () => this.status(),
    pairCode: () => this.pairCode(),
    // `tether attach` with another bundle or heartbeat: make way now if nobody else depends on this daemon, else once nobody does.
    retire: (r, { res }) => {
      const answer = this.view.retirement.request(r.agentKey);
      // Answer first: the caller waits for this process to exit, then starts the new daemon.
      if (answer.retiring) res.once('finish', () => this.view.retirement.fire('replaced by a newer bundle or other settings'));
      return answer;
    },
  };

  private async peerOf(req: IncomingMessage): Promise<PeerIdentity | undefined> {
    const s = req.socket;
    if (!s.remoteAddress || !s.remotePort || !s.localAddress || !s.localPort) return undefined;
    const hint = Number(req.headers['x-tether-pid']);
    return identifyPeer(
      { clientAddress: s.remoteAddress, clientPort: s.remotePort, serverAddress: s.localAddress, serverPort: s.localPort },
      Number.isInteger(hint) && hint > 0 ? hint : undefined,
    );
  }

  private async lease(call: DaemonControlCheckedRequest<'lease'>, { req, res, peer }: CallContext): Promise<DaemonControlResponse<'lease'> | undefined> {
    const link = this.chooseLink(call.as);
    const offered = link.providers.find((p) => p.name === call.credential);
    if (!offered) {
      throw refuse('unknown-credential', { laptop: link.name, name: call.credential, detail: `it offers: ${link.providers.map((p) => p.name).join(', ') || 'nothing yet'}` });
    }
    const process: ProcessInfo = peer.process ?? { pid: 0, uid: peer.uid, cmdline: [], parents: [] };
    let lease;
    try {
      lease = await grantLease(this.view, link, offered, call.purpose, process);
    } catch (err) {
      if (err instanceof LeaseRequestError) throw refusalOfGrant(err, link.name, call.credential);
      throw err;
    }
    if (res.destroyed || req.socket.destroyed) {
      // Nobody is left to receive the token: don't leave it live.
      this.view.leases.release(lease.token);
      return undefined;
    }
    // `tether exec` asks for a handle: a key its child keeps across reconnects (exec-handles.ts).
    const handle = call.handle === true ? this.view.handles.create(lease, link, process) : undefined;
    const proxyUrl = this.view.proxyUrl;
    return {
      token: handle?.token ?? lease.token,
      leaseId: lease.leaseId,
      name: lease.name,
      provider: lease.provider,
      laptop: lease.laptop,
      scope: lease.scope,
      expiresAt: new Date(lease.expiresAt).toISOString(),
      baseUrl: `${proxyUrl}/${lease.name}`,
      proxyUrl,
    };
  }

  private chooseLink(as: string | undefined): AgentLink {
    const links = this.view.links().filter((l) => l.isOpen);
    const names = links.map((l) => l.name).join(', ');
    const noLaptop = () => refuse('no-laptop');
    if (as !== undefined) {
      const named = links.filter((l) => l.name === as);
      // Two laptops under one name (both default to their host name) must not be guessed between.
      if (named.length > 1) {
        const ids = named.map((l) => l.info.agentId).join(', ');
        throw refuse('ambiguous-laptop', { detail: `several laptops are named "${as}" (${ids}): give one another name with \`tether agent --name\`` });
      }
      if (named[0]) return named[0];
      if (links.length === 0) throw noLaptop();
      throw refuse('unknown-laptop', { detail: `no laptop named "${as}" is connected (connected: ${names}): fix --as or TETHER_AS` });
    }
    if (links.length === 0) throw noLaptop();
    if (links.length > 1) throw refuse('ambiguous-laptop', { detail: `several laptops are connected (${names}): pick one with --as NAME or TETHER_AS` });
    return links[0] as AgentLink;
  }

  private status(): DaemonControlResponse<'status'> {
    const leases = this.view.leases.list();
    return {
      serverId: this.view.serverId,
      fingerprint: this.view.fingerprint,
      pid: process.pid,
      version: TETHER_VERSION,
      ...(this.view.bundle ? { bundle: this.view.bundle } : {}),
      heartbeatMs: this.view.heartbeatMs,
      ...(this.view.retirement.isPending ? { retiring: true } : {}),
      proxyUrl: this.view.proxyUrl,
      socket: this.view.socketPath,
      laptops: this.view.links().filter((l) => l.isOpen).map((l) => ({
        name: l.name,
        agentId: l.info.agentId,
        connectedAt: l.connectedAt.toISOString(),
        providers: l.providers.map((p) => ({ name: p.name, provider: p.provider, active: activeRequests(l, leases, p.name) })),
        leases: leases.filter((lease) => lease.linkId === l.id).length,
      })),
      // Never the token: status output ends up in terminals, logs and bug reports.
      leases: leases.map((lease) => ({
        leaseId: lease.leaseId,
        laptop: lease.laptop,
        name: lease.name,
        provider: lease.provider,
        scope: lease.scope,
        expiresAt: new Date(lease.expiresAt).toISOString(),
        pid: lease.pid,
      })),
    };
  }

  private pairCode(): DaemonControlResponse<'pairCode'> {
    const issued = this.view.pairCodes.issue();
    return {
      code: formatPairCode(issued.code),
      fingerprint: this.view.fingerprint,
      serverId: this.view.serverId,
      socket: this.view.socketPath,
      ...(this.view.listenUrl ? { listen: this.view.listenUrl, tlsFingerprint: this.view.tlsFingerprint } : {}),
      expiresAt: new Date(issued.expiresAt).toISOString(),
    };
  }
}

/** The laptop's answer to a lease request, as the control API's refusal. */
function refusalOfGrant(err: LeaseRequestError, laptop: string, name: string): DaemonControlRefusal {
  switch (err.code) {
    case 'denied':
      return refuse('denied', { laptop });
    case 'approval-timeout':
      return refuse('approval-timeout', { laptop });
    case 'unknown-credential':
      return refuse('unknown-credential', { laptop, name });
    case 'no-laptop':
      return refuse('laptop-left', { laptop });
    case 'error':
      return refuse('grant-failed', { laptop, detail: err.message.slice(0, 200) });
  }
}

/** Absent: v1, the bundles before the header. Anything else must be a version this daemon speaks. */
function versionOf(req: IncomingMessage): number {
  const header = req.headers[DAEMON_CONTROL_HEADER];
  if (header === undefined) return 1;
  const version = Number(header);
  if (!DAEMON_CONTROL_VERSIONS.includes(version)) {
    throw refuse('version-mismatch', { detail: `the CLI speaks daemon control v${String(header).slice(0, 10)}, this daemon speaks v${DAEMON_CONTROL_VERSIONS.join(' and v')}: run the same tether bundle for both` });
  }
  return version;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY) throw refuse('bad-request', { detail: 'request body too large' });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw refuse('bad-request', { detail: 'request body is not JSON' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refuse('bad-request', { detail: 'request body must be a JSON object' });
  return parsed as Record<string, unknown>;
}

/** Requests in flight through one laptop for one credential name (relayed, or called by the daemon in forward mode): the per-provider concurrency. */
function activeRequests(link: AgentLink, leases: readonly Lease[], name: string): number {
  const byLease = link.streamsByLease();
  const mine = leases.filter((lease) => lease.name === name && lease.linkId === link.id);
  return mine.reduce((n, lease) => n + (byLease.get(lease.leaseId) ?? 0) + (lease.forward?.active ?? 0), 0);
}
