import net from 'node:net';

/**
 * Joins this process's stdin/stdout to the daemon's Unix socket, byte for byte, so a laptop
 * whose only channel is an SSH session's stdio (the OpenSSH transport) reaches the daemon as
 * if it had forwarded the socket. Resolves with the exit code once either side is done.
 */
export function bridgeStdio(socketPath: string, input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      input.unpipe(socket);
      resolve(code);
    };
    socket.once('connect', () => {
      input.pipe(socket);
      socket.pipe(output);
    });
    // The laptop hung up (its ssh ended): the daemon sees the link close, which revokes.
    input.once('end', () => socket.end());
    input.once('error', () => finish(0));
    output.once('error', () => finish(0));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`tether: cannot reach the daemon at ${socketPath}: ${err.code ?? err.message}\n`);
      finish(2);
    });
    socket.once('close', () => finish(0));
  });
}
