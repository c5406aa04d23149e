// wss:// transport: `tether serve --listen` with a self-signed certificate made at first
// start; pairing pins the certificate's fingerprint beside the daemon key; a later
// connection presenting another certificate or another daemon key is refused; wrong pair
// codes are penalized per source address, and the fifth in a row bans that address.
import { copyFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SERVER_BIN, TetherProcess, readJsonIfExists, waitFor } from './support/tether-process.js';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { freePort } from './support/ports.js';

let world: World | undefined;
const extra: TetherProcess[] = [];

afterEach(async () => {
  for (const p of extra.splice(0)) await p.stop();
  await retire(world);
  world = undefined;
});

interface ListenState {
  listen: string;
  tlsFingerprint: string;
}


async function wssWorld(): Promise<{ w: World; url: string; tls: string }> {
  const port = await freePort();
  const w = (world = await World.start({ noAgent: true, daemonArgs: ['--listen', `127.0.0.1:${port}`] }));
  const state = readJsonIfExists<ListenState>(join(w.serverHome, 'run/daemon.json'))!;
  expect(state.listen).toBe(`wss://127.0.0.1:${port}`);
  expect(state.tlsFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  return { w, url: state.listen, tls: state.tlsFingerprint };
}

function agent(w: World, url: string, args: string[], home = w.laptopHome): TetherProcess {
  const p = new TetherProcess(['agent', '--connect', url, '--approve', 'allow', ...args], {
    home,
    env: { TETHER_VAULT_PASSPHRASE: w.passphrase },
    logFile: w.logFile('agent'),
  });
  if (home === w.laptopHome) w.agent = p;
  else extra.push(p);
  return p;
}

async function exitOf(p: TetherProcess): Promise<number | null> {
  if (!p.exited) await new Promise((r) => p.child.once('exit', r));
  return p.child.exitCode;
}

function pinOf(w: World, url: string): { fingerprint: string; tlsFingerprint?: string } | undefined {
  return readJsonIfExists<{ servers: Record<string, { fingerprint: string; tlsFingerprint?: string }> }>(join(w.laptopHome, 'config.json'))?.servers[url];
}

describe('wss transport', () => {
  it('pairing pins certificate and daemon key; lend → use → disconnect → 401 over wss; later connections need no code', async () => {
    const { w, url, tls } = await wssWorld();
    const keyFile = join(w.serverHome, 'daemon/tls-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const paired = await w.server(['pair-code', '--json']);
    const { code, fingerprint, tlsFingerprint } = JSON.parse(paired.stdout) as { code: string; fingerprint: string; tlsFingerprint: string };
    expect(tlsFingerprint).toBe(tls);

    agent(w, url, ['--pair', code]);
    await w.waitForLaptops(1);
    expect(pinOf(w, url)).toMatchObject({ fingerprint, tlsFingerprint: tls });

    const token = (await w.token('openai')).stdout.trim();
    expect((await w.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
    await w.agent!.stop();
    const refused = await w.proxy('/openai/v1/chat/completions', token);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/laptop disconnected/);

    // A daemon restart keeps its certificate: the pinned laptop comes back without a code.
    await w.daemon.stop();
    await w.startDaemon();
    agent(w, url, []);
    await w.waitForLaptops(1);
    expect(readJsonIfExists<ListenState>(join(w.serverHome, 'run/daemon.json'))?.tlsFingerprint).toBe(tls);
  });

  it('a different certificate, or the same certificate with a different daemon key, is refused', async () => {
    const { w, url, tls } = await wssWorld();
    agent(w, url, ['--pair', await w.pairCode()]);
    await w.waitForLaptops(1);
    await w.agent!.stop();
    await w.daemon.stop();
    const port = new URL(url).port;

    // Same certificate and port, another daemon identity (an impostor holding a copy of the cert).
    const impostorHome = join(w.root, 'impostor');
    mkdirSync(join(impostorHome, 'daemon'), { recursive: true, mode: 0o700 });
    for (const f of ['tls-cert.pem', 'tls-key.pem']) copyFileSync(join(w.serverHome, 'daemon', f), join(impostorHome, 'daemon', f));
    const impostor = new TetherProcess(['serve', '--proxy-port', '0', '--listen', `127.0.0.1:${port}`], { home: impostorHome, bin: SERVER_BIN, logFile: w.logFile('impostor') });
    extra.push(impostor);
    await impostor.waitForOutput(/listening/);
    const keyRefused = agent(w, url, []);
    expect(await exitOf(keyRefused)).not.toBe(0);
    expect(keyRefused.text).toMatch(/presents key SHA256:\S+, but SHA256:\S+ is pinned/);
    await impostor.stop();

    // The real daemon key, a new certificate (made at start because the old one is gone).
    for (const f of ['tls-cert.pem', 'tls-key.pem']) renameSync(join(w.serverHome, 'daemon', f), join(w.root, f));
    await w.startDaemon();
    const fresh = readJsonIfExists<ListenState>(join(w.serverHome, 'run/daemon.json'))!.tlsFingerprint;
    expect(fresh).not.toBe(tls);
    const certRefused = agent(w, url, []);
    expect(await exitOf(certRefused)).not.toBe(0);
    expect(certRefused.text).toContain(`presents TLS certificate ${fresh}, but ${tls} is pinned`);
    expect((await w.daemonStatus())?.laptops).toEqual([]);
  });

  it('five wrong pair codes in a row ban the source address; another address is still heard', async () => {
    const { w, url } = await wssWorld();
    const stranger = join(w.root, 'stranger');
    for (let i = 0; i < 5; i++) {
      const wrong = agent(w, url, ['--pair', 'ABCD-EFGH-JKMN-P'], stranger);
      expect(await exitOf(wrong)).not.toBe(0);
      expect(wrong.text).toMatch(/pair/i);
    }
    // Even the right code is refused now, from this address.
    const banned = agent(w, url, ['--pair', await w.pairCode()], stranger);
    expect(await exitOf(banned)).not.toBe(0);
    expect(banned.text).toMatch(/too many failed handshakes/);

    // Another loopback address is a different source: the daemon still says hello there.
    const first = await new Promise<{ t: string }>((resolve, reject) => {
      const ws = new WebSocket(url, { rejectUnauthorized: false, localAddress: '127.0.0.2' });
      ws.once('message', (data) => {
        ws.terminate();
        resolve(JSON.parse(String(data)) as { t: string });
      });
      ws.once('error', reject);
    });
    expect(first.t).toBe('hello');
    await waitFor(() => (w.daemon.text.includes('rate-limited') ? true : undefined), 'daemon logs the refusal');
  });
});
