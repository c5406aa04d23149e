import { homedir } from 'node:os';
import { join } from 'node:path';
import { artefactPath } from '../artefacts.js';
import { AgentError } from '../errors.js';
import type { NodeRuntime, RuntimeSource } from '../transports/boot-session.js';
import { pinnedRuntime, RUNTIME_ARCHES, type PinnedRuntime, type RuntimeArch } from './pinned-node.js';
import { readRuntime, type RuntimeRecord } from './runtime-files.js';

export interface RuntimePlaces {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homeDir?: string;
  /** Folders a host ships runtimes in besides dist/runtimes (the tray app: its resources folder). */
  shipped?: string[];
  /** What to accept (default: build/node-runtime.json's pins); tests pin stand-ins. */
  pin?: (arch: RuntimeArch) => PinnedRuntime;
}

export interface RuntimeFolder {
  dir: string;
  where: 'shipped' | 'cache';
}

/** Where one runtime was found, for `tether runtime list`. */
export interface RuntimeListing {
  arch: RuntimeArch;
  version: string;
  state: 'ok' | 'missing' | 'bad';
  /** The `.gz` in use, when ok. */
  file?: string;
  where?: 'shipped' | 'cache';
  bytes?: number;
  /** Why a runtime that is there is refused (damaged, another version). */
  problem?: string;
}

/**
 * The per-user cache `tether runtime fetch` fills: `$TETHER_HOME/runtimes`, else the
 * platform's cache folder (`~/.cache/tether/runtimes`, `~/Library/Caches/Tether/runtimes`,
 * `%LOCALAPPDATA%\Tether\runtimes`). A cache, not config: deleting it loses nothing.
 */
export function runtimeCacheDir({ env = process.env, platform = process.platform, homeDir = homedir() }: RuntimePlaces = {}): string {
  if (env.TETHER_HOME) return join(env.TETHER_HOME, 'runtimes');
  if (platform === 'darwin') return join(homeDir, 'Library', 'Caches', 'Tether', 'runtimes');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homeDir, 'AppData', 'Local'), 'Tether', 'runtimes');
  return join(env.XDG_CACHE_HOME || join(homeDir, '.cache'), 'tether', 'runtimes');
}

/**
 * The one lookup order for runtimes: what the install ships (dist/runtimes beside the
 * running bin, then a host's own folders), then the per-user cache. First good one wins.
 */
export function runtimeFolders(places: RuntimePlaces = {}): RuntimeFolder[] {
  // Where the install keeps what it ships (agent/artefacts.ts: dist/, the tray app's folder, its asar).
  const shipped = [artefactPath('node-runtimes'), ...(places.shipped ?? [])];
  const folders: RuntimeFolder[] = [...new Set(shipped)].map((dir) => ({ dir, where: 'shipped' }));
  return [...folders, { dir: runtimeCacheDir(places), where: 'cache' }];
}

/** What to run on the laptop to get a runtime it lacks. */
export function fetchHint(arch: RuntimeArch): string {
  return `run \`tether runtime fetch --arch ${arch}\` on this laptop`;
}

/** The runtimes this laptop can bring to servers: the transports' RuntimeSource. Reads nothing until asked. */
export function laptopRuntimes(places: RuntimePlaces = {}): RuntimeSource {
  return {
    version: (places.pin ?? pinnedRuntime)('x64').version,
    fetchHint,
    forArch: async (arch) => {
      const found = await findRuntime(arch, places);
      if (found.state === 'ok') return found.runtime;
      if (found.state === 'bad') throw new AgentError('runtime-mismatch', `${found.problem}: ${fetchHint(arch)} to replace it`);
      return undefined;
    },
  };
}

async function findRuntime(arch: RuntimeArch, places: RuntimePlaces): Promise<{ state: 'ok'; runtime: NodeRuntime; record: RuntimeRecord; where: 'shipped' | 'cache' } | { state: 'missing' } | { state: 'bad'; problem: string }> {
  const pin = (places.pin ?? pinnedRuntime)(arch);
  let bad: string | undefined;
  for (const { dir, where } of runtimeFolders(places)) {
    const found = await readRuntime(dir, pin);
    if (found.state === 'ok') return { ...found, where };
    if (found.state === 'bad') bad ??= found.problem;
  }
  return bad ? { state: 'bad', problem: bad } : { state: 'missing' };
}

/** Each architecture's runtime as the lookup finds it. */
export async function listRuntimes(places: RuntimePlaces = {}): Promise<RuntimeListing[]> {
  const out: RuntimeListing[] = [];
  for (const arch of RUNTIME_ARCHES) {
    const found = await findRuntime(arch, places);
    const base = { arch, version: (places.pin ?? pinnedRuntime)(arch).version };
    if (found.state === 'ok') out.push({ ...base, state: 'ok', file: found.runtime.file, where: found.where, bytes: found.runtime.bytes });
    else if (found.state === 'bad') out.push({ ...base, state: 'bad', problem: found.problem });
    else out.push({ ...base, state: 'missing' });
  }
  return out;
}
