import http from 'node:http';
import type { KeyObject } from 'node:crypto';
import { DAEMON_CONTROL_HEADER, DAEMON_CONTROL_ROUTES, DAEMON_CONTROL_VERSION } from '../../../protocol/daemon-control.js';
import { encodeCredit } from '../../../protocol/index.js';
import { FakeLaptop, newAgentKey, type FakeStream } from '../../../remote/testing/fake-laptop.js';
import { request } from '../../../remote/testing/harness.js';
import type { World } from '../world.js';
import { fuzzFrame, type FrameContext, type FuzzFrame } from './frames.js';
import { FuzzFailure, expectationOf, throwBatch, type BatchOutcome } from './oracle.js';
import type { Prng } from './prng.js';

/** Frames per authenticated link: with the probe, within the daemon's budget of 20 protocol errors a minute. */
const BATCH = 19;
/** A stream id the daemon never opens on a short link: a CREDIT for it is answered `unknown-stream`. */
const PROBE_SID = 0xfffffff0;
/** A bad frame is answered, or the connection closed, within this long. */
export const ANSWER_BOUND_MS = 5000;
const CREDENTIAL = 'fuzzcred';

export function newStats(): TargetStats {
  return { frames: 0, links: 0, preAuth: 0, errorsSeen: 0, closes: 0, streams: 0, closeCodes: {} };
}

export interface TargetStats {
  frames: number;
  links: number;
  /** Of the links, those fuzzed before the handshake. */
  preAuth: number;
  errorsSeen: number;
  closes: number;
  streams: number;
  /** Links that ended in a close, by close code. */
  closeCodes: Record<number, number>;
}

/**
 * A hostile laptop against the real daemon of a World, over its real link socket: fuzzed
 * frames before the handshake, and after a real one (a key paired with a real pair code),
 * some with a relay stream live (a tool's request in flight through the proxy).
 */
export class DaemonTarget {
  private readonly key: KeyObject = newAgentKey();
  /** Frames this worker sent: with the seed and the worker, what replays a failure. */
  private sent = 0;
  private readonly name: string;

  /** Workers run side by side, each with its own paired key and laptop name, counting into one `stats`. */
  constructor(
    private readonly world: World,
    private readonly seed: number,
    private readonly worker: number,
    readonly stats: TargetStats = newStats(),
  ) {
    this.name = `fuzz-laptop-${worker}`;
  }

  /** Pairs the fuzzing key once; later links authenticate with it. */
  async pair(): Promise<void> {
    const laptop = await FakeLaptop.connect(this.world.state.socket, { key: this.key, name: this.name });
    await laptop.handshake(await this.world.pairCode());
    laptop.close();
    await laptop.closed;
  }

  /** One connection that fuzzes the handshake: its first frame is checked, the rest arrive behind it. */
  async preAuth(rng: Prng, frames: number): Promise<void> {
    const laptop = await FakeLaptop.connect(this.world.state.socket);
    const batch = Array.from({ length: frames }, () => fuzzFrame(rng, 'laptop', { sids: [], leaseIds: [] }));
    const first = this.sent;
    this.sent += frames;
    this.stats.frames += frames;
    this.stats.links += 1;
    this.stats.preAuth += 1;
    const outcome = await this.guard(first, batch, () =>
      throwBatch(laptop.ws, batch, () => {}, (m) => m.t === 'welcome', ANSWER_BOUND_MS),
    );
    // Refused: an error frame, then the close; a frame that happened to be a good answer is welcomed.
    if (outcome.closed) {
      this.stats.closes += 1;
      this.stats.closeCodes[outcome.closed.code] = (this.stats.closeCodes[outcome.closed.code] ?? 0) + 1;
    } else if (outcome.errors > 0) this.fail(first, batch[0]!, 'the daemon answered a pre-handshake frame with an error but kept the connection');
    laptop.close();
  }

