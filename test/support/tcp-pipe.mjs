// A ProxyCommand without nc: `node tcp-pipe.mjs HOST PORT [more words]` joins stdin/stdout to a
// TCP connection. With TT_PIPE_LOG set it appends its arguments there (and the names of any
// TETHER_* variables it was given), so a test can compare what ssh and Tether expanded.
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const [host, port] = process.argv.slice(2);
const tetherVars = Object.keys(process.env).filter((k) => k.startsWith('TETHER_'));
if (process.env.TT_PIPE_LOG) appendFileSync(process.env.TT_PIPE_LOG, JSON.stringify({ args: process.argv.slice(2), tetherVars }) + '\n');
const socket = net.connect(Number(port), host);
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('error', (err) => {
  process.stderr.write(`tcp-pipe: ${err.message}\n`);
  process.exit(1);
});
socket.on('close', () => process.exit(0));
process.stdin.on('end', () => socket.end());
