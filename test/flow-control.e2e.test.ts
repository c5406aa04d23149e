// A client that stops reading a 50 MB response must not make the agent or the daemon buffer
// it: credit-based flow control stops the provider itself, while other streams go on.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { waitFor } from './support/tether-process.js';

let world: World;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
});

afterAll(() => retire(world));

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Sends a request on a raw socket and never reads the answer (the socket is paused). */
function stalledRequest(token: string): Socket {
  const { port } = new URL(world.state.proxyUrl);
  const body = JSON.stringify({ model: 'mock-big-50mb', stream: true, messages: [] });
  const socket = connect(Number(port), '127.0.0.1');
  socket.setNoDelay(true);
  socket.write(
    `POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.pause();
  return socket;
}

it('a stalled 50 MB stream keeps memory at the window while another stream completes', async () => {
  const token = (await world.token('openai')).stdout.trim();
  const agentPid = world.agent!.pid;
  const daemonPid = world.daemon.pid;
  // Warm both processes up so the baseline includes their ordinary working set.
  expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
  const baseline = { agent: rssBytes(agentPid), daemon: rssBytes(daemonPid) };

  const before = world.mock.requests.length;
  const stalled = stalledRequest(token);
  const big = await waitFor(() => world.mock.requests[before], 'the big request to reach the provider');
  // Let the pipeline fill up and stall.
  let last = -1;
  await waitFor(
    async () => {
      await new Promise((r) => setTimeout(r, 300));
      const now = big.bytesWritten;
      const settled = now === last;
      last = now;
      return settled ? true : undefined;
    },
    'the provider to be blocked',
    20_000,
  );

  const second = await world.proxy('/openai/v1/chat/completions', token, {
    body: { model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] },
  });
  expect(second.status).toBe(200);
  expect(await second.text()).toContain('[DONE]');

  const grown = { agent: rssBytes(agentPid) - baseline.agent, daemon: rssBytes(daemonPid) - baseline.daemon };
  console.log(
    `stalled 50 MiB stream: provider wrote ${(big.bytesWritten / 2 ** 20).toFixed(1)} MiB before blocking; ` +
      `RSS growth agent ${(grown.agent / 2 ** 20).toFixed(1)} MiB, daemon ${(grown.daemon / 2 ** 20).toFixed(1)} MiB`,
  );
  // Window (256 KiB) + kernel socket buffers on three hops; nowhere near the 50 MiB body.
  expect(big.bytesWritten).toBeLessThan(12 * 2 ** 20);
  expect(grown.agent).toBeLessThan(24 * 2 ** 20);
  expect(grown.daemon).toBeLessThan(24 * 2 ** 20);

  stalled.destroy();
  await big.done;
  expect(big.aborted).toBe(true);
});
