import http from 'node:http';
import type { z } from 'zod';
import {
  AgentStatus,
  ApprovalsResponse,
  CONTROL_HEADER,
  CONTROL_VERSION,
  ControlError,
  OkResponse,
  ReloadResponse,
  RevokeResponse,
  type ApproveRequest,
} from '../../protocol/control.js';
import { AgentError } from '../errors.js';

/** A failure the agent reported, with its stable control code. */
export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Typed client of the agent's control socket; the CLI never reaches into the agent itself. */
export class ControlClient {
  constructor(readonly socketPath: string) {}

  status(): Promise<AgentStatus> {
    return this.call('GET', '/v1/status', AgentStatus);
  }
  revoke(server?: string): Promise<RevokeResponse> {
    return this.call('POST', '/v1/revoke', RevokeResponse, server ? { server } : {});
  }
  approvals(): Promise<ApprovalsResponse> {
    return this.call('GET', '/v1/approvals', ApprovalsResponse);
  }
  approve(id: string, decision: ApproveRequest['decision']): Promise<OkResponse> {
    return this.call('POST', `/v1/approvals/${encodeURIComponent(id)}`, OkResponse, { decision });
  }
  reloadCredentials(): Promise<ReloadResponse> {
    return this.call('POST', '/v1/credentials/reload', ReloadResponse, {});
  }
  memorySecret(name: string, secret: string): Promise<OkResponse> {
    return this.call('POST', '/v1/memory-secret', OkResponse, { name, secret });
  }

  async call<T extends z.ZodType>(method: string, path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    const { status, json } = await this.raw(method, path, body);
    if (status >= 400) {
      const err = ControlError.safeParse(json);
      if (err.success) throw new ControlRequestError(status, err.data.error.code, err.data.error.message);
      throw new ControlRequestError(status, 'internal', `the agent answered ${status}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ControlRequestError(status, 'internal', `unexpected answer from the agent for ${path}`);
    return parsed.data;
  }

  raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: {
            [CONTROL_HEADER]: String(CONTROL_VERSION),
            ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new AgentError('no-agent', 'no tether agent is running: start one with `tether agent --connect URL`'));
        } else reject(err);
      });
      req.end(text);
    });
  }
}
