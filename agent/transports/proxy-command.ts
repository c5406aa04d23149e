// ProxyCommand: ssh runs `exec COMMAND` under $SHELL (sshconnect.c ssh_proxy_connect) and
// speaks SSH over its stdin/stdout. The child dies with the connection; its stderr is kept
// (the last lines only) to explain a failure.
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { sshChildEnv } from '../servers/ssh-host.js';

export interface ProxyStream {
  stream: Duplex;
  /** The command's last words on stderr, for an error message. */
  stderr(): string;
}

export function spawnProxyCommand(command: string, env: NodeJS.ProcessEnv): ProxyStream {
  const shell = env.SHELL || '/bin/sh';
  const child = spawn(shell, ['-c', `exec ${command}`], { env: sshChildEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (tail = (tail + d).slice(-2000)));
  const stream = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  // EPIPE on a dead command, or spawn failing: the SSH client sees the stream close instead.
  for (const s of [child.stdin!, child.stdout!, child.stderr!]) s.on('error', () => {});
  stream.on('error', () => {});
  child.on('error', (err) => {
    tail += `\n${err.message}`;
    stream.destroy();
  });
  stream.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return {
    stream,
    stderr: () =>
      tail
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(-2)
        .join('; '),
  };
}
