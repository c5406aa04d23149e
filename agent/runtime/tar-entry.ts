import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

/** A tar header's fields that matter here (POSIX ustar, with pax and GNU long-name records). */
interface Header {
  name: string;
  size: number;
  type: string;
}

/**
 * Copies one file out of a gzipped tarball (an npm package) into `dest` (created, mode 0600),
 * streaming: a 120 MB node binary never sits in memory. Resolves true when `entry` was found.
 * Reads ustar names and prefixes, pax `path`/`size` records and GNU long names; nothing else
 * in the archive is written anywhere.
 */
export async function extractTarEntry(tgz: string, entry: string, dest: string): Promise<boolean> {
  const wanted = normalize(entry);
  let pending: Buffer = Buffer.alloc(0);
  /** What the bytes being read belong to. */
  let state: { kind: 'header' } | { kind: 'skip' | 'meta' | 'copy'; left: number; pad: number; header: Header; meta: Buffer[] } = { kind: 'header' };
  let override: { path?: string; size?: number } = {};
  let fd: number | undefined;
  let found = false;
  let ended = false;
  try {
    for await (const chunk of createReadStream(tgz).pipe(createGunzip())) {
      pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
      while (!ended) {
        if (state.kind === 'header') {
          if (pending.length < BLOCK) break;
          const block = pending.subarray(0, BLOCK);
          pending = pending.subarray(BLOCK);
          if (block.every((b) => b === 0)) {
            ended = found;
            continue;
          }
          const header = parseHeader(block, override);
          override = {};
          const kind = header.type === 'x' || header.type === 'L' || header.type === 'g' ? 'meta' : header.name === wanted && isFile(header.type) ? 'copy' : 'skip';
          if (kind === 'copy') {
            fd = openSync(dest, 'wx', 0o600);
            found = true;
          }
          state = { kind, left: header.size, pad: (BLOCK - (header.size % BLOCK)) % BLOCK, header, meta: [] };
          continue;
        }
        const take = Math.min(state.left, pending.length);
        const data = pending.subarray(0, take);
        if (state.kind === 'copy') writeAll(fd!, data);
        else if (state.kind === 'meta') state.meta.push(Buffer.from(data));
        state.left -= take;
        pending = pending.subarray(take);
        if (state.left > 0) break;
        if (pending.length < state.pad) break;
        pending = pending.subarray(state.pad);
        if (state.kind === 'meta') override = metaRecord(state.header.type, Buffer.concat(state.meta));
        if (state.kind === 'copy') {
          closeSync(fd!);
          fd = undefined;
          ended = true;
        }
        state = { kind: 'header' };
      }
      if (ended) break;
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (found && !ended) throw new Error(`${tgz} ends inside ${entry}: the download is incomplete`);
  return found;
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

function isFile(type: string): boolean {
  return type === '0' || type === '' || type === '7';
}

function normalize(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function parseHeader(block: Buffer, override: { path?: string; size?: number }): Header {
  const text = (from: number, len: number) => {
    const raw = block.subarray(from, from + len);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
  };
  const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? text(345, 155) : '';
  const name = override.path ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
  const size = override.size ?? parseSize(block.subarray(124, 136));
  return { name: normalize(name), size, type: text(156, 1) };
}

/** Octal ASCII, or GNU's base-256 for sizes past 8 GiB. */
function parseSize(field: Buffer): number {
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  const digits = field.toString('latin1').replace(/[\0 ]+/g, '');
  const n = digits ? parseInt(digits, 8) : 0;
  if (!Number.isFinite(n) || n < 0) throw new Error('a tar header has no size: the file is not a tarball');
  return n;
}

/** A pax header (`LEN key=value\n` records) or a GNU long name, applied to the next entry. */
function metaRecord(type: string, data: Buffer): { path?: string; size?: number } {
  if (type === 'L') return { path: data.toString('utf8').replace(/\0+$/, '') };
  if (type !== 'x') return {};
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') out.path = record.slice(eq + 1);
    if (record.slice(0, eq) === 'size') out.size = Number(record.slice(eq + 1));
    at += len;
  }
  return out;
}
