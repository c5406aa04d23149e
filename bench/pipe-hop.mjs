// One bare hop for the benchmark's floor: accepts connections (TCP on loopback or a Unix
// socket) and pipes each, byte for byte, to a new connection to the next hop. Two of these
// in a row have the relay's shape (client → daemon → Unix socket → agent → provider) with
// none of its work, so their added latency is what two more processes cost on this machine.
//
//   node bench/pipe-hop.mjs <listen> <target>     listen/target: tcp:HOST:PORT or unix:PATH
// Prints the address it listens on (same syntax) as its first stdout line.
import net from 'node:net';

const [listen, target] = process.argv.slice(2);
const parse = (spec) => {
  const m = /^(tcp):(.+):(\d+)$/.exec(spec ?? '') ?? /^(unix):(.+)$/.exec(spec ?? '');
  if (!m) throw new Error(`pipe-hop: expected tcp:HOST:PORT or unix:PATH, got ${spec}`);
  return m[1] === 'tcp' ? { host: m[2], port: Number(m[3]) } : { path: m[2] };
};
const to = parse(target);
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ ...to, noDelay: true });
  client.pipe(upstream).on('error', () => client.destroy());
  upstream.pipe(client).on('error', () => upstream.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
const at = parse(listen);
server.listen(at.path ?? { host: at.host, port: at.port }, () => {
  const a = server.address();
  process.stdout.write(`${typeof a === 'string' ? `unix:${a}` : `tcp:${a.address}:${a.port}`}\n`);
});
process.on('SIGTERM', () => process.exit(0));
