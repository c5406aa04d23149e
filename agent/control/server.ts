import { chmodSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import type { z } from 'zod';
import { ProviderName } from '../../protocol/index.js';
import {
  ApproveRequest,
  CONTROL_HEADER,
  CONTROL_VERSION,
  MemorySecretRequest,
  RevokeRequest,
  SshPromptAnswerRequest,
  SshPromptCancelRequest,
  type ControlError,
  type ControlEvent,
  type CredentialView,
} from '../../protocol/control.js';
import {
  AddCredentialRequest,
  AddServerRequest,
  AuditTailRequest,
  CredentialNameRequest,
  CredentialServersRequest,
  DisconnectRequest,
  RevokeLeaseRequest,
  ServerNameRequest,
  ServerRequest,
  SettingsPatch,
  TrustHostKeyRequest,
} from '../../protocol/bridge.js';
import { readAuditTail } from '../audit-tail.js';
import type { Agent } from '../agent.js';
import type { CredentialEntry } from '../config.js';
import { AgentError } from '../errors.js';

type ErrorCode = ControlError['error']['code'];
const MAX_BODY = 128 * 1024;

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
    const route = `${req.method} ${url.pathname}`;
    const agent = this.agent;
    switch (route) {
      case 'GET /v1/status':
        return send(res, 200, await agent.status(this.socketPath));
      case 'POST /v1/revoke': {
        const body = await readBody(req, RevokeRequest);
        return send(res, 200, agent.revoke(body.server));
      }
      case 'GET /v1/approvals':
        return send(res, 200, { approvals: agent.approvals.pending() });
      case 'POST /v1/credentials/reload':
        return send(res, 200, { credentials: agent.reloadCredentials() });
      case 'POST /v1/memory-secret': {
        const body = await readBody(req, MemorySecretRequest);
        if (!ProviderName.safeParse(body.name).success) throw new HttpFailure(400, 'bad-request', 'credential names are lower-case letters, digits, _ and -');
        await agent.setMemorySecret(body.name, body.secret);
        return send(res, 200, { ok: true });
      }
      case 'GET /v1/events':
        return this.events(req, res, url.searchParams.get('answer') === 'ssh-prompts');
      // An SSH login's questions. The answer body carries a secret: it goes to the waiting login only.
      case 'GET /v1/ssh-prompts':
        return send(res, 200, { prompts: agent.sshPrompts.pending() });
      case 'POST /v1/ssh-prompts/answer': {
        const body = await readBody(req, SshPromptAnswerRequest);
        if (!agent.sshPrompts.answer(body.id, body.answer)) throw gonePrompt(body.id);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/ssh-prompts/cancel': {
        const body = await readBody(req, SshPromptCancelRequest);
        if (!agent.sshPrompts.cancel(body.id)) throw gonePrompt(body.id);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/connect': {
        const body = await readBody(req, ServerRequest);
        await agent.connect(body.server);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/disconnect': {
        const body = await readBody(req, DisconnectRequest);
        await agent.disconnect(body.server);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/audit': {
        const body = await readBody(req, AuditTailRequest);
        return send(res, 200, { entries: await readAuditTail(agent.audit.file, body.limit ?? 200) });
      }
      // The tray's pages (protocol/bridge.ts). The add body carries a secret: it goes to the vault only.
      case 'POST /v1/credentials/add': {
        const entry = await agent.addCredential(await readBody(req, AddCredentialRequest));
        return send(res, 200, { credential: credentialView(entry) });
      }
      case 'POST /v1/credentials/remove': {
        await agent.removeCredential((await readBody(req, CredentialNameRequest)).name);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/credentials/servers': {
        const body = await readBody(req, CredentialServersRequest);
        return send(res, 200, { credential: credentialView(agent.setCredentialServers(body.name, body.servers)) });
      }
      case 'POST /v1/leases/revoke':
        return send(res, 200, agent.revokeLease((await readBody(req, RevokeLeaseRequest)).leaseId));
      case 'GET /v1/settings':
        return send(res, 200, agent.settings());
      case 'POST /v1/settings':
        return send(res, 200, agent.updateSettings(await readBody(req, SettingsPatch)));
      case 'GET /v1/servers':
        return send(res, 200, { servers: agent.serverBook().list().map(({ name, source, url, hostName, user, port }) => ({ name, source, url, hostName, user, port })) });
      case 'POST /v1/servers/add': {
        const body = await readBody(req, AddServerRequest);
        agent.serverBook().add(body.name, body.url);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/servers/remove': {
        const { name } = await readBody(req, ServerNameRequest);
        if (!agent.serverBook().remove(name)) throw new HttpFailure(404, 'not-found', `no added server named ${name}`);
        return send(res, 200, { ok: true });
      }
      case 'POST /v1/host-keys/trust': {
        const body = await readBody(req, TrustHostKeyRequest);
        agent.trustHostKey(body.server, body.fingerprint);
        return send(res, 200, { ok: true });
      }
    }
    const approve = /^\/v1\/approvals\/([\w-]{1,64})$/.exec(url.pathname);
    if (approve && req.method === 'POST') {
      const body = await readBody(req, ApproveRequest);
      if (!agent.approvals.answer(approve[1]!, body.decision)) {
        throw new HttpFailure(404, 'not-found', `no pending approval ${approve[1]}: it was already answered or timed out`);
      }
      return send(res, 200, { ok: true });
    }
    throw new HttpFailure(404, 'not-found', `no such control route: ${req.method} ${url.pathname}`);
  }

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
