import os from 'node:os';
import path from 'node:path';

/**
 * Where the server side keeps its few files (docs/ARCHITECTURE.md, "Paths"). Read by every
 * `tether token`: no node:crypto here (remote/private-files.ts writes them).
 */
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
