import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the server side keeps its few files (docs/ARCHITECTURE.md, "Paths"). */
export interface RemotePaths {
  home: string;
  runDir: string;
  daemonDir: string;
  socket: string;
  daemonJson: string;
  identity: string;
  authorizedAgents: string;
}

export function tetherHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.TETHER_HOME || path.join(os.homedir(), '.tether');
}

export function remotePaths(home: string = tetherHome()): RemotePaths {
  const runDir = path.join(home, 'run');
  const daemonDir = path.join(home, 'daemon');
  return {
    home,
    runDir,
    daemonDir,
    socket: path.join(runDir, 'tether.sock'),
    daemonJson: path.join(runDir, 'daemon.json'),
    identity: path.join(daemonDir, 'identity.pem'),
    authorizedAgents: path.join(daemonDir, 'authorized_agents.json'),
  };
}

/** mkdir -p, then force 0700: a folder made earlier with a looser umask is tightened too. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/** Readers never see a half-written file: write a temp file beside it, then rename over. */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
