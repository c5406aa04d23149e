import type { IncomingMessage, ServerResponse } from 'node:http';
import { DisplayName, ProviderName, PublicKey, formatPairCode, type ProcessInfo } from '../protocol/index.js';
import { LeaseRequestError, type AgentLink } from './agent-link.js';
import { grantLease } from './lease-grant.js';
import type { DaemonView } from './daemon-view.js';
import type { Lease } from './lease-table.js';
import { markAuthenticated } from './listener-budget.js';
import { identifyPeer, type PeerIdentity } from './peer-process.js';
import { sendJson } from './proxy.js';
import { TETHER_VERSION } from './version.js';

export type ControlErrorCode =
  | 'no-laptop'
  | 'ambiguous-laptop'
  | 'unknown-laptop'
  | 'unknown-provider'
  | 'denied'
  | 'approval-timeout'
  | 'forbidden'
  | 'bad-request';

const STATUS: Record<ControlErrorCode, number> = {
  'no-laptop': 503,
  'ambiguous-laptop': 409,
  'unknown-laptop': 404,
  'unknown-provider': 404,
  denied: 403,
  'approval-timeout': 504,
  forbidden: 403,
  'bad-request': 400,
};

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;
const PURPOSES = ['token', 'env', 'exec'] as const;

/**
 * The local control API (`/_tether/v1/…`) used by the server CLI. Permission first: only
 * processes of the daemon's own uid, as the kernel reports them, may call it.
 */
