import { chmodSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import type { z } from 'zod';
import { CONTROL_EVENTS_PATH, CONTROL_HEADER, CONTROL_VERSION, type ControlError, type ControlEvent, type CredentialView } from '../../protocol/control.js';
import { AgentControlCalls, type AgentControlCall, type AgentControlRequest, type AgentControlResponse } from '../../protocol/bridge.js';
import { readAuditTail } from '../audit-tail.js';
import type { Agent } from '../agent.js';
import type { CredentialEntry } from '../config.js';
import { AgentError } from '../errors.js';

type ErrorCode = ControlError['error']['code'];
const MAX_BODY = 128 * 1024;
/** `METHOD /path` → call, from the one table. */
const ROUTES = new Map<string, AgentControlCall>(Object.entries(AgentControlCalls).map(([name, spec]) => [`${spec.method} ${spec.path}`, name as AgentControlCall]));

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The agent's control socket: HTTP on a Unix socket in the 0700 run/ folder. The CLI and the
 * tray are its only clients; browsers are refused outright (Origin/Referer), and every
 * request must say which control API version it speaks.
 */
export class ControlServer {
  private readonly server: http.Server;

  constructor(
    private readonly agent: Agent,
    readonly socketPath: string,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const failure =
          err instanceof HttpFailure
            ? err
            : err instanceof AgentError
              ? new HttpFailure(err.code === 'not-found' ? 404 : 400, err.code === 'not-found' ? 'not-found' : 'bad-request', err.message)
              : new HttpFailure(500, 'internal', 'the agent failed to handle this request');
        if (res.headersSent) res.destroy();
        else send(res, failure.status, { error: { code: failure.code, message: failure.message } });
      });
    });
  }

  async listen(): Promise<void> {
    if (process.platform !== 'win32') {
      try {
        unlinkSync(this.socketPath); // a stale socket from an agent that crashed
      } catch {
        // none there
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    if (process.platform !== 'win32') chmodSync(this.socketPath, 0o600);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.headers.origin !== undefined || req.headers.referer !== undefined) {
      throw new HttpFailure(403, 'forbidden', 'browser requests are not allowed on the tether control socket');
    }
    const version = req.headers[CONTROL_HEADER];
    if (version !== String(CONTROL_VERSION)) {
      throw new HttpFailure(400, 'version-mismatch', `client speaks tether control v${typeof version === 'string' ? version.slice(0, 10) : 'none'}, this agent speaks v${CONTROL_VERSION}: use the same tether version for both`);
    }
    const url = new URL(req.url ?? '/', 'http://agent');
    if (req.method === 'GET' && url.pathname === CONTROL_EVENTS_PATH) return this.events(req, res, url.searchParams.get('answer') === 'ssh-prompts');
    const name = ROUTES.get(`${req.method} ${url.pathname}`);
    if (name === undefined) throw new HttpFailure(404, 'not-found', `no such control call: ${String(req.method).slice(0, 8)} ${url.pathname.slice(0, 80)}`);
    const spec = AgentControlCalls[name];
    const request = spec.method === 'GET' ? {} : await readBody(req, spec.request);
    const handler = this.handlers[name] as (request: unknown) => unknown;
    return send(res, 200, await handler(request));
  }

  /** One handler per call of the table; the type makes a call without a handler a compile error. */
  private readonly handlers: { [C in AgentControlCall]: (request: AgentControlRequest<C>) => AgentControlResponse<C> | Promise<AgentControlResponse<C>> } = {
    status: () => this.agent.status(this.socketPath),
    revoke: (r) => this.agent.revoke(r.server),
    approvals: () => ({ approvals: this.agent.approvals.pending() }),
    approve: (r) => {
      if (!this.agent.approvals.answer(r.id, r.decision)) throw new HttpFailure(404, 'not-found', `no pending approval ${r.id}: it was already answered or timed out`);
      return { ok: true };
    },
    reloadCredentials: () => ({ credentials: this.agent.reloadCredentials() }),
    memorySecret: async (r) => {
      await this.agent.setMemorySecret(r.name, r.secret);
      return { ok: true };
    },
    // An SSH login's questions. The answer carries a secret: it goes to the waiting login only.
    sshPrompts: () => ({ prompts: this.agent.sshPrompts.pending() }),
    answerSshPrompt: (r) => {
      if (!this.agent.sshPrompts.answer(r.id, r.answer)) throw gonePrompt(r.id);
      return { ok: true };
    },
    cancelSshPrompt: (r) => {
      if (!this.agent.sshPrompts.cancel(r.id)) throw gonePrompt(r.id);
      return { ok: true };
    },
    connect: async (r) => {
      await this.agent.connect(r.server);
      return { ok: true };
    },
    disconnect: async (r) => {
      await this.agent.disconnect(r.server);
      return { ok: true };
    },
    audit: async (r) => ({ entries: await readAuditTail(this.agent.audit.file, r.limit ?? 200) }),
    // The add body carries a secret: it goes to the vault only.
    addCredential: async (r) => ({ credential: credentialView(await this.agent.addCredential(r)) }),
    removeCredential: async (r) => {
      await this.agent.removeCredential(r.name);
      return { ok: true };
    },
    credentialServers: (r) => ({ credential: credentialView(this.agent.setCredentialServers(r.name, r.servers)) }),
    revokeLease: (r) => this.agent.revokeLease(r.leaseId),
    settings: () => this.agent.settings(),
    saveSettings: (r) => this.agent.updateSettings(r),
    servers: () => ({ servers: this.agent.serverBook().list().map(({ name, source, url, hostName, user, port }) => ({ name, source, url, hostName, user, port })) }),
    addServer: (r) => {
      this.agent.serverBook().add(r.name, r.url);
      return { ok: true };
    },
    removeServer: (r) => {
      if (!this.agent.serverBook().remove(r.name)) throw new HttpFailure(404, 'not-found', `no added server named ${r.name}`);
      return { ok: true };
    },
    trustHostKey: (r) => {
      this.agent.trustHostKey(r.server, r.fingerprint);
      return { ok: true };
    },
  };

  /**
   * Server-sent events until the client goes away. `?answer=ssh-prompts`: this client shows
   * SSH's questions to a person, so logins ask it rather than fail at once for want of one.
   */
  private events(req: http.IncomingMessage, res: http.ServerResponse, answersPrompts: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': tether agent events\n\n');
    const write = (e: ControlEvent) => res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    const onLink = (data: ControlEvent['data']) => write({ event: 'link', data } as ControlEvent);
    const onApproval = (data: ControlEvent['data']) => write({ event: 'approval', data } as ControlEvent);
    const onActivity = (data: ControlEvent['data']) => write({ event: 'activity', data } as ControlEvent);
    const onPrompt = (data: ControlEvent['data']) => write({ event: 'ssh-prompt', data } as ControlEvent);
    this.agent.on('link', onLink);
    this.agent.on('approval', onApproval);
    this.agent.on('activity', onActivity);
    this.agent.on('sshPrompt', onPrompt);
    const detach = answersPrompts ? this.agent.sshPrompts.attach() : () => {};
    req.on('close', () => {
      detach();
      this.agent.off('link', onLink);
      this.agent.off('approval', onApproval);
      this.agent.off('activity', onActivity);
      this.agent.off('sshPrompt', onPrompt);
    });
  }
}

function gonePrompt(id: string): HttpFailure {
  return new HttpFailure(404, 'not-found', `no pending SSH prompt ${id}: it was already answered, withdrawn or timed out`);
}

function credentialView(c: CredentialEntry): CredentialView {
  return { name: c.name, provider: c.provider, store: c.store, addedAt: c.addedAt, ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}), ...(c.servers ? { servers: c.servers } : {}) };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody<T extends z.ZodType>(req: http.IncomingMessage, schema: T): Promise<z.infer<T>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY) throw new HttpFailure(400, 'bad-request', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  let raw: unknown = {};
  if (size > 0) {
    try {
      raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpFailure(400, 'bad-request', 'request body is not JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpFailure(400, 'bad-request', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
