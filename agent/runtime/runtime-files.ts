import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { AgentError } from '../errors.js';
import type { NodeRuntime } from '../transports/boot-session.js';
import { runtimeBaseName, type PinnedRuntime } from './pinned-node.js';

/**
 * What a runtime's `.json` beside its `.gz` says: the pinned binary it was made from, and
 * the gzip file's own hash and size, so a damaged or swapped file is refused before upload.
 */
export interface RuntimeRecord {
  version: string;
  arch: PinnedRuntime['arch'];
  file: string;
  nodeSha256: string;
  nodeBytes: number;
  gzSha256: string;
  gzBytes: number;
}

export type RuntimeLookup = { state: 'ok'; runtime: NodeRuntime; record: RuntimeRecord } | { state: 'missing' } | { state: 'bad'; problem: string };

/** sha256 (hex) and size of a file, streamed. */
export async function fileSha256(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Turns a node binary into a runtime in `dir` (`node-VERSION-linux-ARCH.gz` and `.json`),
 * once its sha256 is the pinned one (`source` names it in the refusal): gzip (level 6: level 9 saves 0.3% for three times the
 * time) into a temp file, then rename, so a reader never sees half a runtime.
 */
export async function makeRuntime(node: string, dir: string, pin: PinnedRuntime, source = node): Promise<{ runtime: NodeRuntime; record: RuntimeRecord }> {
  const { sha256, bytes } = await fileSha256(node);
  if (sha256 !== pin.sha256) {
    throw new AgentError('runtime-mismatch', `${source} is not the Node ${pin.version} for linux-${pin.arch} that tether pins (its sha256 is ${sha256.slice(0, 16)}…, the pinned one ${pin.sha256.slice(0, 16)}…): nothing was written`);
  }
  mkdirSync(dir, { recursive: true });
  const base = runtimeBaseName(pin.version, pin.arch);
  const gz = join(dir, `${base}.gz`);
  const tmp = `${gz}.${process.pid}.tmp`;
  const gzHash = createHash('sha256');
  let gzBytes = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      gzHash.update(chunk);
      gzBytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(node), createGzip({ level: 6 }), tee, createWriteStream(tmp, { mode: 0o644 }));
    renameSync(tmp, gz);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new AgentError('runtime-unavailable', `cannot write ${gz}: ${(err as Error).message}`);
  }
  const record: RuntimeRecord = { version: pin.version, arch: pin.arch, file: `${base}.gz`, nodeSha256: sha256, nodeBytes: bytes, gzSha256: gzHash.digest('hex'), gzBytes };
  const json = join(dir, `${base}.json`);
  writeFileSync(`${json}.${process.pid}.tmp`, JSON.stringify(record, null, 2) + '\n');
  renameSync(`${json}.${process.pid}.tmp`, json);
  verified.set(gz, stamp(gz));
  return { runtime: { version: pin.version, arch: pin.arch, file: gz, sha256, bytes: gzBytes }, record };
}

/** gzip files already hashed in this process, by size and mtime: a second upload does not hash again. */
const verified = new Map<string, string>();

function stamp(file: string): string {
  const s = statSync(file);
  return `${s.size}:${s.mtimeMs}:${s.ino}`;
}

/**
 * The pinned runtime in `dir`, checked: its record names the pinned version and binary hash,
 * and the `.gz` is the very file that record was made with (size and sha256).
 */
export async function readRuntime(dir: string, pin: PinnedRuntime): Promise<RuntimeLookup> {
  const base = runtimeBaseName(pin.version, pin.arch);
  const gz = join(dir, `${base}.gz`);
  const json = join(dir, `${base}.json`);
  let record: RuntimeRecord;
  try {
    record = JSON.parse(readFileSync(json, 'utf8')) as RuntimeRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'bad', problem: `${json} is unreadable (${(err as Error).message})` };
  }
  if (record.version !== pin.version || record.arch !== pin.arch || record.nodeSha256 !== pin.sha256) {
    return { state: 'bad', problem: `${json} describes another Node than the ${pin.version} for linux-${pin.arch} that tether pins` };
  }
  let now: string;
  try {
    now = stamp(gz);
  } catch {
    return { state: 'bad', problem: `${gz} is missing beside its ${base}.json` };
  }
  if (verified.get(gz) !== now) {
    const { sha256, bytes } = await fileSha256(gz);
    if (bytes !== record.gzBytes || sha256 !== record.gzSha256) return { state: 'bad', problem: `${gz} is damaged (its sha256 is not the one recorded when it was made)` };
    verified.set(gz, now);
  }
  return { state: 'ok', runtime: { version: pin.version, arch: pin.arch, file: gz, sha256: record.nodeSha256, bytes: record.gzBytes }, record };
}
