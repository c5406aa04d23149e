import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { FrameKind, encodeData, encodeEnd, type Message } from '../../../protocol/index.js';
import { tempDir } from '../homes.js';
import { TetherProcess, runTether } from '../tether-process.js';
import type { World } from '../world.js';
import { fuzzFrame, type FrameContext, type FuzzFrame } from './frames.js';
import { HostileDaemon } from './hostile-daemon.js';
import { FuzzFailure, expectationOf, throwBatch, type BatchOutcome } from './oracle.js';
import type { Prng } from './prng.js';
import { ANSWER_BOUND_MS, newStats, type TargetStats } from './daemon-target.js';

/** Frames per burst; the agent has no error budget, so a burst can be long. */
const BATCH = 50;
/** Bursts per link before the hostile daemon cuts it (leases and streams of a link end with it). */
const BURSTS_PER_LINK = 40;
const PROCESS = { pid: 1, uid: 1000, cmdline: ['fuzz'], parents: [] };
const LEASES_KEPT = 4;

/**
 * A hostile daemon against the real agent (the laptop bin, its own home and vault, a real
 * credential lent from the World's mock provider): after a real handshake it sends fuzzed
 * frames, with a relay stream live (a real upstream request in flight at the mock provider).
 */
export class AgentTarget {
  readonly stats: TargetStats = newStats();
  readonly daemon: HostileDaemon;
  agent!: TetherProcess;
  private readonly home = tempDir('fz');
  private readonly passphrase = 'fuzz-vault-passphrase';
  private probes = 0;
  private leases: string[] = [];
  /** Response frames of the live stream, for the last check. */
  private readonly responses = new Map<number, { status?: number; bytes: number; ended: boolean }>();
  private nextSid = 1;

  constructor(
    private readonly world: World,
    private readonly seed: number,
  ) {
    this.daemon = new HostileDaemon(join(this.home, 'hostile.sock'));
    this.daemon.on('message', (m) => this.onMessage(m));
    this.daemon.on('frame', (f) => {
      const r = this.responses.get(f.sid);
      if (!r) return;
      if (f.kind === FrameKind.data) r.bytes += f.payload.byteLength;
      else if (f.kind === FrameKind.end) r.ended = true;
    });
  }

  async start(): Promise<void> {
    await this.daemon.listen();
    const env = { TETHER_VAULT_PASSPHRASE: this.passphrase };
    const added = await runTether(['creds', 'add', 'openai', '--base-url', this.world.mock.url, '--store', 'file'], { home: this.home, env, input: `${this.world.keys.openai}\n` });
    if (added.code !== 0) throw new Error(`creds add failed: ${added.stderr}`);
    this.agent = new TetherProcess(['agent', '--connect', `unix:${this.daemon.socketPath}`, '--pair', this.daemon.pairCode, '--approve', 'allow', '--name', 'fuzzed-agent'], {
      home: this.home,
      env,
      logFile: this.world.logFile('fuzzed-agent'),
    });
    await this.daemon.ready();
  }

  /** One link: a live stream, then bursts of fuzzed frames each followed by a probe, the last burst with frames that may end the link. */
  async link(rng: Prng, bursts = BURSTS_PER_LINK): Promise<void> {
    const ws = await this.until(this.daemon.ready(), 'the agent did not reconnect');
    this.stats.links += 1;
    const ctx: FrameContext = { sids: [], leaseIds: this.leases, keepLink: true };
    const sid = await this.openStream('mock-hang', true);
    if (sid !== undefined) {
      ctx.sids.push(sid);
      this.stats.streams += 1;
    }
    for (let i = 0; i < bursts; i++) {
      if (i === bursts - 1) ctx.keepLink = false;
      const closed = await this.burst(ws, rng, ctx);
      if (closed) return;
    }
    ws.terminate();
  }

  /** Resolves once the agent has a link to the hostile daemon again. */
  async reconnected(): Promise<void> {
    await this.until(this.daemon.ready(), 'the agent did not reconnect');
  }