  /** One authenticated link: a burst of fuzzed frames (with a live stream if `withStream`), then a probe. */
  async link(rng: Prng, withStream: boolean): Promise<void> {
    const laptop = await FakeLaptop.connect(this.world.state.socket, { key: this.key, name: this.name });
    await laptop.handshake();
    this.stats.links += 1;
    const ctx: FrameContext = { sids: [], leaseIds: [] };
    let tool: InFlight | undefined;
    if (withStream) {
      laptop.offer([{ name: CREDENTIAL, provider: 'openai', mode: 'relay' }]);
      tool = await this.startToolRequest(laptop);
      ctx.sids.push(tool.stream.sid);
      ctx.leaseIds.push(tool.leaseId);
      this.stats.streams += 1;
    }
    const batch = Array.from({ length: BATCH }, () => fuzzFrame(rng, 'laptop', ctx));
    const first = this.sent;
    this.sent += BATCH;
    this.stats.frames += BATCH;
    const outcome = await this.guard(first, batch, () =>
      throwBatch(laptop.ws, batch, () => laptop.sendFrame(encodeCredit(PROBE_SID, 1)), (m) => m.t === 'error' && m.ref === String(PROBE_SID), ANSWER_BOUND_MS),
    );
    this.judge(first, batch, outcome);
    laptop.close();
    await laptop.closed;
    // The tool's request ends with the link: it is answered or cut, never left hanging.
    if (tool) await this.guard(first, batch, () => tool.settled);
  }

  private judge(first: number, batch: FuzzFrame[], outcome: BatchOutcome): void {
    const expected = batch.map(expectationOf);
    this.stats.errorsSeen += outcome.errors;
    if (outcome.closed) {
      this.stats.closes += 1;
      this.stats.closeCodes[outcome.closed.code] = (this.stats.closeCodes[outcome.closed.code] ?? 0) + 1;
      const at = expected.findIndex((e) => e.closes);
      // 4400: the budget of protocol errors ran out (a frame can cost a stream error too).
      if (at < 0 && outcome.closed.code !== 4400) this.fail(first, batch[0]!, `the daemon closed the link (${outcome.closed.code} ${outcome.closed.reason}) though no frame called for it`);
      return;
    }
    const bad = expected.filter((e) => e.decodeError).length;
    if (outcome.errors < bad) {
      this.fail(first, batch[expected.findIndex((e) => e.decodeError)]!, `${bad} frames do not decode but only ${outcome.errors} error frames came back`);
    }
    if (expected.some((e) => e.closes)) {
      const at = expected.findIndex((e) => e.closes);
      this.fail(first + at, batch[at]!, 'the daemon kept the link open after a frame that must close it');
    }
  }

  /** A lease on this link, and a tool's request through the proxy whose relay stream is open here. */
  private async startToolRequest(laptop: FakeLaptop): Promise<InFlight> {
    const granted = laptop.next('lease.request').then((req) => {
      const leaseId = `ls_fuzz${req.id.slice(3, 40)}`;
      laptop.send({ t: 'lease.grant', id: req.id, leaseId, scope: 'once', ttlMs: 60_000 });
      return leaseId;
    });
    granted.catch(() => {}); // awaited below, unless the lease call fails first
    const call = DAEMON_CONTROL_ROUTES.lease;
    const answer = await request(`${this.world.state.proxyUrl}${call.path}`, {
      method: call.method,
      headers: { 'content-type': 'application/json', [DAEMON_CONTROL_HEADER]: String(DAEMON_CONTROL_VERSION), 'x-tether-pid': String(process.pid) },
      body: JSON.stringify({ credential: CREDENTIAL, as: this.name }),
    });
    if (answer.status !== 200) throw new Error(`lease for the fuzzing laptop failed: ${answer.status} ${answer.text}`);
    const leaseId = await granted;
    const { token } = answer.json() as { token: string };
    const opened = new Promise<FakeStream>((resolve) => (laptop.onRelayOpen = resolve));
    const req = http.request(`${this.world.state.proxyUrl}/${CREDENTIAL}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    const settled = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
    });
    req.write('{"model":"mock-1","messages":[');
    const stream = await opened;
    return { stream, leaseId, settled };
  }

  private async guard<T>(first: number, batch: FuzzFrame[], run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_BOUND_MS * 2} ms`)), ANSWER_BOUND_MS * 2))),
      ]);
    } catch (err) {
      if (err instanceof FuzzFailure) throw err;
      return this.fail(first, batch[0]!, (err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(index: number, frame: FuzzFrame, what: string): never {
    const preview = typeof frame.data === 'string' ? frame.data.slice(0, 200) : Buffer.from(frame.data.subarray(0, 64)).toString('hex');
    const daemon = this.world.daemon;
    const exited = daemon.exited ? `; the daemon exited (${daemon.child.exitCode ?? daemon.child.signalCode}): ${daemon.text.slice(-2000)}` : '';
    throw new FuzzFailure(`daemon: ${what} (FUZZ_SEED=${this.seed}, worker ${this.worker}, frame #${index}: ${frame.kind}: ${preview})${exited}`);
  }
}

interface InFlight {
  stream: FakeStream;
  leaseId: string;
  settled: Promise<void>;
}

