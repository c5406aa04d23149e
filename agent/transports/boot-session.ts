import { createReadStream, fstatSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { AgentError } from '../errors.js';
import { BOOT_TAG } from './boot-script.js';
import { parseAttach, type AttachAnswer } from './attach-answer.js';
import type { RemoteBundle } from './ssh-bootstrap.js';

/** A Node binary for one server architecture, gzipped, that this laptop has (agent/runtime/). */
export interface NodeRuntime {
  version: string;
  arch: 'x64' | 'arm64';
  /** The gzipped `node` binary. */
  file: string;
  /** sha256 of the binary itself (unpacked): the server checks it before putting the file in place. */
  sha256: string;
  /** Size of `file`: what goes over the wire. */
  bytes: number;
}

export interface RuntimeSource {
  /** The pinned version (`v24.…`): where the server keeps it, `$H/runtime/node-VERSION/bin/node`. */
  version: string;
  /** The runtime for `arch`, checked; undefined when this laptop does not have it (an AgentError when it has a bad one). */
  forArch(arch: NodeRuntime['arch']): Promise<NodeRuntime | undefined>;
  /** What to run on the laptop to get it (said when it is missing). */
  fetchHint(arch: NodeRuntime['arch']): string;
}

/** What the server said about itself before any step. */
export interface ServerProbe {
  os: string;
  arch: string;
  node: string;
  bundle: string;
  /** glibc version ("2.36"), "musl", or "" when neither could be told. */
  libc: string;
}

export interface BootOptions {
  alias: string;
  bundle: RemoteBundle;
  minNodeMajor: number;
  runtime?: RuntimeSource | undefined;
  /** `attach`: the session becomes the link (OpenSSH); `answer`: it ends after the answer (the built-in client forwards the socket). */
  attach?: 'attach' | 'answer';
  /** Told before a runtime goes up (it can take a while on a slow link). */
  onRuntime?: (runtime: NodeRuntime) => void;
}

export interface BootOutcome {
  probe: ServerProbe;
  answer: AttachAnswer;
  uploadedBundle: boolean;
  uploadedRuntime: string | undefined;
  /** Bytes that came after the attach line: the start of the link itself. */
  rest: Buffer;
}

/** Oldest glibc the official Node builds (18 and later) run on. */
export const MIN_GLIBC = [2, 28] as const;

/** The conversation ended before `attach` answered: the caller explains why from ssh's own words. */
export class BootEnded extends Error {}

/**
 * The laptop's side of the boot conversation (agent/transports/boot-script.ts) over a
 * session's stdio: read the probe, send the runtime and the bundle when the server lacks
 * them, then `attach`. Leaves `input` paused with everything after the attach line unread.
 */
export async function runBoot(input: Readable, output: Writable, opts: BootOptions): Promise<BootOutcome> {
  const lines = new LineReader(input);
  try {
    const probe = parseProbe(await lines.tagged('probe'));
    let uploadedRuntime: string | undefined;
    if (!nodeMajor(probe.node) || nodeMajor(probe.node)! < opts.minNodeMajor) {
      const runtime = await pickRuntime(probe, opts);
      opts.onRuntime?.(runtime);
      await sendFile(output, 'runtime', runtime.file, runtime.sha256);
      const ok = await lines.tagged('ok');
      uploadedRuntime = /node=(\S+)/.exec(ok)?.[1] ?? runtime.version;
      probe.node = uploadedRuntime;
    }
    let uploadedBundle = false;
    if (probe.bundle !== opts.bundle.sha256) {
      output.write(`bundle ${opts.bundle.bytes.length}\n`);
      output.write(opts.bundle.bytes);
      await lines.tagged('ok');
      uploadedBundle = true;
    }
    output.write(`${opts.attach ?? 'attach'}\n`);
    const line = await lines.plain();
    // The launcher could not be written: the script says so instead of answering.
    if (line.startsWith(`${BOOT_TAG} fail`)) throw new BootFailed(line.slice(BOOT_TAG.length + 6) || 'the server could not start tether');
    const answer = parseAttach(line, opts.alias);
    return { probe, answer, uploadedBundle, uploadedRuntime, rest: lines.detach() };
  } catch (err) {
    lines.detach();
    if (err instanceof BootFailed) throw new AgentError('server-setup', `${opts.alias}: ${err.message}`);
    throw err;
  }
}

class BootFailed extends Error {}

function nodeMajor(version: string): number | undefined {
  const m = /^v(\d+)\./.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** The runtime to upload, or why there is none: one line a person can act on. */
async function pickRuntime(probe: ServerProbe, opts: BootOptions): Promise<NodeRuntime> {
  const has = probe.node ? `Node ${probe.node}` : 'no `node` on its PATH';
  const need = `tether needs Node ${opts.minNodeMajor} or later there`;
  const arch = ({ x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64' } as const)[probe.arch as 'x86_64'];
  if (probe.os !== 'Linux' || !arch) throw new AgentError('server-setup', `${opts.alias} has ${has} and runs ${probe.os} ${probe.arch}; ${need} (tether brings its own Node to Linux x64 and arm64 only): install Node there`);
  if (probe.libc === 'musl') throw new AgentError('server-setup', `${opts.alias} has ${has} and a musl libc (Alpine?), where the Node runtime tether brings cannot run: install Node ${opts.minNodeMajor}+ there (apk add nodejs)`);
  const glibc = /^(\d+)\.(\d+)/.exec(probe.libc);
  if (!glibc) throw new AgentError('server-setup', `${opts.alias} has ${has} and tether cannot tell its libc (no getconf GNU_LIBC_VERSION): install Node ${opts.minNodeMajor}+ there`);
  const [major, minor] = [Number(glibc[1]), Number(glibc[2])];
  if (major < MIN_GLIBC[0] || (major === MIN_GLIBC[0] && minor < MIN_GLIBC[1])) {
    throw new AgentError('server-setup', `${opts.alias} has ${has} and glibc ${probe.libc}; the Node runtime tether brings needs glibc ${MIN_GLIBC.join('.')} or later: install Node ${opts.minNodeMajor}+ there another way`);
  }
  const runtime = await opts.runtime?.forArch(arch);
  if (!runtime) {
    const hint = opts.runtime?.fetchHint(arch) ?? 'install Node there';
    throw new AgentError('server-setup', `${opts.alias} has ${has} and this laptop has no Node runtime for linux-${arch} to bring: ${hint}, then connect again (or install Node ${opts.minNodeMajor}+ there)`);
  }
  return runtime;
}

/** `STEP SIZE [EXTRA]`, then the file's bytes; the size is taken as it is sent, so the framing holds whatever the file is. */
function sendFile(output: Writable, step: string, file: string, extra?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const src = createReadStream(file);
    src.once('error', (err) => reject(new AgentError('runtime-unavailable', `cannot read ${file}: ${err.message}`)));
    src.once('open', (fd) => {
      output.write(`${step} ${fstatSync(fd).size}${extra ? ` ${extra}` : ''}\n`);
      src.pipe(output, { end: false });
    });
    src.once('end', () => resolve());
  });
}

function parseProbe(line: string): ServerProbe {
  const probe: ServerProbe = { os: '', arch: '', node: '', bundle: '', libc: '' };
  for (const word of line.split(' ')) {
    const eq = word.indexOf('=');
    const key = word.slice(0, eq) as keyof ServerProbe;
    if (eq > 0 && key in probe) probe[key] = word.slice(eq + 1);
  }
  return probe;
}

/** Line-at-a-time reading of the boot conversation, then hands the stream back untouched. */
class LineReader {
  private buffer = Buffer.alloc(0);
  private waiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private ended = false;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.wake();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };

  constructor(private readonly input: Readable) {
    input.on('data', this.onData);
    input.once('end', this.onEnd);
    input.once('close', this.onEnd);
  }

  /** The next line starting with `tether-boot WORD` (others are a login shell's chatter); `fail` lines reject. */
  async tagged(word: string): Promise<string> {
    for (;;) {
      const line = await this.plain();
      if (!line.startsWith(`${BOOT_TAG} `)) continue;
      const rest = line.slice(BOOT_TAG.length + 1);
      if (rest.startsWith('fail')) throw new BootFailed(rest.slice(5) || 'the server could not take the step');
      if (rest === word || rest.startsWith(`${word} `)) return rest.slice(word.length + 1);
    }
  }

  /** The next line, whatever it says. */
  async plain(): Promise<string> {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buffer.subarray(0, nl).toString('utf8').replace(/\r$/, '');
        this.buffer = this.buffer.subarray(nl + 1);
        return line;
      }
      if (this.ended) throw new BootEnded('the session ended during setup');
      await new Promise<void>((resolve, reject) => (this.waiter = { resolve, reject }));
    }
  }

  detach(): Buffer {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    this.input.pause();
    return this.buffer;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }
}
