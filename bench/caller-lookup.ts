// What lending a subscription only to its vendor's CLI costs: the daemon reads the calling
// process from /proc once per TCP connection (remote/request-caller.ts). Measured beside a
// baseline in the same run: one request-response on a fresh loopback connection. Prints the
// number of processes on the machine, since the scan grows with it.
//   npx tsx bench/caller-lookup.ts [rounds]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { callerOf } from '../remote/request-caller.js';
import { ms, ratio, summarize } from './stats.js';

const rounds = Number(process.argv[2] ?? 200);
const lookups: number[] = [];
const cached: number[] = [];
const server = http.createServer((req, res) => {
  const mode = req.url ?? '/';
  const started = performance.now();
  const done = () => res.end('ok');
  if (mode === '/plain') return done();
  // The first request on a connection scans /proc; the second on the same connection is answered from the socket's cache.
  void callerOf(req).then((caller) => {
    (mode === '/again' ? cached : lookups).push(performance.now() - started);
    if (!caller) throw new Error('caller not found');
    done();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

// The client runs in its own process, as a tool on the server does (its socket is found in another
// pid's fd table). Every connection is from that one process, so after the first the last caller's
// pid is the right guess: the 'first request' line is the cost of a tool's new connection.
const client = spawn(process.execPath, ['-e', `
const http = require('node:http');
const get = (agent, path) => new Promise((ok, bad) => http.get({ host: '127.0.0.1', port: ${port}, path, agent }, (r) => { r.resume(); r.on('end', ok); }).on('error', bad));
(async () => {
  const plain = [];
  for (let i = 0; i < ${rounds}; i++) {
    const t = performance.now();
    await get(new http.Agent({ keepAlive: false }), '/plain');
    plain.push(performance.now() - t);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await get(agent, '/first');
    await get(agent, '/again');
    agent.destroy();
  }
  process.stdout.write(JSON.stringify(plain));
})();
`], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
client.stdout.on('data', (d: Buffer) => (out += d));
await new Promise((resolve) => client.on('exit', resolve));
server.close();

const plain = summarize(JSON.parse(out) as number[]);
const scan = summarize(lookups);
const hit = summarize(cached);
const processes = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;
console.log(`caller lookup, ${rounds} connections, ${processes} processes on this machine`);
console.log(`  baseline: a request on a fresh loopback connection   p50 ${ms(plain.p50)}  p99 ${ms(plain.p99)}`);
console.log(`  /proc scan, first request on a connection            p50 ${ms(scan.p50)}  p99 ${ms(scan.p99)}  (${ratio(scan.p50, plain.p50)} the baseline at p50)`);
console.log(`  later requests on the same connection (cached)       p50 ${ms(hit.p50, 3)}  p99 ${ms(hit.p99, 3)}`);
