import http from 'node:http';
import type { z } from 'zod';
import { CONTROL_HEADER, CONTROL_VERSION, ControlError } from '../../protocol/control.js';
import { AgentControlCalls, type AgentControlCall, type AgentControlRequest, type AgentControlResponse } from '../../protocol/bridge.js';
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
export class AgentControlClient {
  constructor(readonly socketPath: string) {}

  /** One call of AgentControlCalls: its route from the table, its answer checked against the table's schema. */
  async call<C extends AgentControlCall>(name: C, request: AgentControlRequest<C>): Promise<AgentControlResponse<C>> {
    const spec: { method: string; path: string; response: z.ZodType } = AgentControlCalls[name];
    const { status, json } = await this.raw(spec.method, spec.path, spec.method === 'GET' ? undefined : request);
    if (status >= 400) {
      const err = ControlError.safeParse(json);
      if (err.success) throw new ControlRequestError(status, err.data.error.code, err.data.error.message);
      throw new ControlRequestError(status, 'internal', `the agent answered ${status}`);
    }
    const parsed = spec.response.safeParse(json);
    if (!parsed.success) throw new ControlRequestError(status, 'internal', `unexpected answer from the agent for ${name}`);
    return parsed.data as AgentControlResponse<C>;
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