  /** A real lease and a real request through the agent to the mock provider; true if it was served. */
  async served(): Promise<boolean> {
    await this.until(this.daemon.ready(), 'the agent did not reconnect');
    const sid = await this.openStream('mock-1', false);
    if (sid === undefined) return false;
    const deadline = Date.now() + ANSWER_BOUND_MS;
    while (Date.now() < deadline) {
      const r = this.responses.get(sid)!;
      if (r.ended) return r.status === 200 && r.bytes > 0;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  private stopped: Promise<number | null> | undefined;

  stop(): Promise<number | null> {
    this.stopped ??= (async () => {
      const code = await this.agent.stop();
      await this.daemon.close();
      return code;
    })();
    return this.stopped;
  }

  private async burst(ws: WebSocket, rng: Prng, ctx: FrameContext): Promise<boolean> {
    const batch = Array.from({ length: BATCH }, () => fuzzFrame(rng, 'daemon', ctx));
    const first = this.stats.frames;
    this.stats.frames += batch.length;
    const id = `rq_probe${++this.probes}`;
    let outcome: BatchOutcome;
    try {
      outcome = await throwBatch(ws, batch, () => this.daemon.send({ t: 'lease.request', id, credential: 'probe', purpose: 'token', process: PROCESS }), (m) => m.t === 'lease.deny' && m.id === id, ANSWER_BOUND_MS);
    } catch (err) {
      this.fail(first, batch[0]!, (err as Error).message);
    }
    const expected = batch.map(expectationOf);
    this.stats.errorsSeen += outcome.errors;
    if (outcome.closed) {
      this.stats.closes += 1;
      this.stats.closeCodes[outcome.closed.code] = (this.stats.closeCodes[outcome.closed.code] ?? 0) + 1;
      if (!expected.some((e) => e.closes)) this.fail(first, batch[0]!, `the agent closed the link (${outcome.closed.code} ${outcome.closed.reason}) though no frame called for it`);
      return true;
    }
    const bad = expected.filter((e) => e.decodeError).length;
    if (outcome.errors < bad) this.fail(first, batch[expected.findIndex((e) => e.decodeError)]!, `${bad} frames do not decode but only ${outcome.errors} error frames came back`);
    const at = expected.findIndex((e) => e.closes);
    if (at >= 0) this.fail(first + at, batch[at]!, 'the agent kept the link open after a frame that must close it');
    return false;
  }

  /** Asks for a lease and opens a relay stream on it; resolves with its sid once the request is sent. */
  private async openStream(model: string, stream: boolean): Promise<number | undefined> {
    const id = `rq_real${++this.probes}`;
    const grant = this.nextMessage((m): m is Extract<Message, { t: 'lease.grant' | 'lease.deny' }> => (m.t === 'lease.grant' || m.t === 'lease.deny') && m.id === id);
    this.daemon.send({ t: 'lease.request', id, credential: 'openai', purpose: 'token', process: PROCESS });
    const answer = await this.until(grant, 'the agent did not answer a lease request');
    if (answer.t !== 'lease.grant') return undefined;
    const sid = this.nextSid++;
    this.responses.set(sid, { bytes: 0, ended: false });
    if (this.responses.size > 64) this.responses.delete(this.responses.keys().next().value!);
    this.daemon.send({ t: 'relay.open', sid, leaseId: answer.leaseId, method: 'POST', path: '/v1/chat/completions', headers: [['content-type', 'application/json']] });
    this.daemon.sendFrame(encodeData(sid, Buffer.from(JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }))));
    this.daemon.sendFrame(encodeEnd(sid));
    return sid;
  }

  private onMessage(m: Message): void {
    if (m.t === 'lease.grant') {
      // As a daemon would: it knows a few leases at a time and ends the older ones.
      this.leases.push(m.leaseId);
      while (this.leases.length > LEASES_KEPT) this.daemon.send({ t: 'lease.ended', leaseId: this.leases.shift()!, reason: 'released' });
    } else if (m.t === 'relay.head') {
      const r = this.responses.get(m.sid);
      if (r) r.status = m.status;
      // Streams the fuzz opened on a real lease are let go, as a client that went away.
      else this.daemon.send({ t: 'relay.abort', sid: m.sid, reason: 'fuzz' });
    }
  }

  private nextMessage<M extends Message>(match: (m: Message) => m is M): Promise<M> {
    return new Promise((resolve) => {
      const on = (m: Message) => {
        if (!match(m)) return;
        this.daemon.off('message', on);
        resolve(m);
      };
      this.daemon.on('message', on);
    });
  }

  private async until<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new FuzzFailure(`agent: ${what} within ${ANSWER_BOUND_MS} ms (FUZZ_SEED=${this.seed}, after frame #${this.stats.frames})`)), ANSWER_BOUND_MS)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(index: number, frame: FuzzFrame, what: string): never {
    const preview = typeof frame.data === 'string' ? frame.data.slice(0, 200) : Buffer.from(frame.data.subarray(0, 64)).toString('hex');
    const exited = this.agent.exited ? `; the agent exited (${this.agent.child.exitCode ?? this.agent.child.signalCode}): ${this.agent.text.slice(-2000)}` : '';
    throw new FuzzFailure(`agent: ${what} (FUZZ_SEED=${this.seed}, frame #${index}: ${frame.kind}: ${preview})${exited}`);
  }
}
