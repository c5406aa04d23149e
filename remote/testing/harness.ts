import { DAEMON_CONTROL_HEADER, DAEMON_CONTROL_VERSION } from '../../protocol/daemon-control.js';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { randomBytes, type KeyObject } from 'node:crypto';
import { createDaemon, type Daemon, type DaemonOptions } from '../daemon.js';
import { FakeLaptop } from './fake-laptop.js';
import { parseRawAnswer, type RawAnswer } from './raw-answer.js';
import { carriedCode } from './refusal-code.js';

/** Test helpers shared by the remote/ suites: temp homes, daemons, paired laptops, raw HTTP. */

export function tempHome(): string {
  return fs.mkdtempSync(path.join('/tmp', 'tt-'));
}

export interface Started {
  daemon: Daemon;
  home: string;
  stop(): Promise<void>;
}

export async function startDaemon(opts: Partial<DaemonOptions> = {}): Promise<Started> {
  const home = tempHome();
  const daemon = await createDaemon({ home, serverId: 'test-box', ...opts });
  return {
    daemon,
    home,
    async stop() {
      await daemon.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => unknown;
  /** The refusal code in the x-tether-error header and the body (see carriedCode), if any. */
  code: () => string | undefined;
}

export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text), code: () => carriedCode(res.headers, text) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw HTTP/1.1 bytes (for headers Node's client would not send as written) and reads the answer. */
export function rawRequest(port: number, head: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(parseRawAnswer(Buffer.concat(chunks).toString('utf8'))));
    socket.write(head);
  });
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A control call as the CLI makes it; without `version`, as a v1 CLI (no version header) does. */
export async function controlCall(daemon: Daemon, method: 'GET' | 'POST', route: string, body?: object, version?: string): Promise<HttpAnswer> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return request(`${daemon.proxyUrl}/_tether/v1/${route}`, {
    method,
    headers: { ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...(version === undefined ? {} : { [DAEMON_CONTROL_HEADER]: version }) },
    body: text,
  });
}

/** A laptop paired through a fresh code from the control API, handshake done, credentials offered. */
export async function pairedLaptop(
  daemon: Daemon,
  opts: { name?: string; key?: KeyObject; offer?: string[] } = {},
): Promise<FakeLaptop> {
  const code = ((await controlCall(daemon, 'POST', 'pair-code')).json() as { code: string }).code;
  const laptop = await FakeLaptop.connect(daemon.socketPath, { name: opts.name, key: opts.key });
  const linked = new Promise<void>((resolve) => daemon.events.once('link', () => resolve()));
  await laptop.handshake(code);
  await linked;
  const offer = opts.offer ?? ['openai'];
  if (offer.length) {
    const offered = new Promise<void>((resolve) => {
      const link = daemon.links().find((l) => l.info.agentKey === laptop.agentKey);
      link?.onOffer(() => resolve());
    });
    laptop.offer(offer.map((name) => ({ name, provider: name.includes('anthropic') ? 'anthropic' : 'openai', mode: 'relay' as const })));
    await offered;
  }
  return laptop;
}

/** Answers every lease.request of this laptop with a grant. */
export function autoGrant(laptop: FakeLaptop, scope: 'once' | 'connection' = 'connection', ttlMs = 60_000): () => void {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const req = await laptop.next('lease.request').catch(() => undefined);
      if (!req || stopped) return;
      laptop.send({ t: 'lease.grant', id: req.id, leaseId: `ls_${randomBytes(12).toString('base64url')}`, scope, ttlMs });
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

export async function leaseToken(daemon: Daemon, provider = 'openai', extra: object = {}): Promise<{ token: string; leaseId: string }> {
  const answer = await controlCall(daemon, 'POST', 'lease', { credential: provider, purpose: 'token', ...extra }, String(DAEMON_CONTROL_VERSION));
  if (answer.status !== 200) throw new Error(`lease failed: ${answer.status} ${answer.text}`);
  return answer.json() as { token: string; leaseId: string };
}
