import { createHash } from 'node:crypto';
import { mkdirSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the laptop side keeps its files (docs/ARCHITECTURE.md, "Paths"). */
export interface AgentPaths {
  home: string;
  config: string;
  audit: string;
  vault: string;
  run: string;
  socket: string;
  agentJson: string;
}

export interface PathEnv {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homeDir?: string;
}

/** $TETHER_HOME, else the platform's config folder. */
export function agentHome({ env = process.env, platform = process.platform, homeDir = homedir() }: PathEnv = {}): string {
  if (env.TETHER_HOME) return env.TETHER_HOME;
  if (platform === 'darwin') return join(homeDir, 'Library', 'Application Support', 'Tether');
  if (platform === 'win32') return join(env.APPDATA ?? join(homeDir, 'AppData', 'Roaming'), 'Tether');
  return join(env.XDG_CONFIG_HOME || join(homeDir, '.config'), 'tether');
}

export function agentPaths(home: string, platform: NodeJS.Platform = process.platform): AgentPaths {
  const run = join(home, 'run');
  const socket =
    platform === 'win32'
      ? `\\\\.\\pipe\\tether-${createHash('sha256').update(home).digest('hex').slice(0, 16)}`
      : join(run, 'agent.sock');
  return {
    home,
    config: join(home, 'config.json'),
    audit: join(home, 'audit.jsonl'),
    vault: join(home, 'vault.enc'),
    run,
    socket,
    agentJson: join(run, 'agent.json'),
  };
}

/** Creates home (0700) and run/ (0700); chmod too, since mkdir keeps an existing folder's mode. */
export function ensureDirs(paths: AgentPaths): void {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') chmodSync(paths.run, 0o700);
}