export class ControlApi {
  constructor(private readonly view: DaemonView) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const peer = await this.peerOf(req);
      if (!peer || peer.uid !== this.view.uid) {
        throw new ControlError('forbidden', `only processes of uid ${this.view.uid} may use this daemon's control API`);
      }
      // Our own uid: a long call (a lease waiting for approval) is no longer held to the pre-auth deadline.
      markAuthenticated(req.socket);
      const route = `${req.method ?? 'GET'} ${(req.url ?? '').split('?')[0]}`;
      switch (route) {
        case 'POST /_tether/v1/lease':
          return await this.lease(req, res, peer);
        case 'POST /_tether/v1/release':
          return sendJson(res, 200, this.release(await readJson(req)));
        case 'GET /_tether/v1/status':
          return sendJson(res, 200, this.status());
        case 'POST /_tether/v1/pair-code':
          return sendJson(res, 200, this.pairCode());
        case 'POST /_tether/v1/retire':
          return this.retire(await readJson(req), res);
        default:
          throw new ControlError('bad-request', `no control call ${route.slice(0, 80)}: this daemon speaks /_tether/v1/{lease,release,status,pair-code,retire}`);
      }
    } catch (err) {
      if (!(err instanceof ControlError)) throw err;
      if (!res.headersSent) sendJson(res, STATUS[err.code], { error: { code: err.code, message: err.message } });
    }
  }

  private async peerOf(req: IncomingMessage): Promise<PeerIdentity | undefined> {
    const s = req.socket;
    if (!s.remoteAddress || !s.remotePort || !s.localAddress || !s.localPort) return undefined;
    const hint = Number(req.headers['x-tether-pid']);
    return identifyPeer(
      { clientAddress: s.remoteAddress, clientPort: s.remotePort, serverAddress: s.localAddress, serverPort: s.localPort },
      Number.isInteger(hint) && hint > 0 ? hint : undefined,
    );
  }

  private async lease(req: IncomingMessage, res: ServerResponse, peer: PeerIdentity): Promise<void> {
    const body = await readJson(req);
    const provider = ProviderName.safeParse(body.provider);
    if (!provider.success) throw new ControlError('bad-request', 'provider must be a credential name such as "openai"');
    const as = body.as === undefined || body.as === '' ? undefined : DisplayName.safeParse(body.as);
    if (as && !as.success) throw new ControlError('bad-request', '"as" must be a laptop name');
    const purpose = body.purpose ?? 'token';
    if (!PURPOSES.includes(purpose as (typeof PURPOSES)[number])) throw new ControlError('bad-request', 'purpose must be token, env or exec');

    const link = this.chooseLink(as?.data);
    const offered = link.providers.find((p) => p.name === provider.data);
    if (!offered) {
      const names = link.providers.map((p) => p.name).join(', ') || 'nothing yet';
      throw new ControlError('unknown-provider', `${link.name} does not lend "${provider.data}" (it offers: ${names}): add it on the laptop with \`tether creds add\``);
    }
    const process: ProcessInfo = peer.process ?? { pid: 0, uid: peer.uid, cmdline: [], parents: [] };
    let lease;
    try {
      lease = await grantLease(this.view, link, offered, purpose as (typeof PURPOSES)[number], process);
    } catch (err) {
      if (err instanceof LeaseRequestError) throw controlErrorOf(err, link.name);
      throw err;
    }
    if (res.destroyed || req.socket.destroyed) {
      // Nobody is left to receive the token: don't leave it live.
      this.view.leases.release(lease.token);
      return;
    }
    // `tether exec` asks for a handle: a key its child keeps across reconnects (exec-handles.ts).
    const handle = body.handle === true ? this.view.handles.create(lease, link, process) : undefined;
    const proxyUrl = this.view.proxyUrl;
    sendJson(res, 200, {
      token: handle?.token ?? lease.token,
      leaseId: lease.leaseId,
      name: lease.name,
      provider: lease.provider,
      laptop: lease.laptop,
      scope: lease.scope,
      expiresAt: new Date(lease.expiresAt).toISOString(),
      baseUrl: `${proxyUrl}/${lease.name}`,
      proxyUrl,
    });
  }

  private chooseLink(as: string | undefined): AgentLink {
    const links = this.view.links().filter((l) => l.isOpen);
    const names = links.map((l) => l.name).join(', ');
    const noLaptop = () => new ControlError('no-laptop', 'no laptop is connected to this server: connect one with `tether agent --connect …` or the tray app');
    if (as !== undefined) {
      const named = links.filter((l) => l.name === as);
      // Two laptops under one name (both default to their host name) must not be guessed between.
      if (named.length > 1) {
        const ids = named.map((l) => l.info.agentId).join(', ');
        throw new ControlError('ambiguous-laptop', `several laptops are named "${as}" (${ids}): give one another name with \`tether agent --name\``);
      }
      if (named[0]) return named[0];
      if (links.length === 0) throw noLaptop();
      throw new ControlError('unknown-laptop', `no laptop named "${as}" is connected (connected: ${names}): fix --as or TETHER_AS`);
    }
    if (links.length === 0) throw noLaptop();
    if (links.length > 1) throw new ControlError('ambiguous-laptop', `several laptops are connected (${names}): pick one with --as NAME or TETHER_AS`);
    return links[0] as AgentLink;
  }

  private release(body: Record<string, unknown>): { released: boolean } {
    if (typeof body.token !== 'string' || body.token.length > 200) throw new ControlError('bad-request', 'release needs {"token": "tth_…"}');
    const released = this.view.handles.release(body.token) || this.view.leases.release(body.token);
    this.view.retirement.check();
    return { released };
  }

  /** `tether attach` with another bundle or heartbeat: make way now if nobody else depends on this daemon, else once nobody does. */
  private retire(body: Record<string, unknown>, res: ServerResponse): void {
    const key = PublicKey.safeParse(body.agentKey);
    if (!key.success) throw new ControlError('bad-request', 'retire needs {"agentKey": "<the attaching laptop\'s key>"}');
    const answer = this.view.retirement.request(key.data);
    // Answer first: the caller waits for this process to exit, then starts the new daemon.
    if (answer.retiring) res.once('finish', () => this.view.retirement.fire('replaced by a newer bundle or other settings'));
    sendJson(res, 200, answer);
  }

  private status(): object {
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

  private pairCode(): object {
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

function controlErrorOf(err: LeaseRequestError, laptop: string): ControlError {
  switch (err.code) {
    case 'denied':
      return new ControlError('denied', `denied on the laptop (${laptop}): ask its owner, or approve it there next time`);
    case 'approval-timeout':
      return new ControlError('approval-timeout', `nobody answered the request on ${laptop} in time: approve it on the laptop when it asks`);
    case 'unknown-provider':
      return new ControlError('unknown-provider', `${laptop} does not lend that credential: add it on the laptop with \`tether creds add\``);
    case 'no-laptop':
      return new ControlError('no-laptop', `${laptop} disconnected before answering: reconnect it and try again`);
    case 'error':
      return new ControlError('denied', `${laptop} could not grant the lease (${err.message.slice(0, 200)}): check the laptop`);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY) throw new ControlError('bad-request', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ControlError('bad-request', 'request body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ControlError('bad-request', 'request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Requests in flight through one laptop for one credential name (relayed, or called by the daemon in forward mode): the per-provider concurrency. */
function activeRequests(link: AgentLink, leases: readonly Lease[], name: string): number {
  const byLease = link.streamsByLease();
  const mine = leases.filter((lease) => lease.name === name && lease.linkId === link.id);
  return mine.reduce((n, lease) => n + (byLease.get(lease.leaseId) ?? 0) + (lease.forward?.active ?? 0), 0);
}
