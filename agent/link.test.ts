import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig, writeConfig } from './config.js';
import { fingerprint } from '../protocol/node/crypto.js';
import { generateIdentity } from './crypto.js';
import { AgentError } from './errors.js';
import { Link, type LinkState } from './link.js';
import { FakeDaemon } from './testing/fake-daemon.js';
import { tempDir } from './testing/temp.js';
import { transportFor } from './transports/index.js';

const PAIR_CODE = '0123-4567-89AB-C';
let tmp: ReturnType<typeof tempDir>;
let daemon: FakeDaemon | undefined;
let link: Link | undefined;

beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await link?.close();
  await daemon?.close();
  link = daemon = undefined;
  tmp.cleanup();
});

const identity = { ...generateIdentity(), name: 'test-laptop' };
const sock = () => join(tmp.dir, 'd.sock');
const url = () => `unix:${sock()}`;

function pinFor(d: FakeDaemon, serverKey = d.publicKey) {
  return { url: url(), serverId: 'fake-box', serverKey, fingerprint: fingerprint(serverKey), pairedAt: new Date().toISOString() };
}

async function failure(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AgentError) return err;
    throw err;
  }
  throw new Error('expected the link to be refused');
}

describe('Link handshake', () => {
  it('refuses a daemon whose key differs from the pin, before any auth is sent', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock() });
    const other = generateIdentity().publicKey;
    link = new Link({ transport: transportFor(url()), identity, pinned: pinFor(daemon, other) });
    const err = await failure(link.open());
    expect(err.code).toBe('server-key-mismatch');
    expect(err.message).toContain(daemon.fingerprint);
    expect(err.message).toContain(fingerprint(other));
    expect(link.state).toBe<LinkState>('CLOSED');
    await daemon.connected();
    expect(daemon.handshakeMessages).toEqual([]);
  });

  it('refuses an unpinned daemon without a pair code, naming its key', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock() });
    link = new Link({ transport: transportFor(url()), identity, pinned: undefined });
    const err = await failure(link.open());
    expect(err.code).toBe('unknown-server');
    expect(err.message).toContain(daemon.fingerprint);
    expect(daemon.handshakeMessages).toEqual([]);
  });

  it('pairs with a code, checks the welcome mac and pins the key', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock(), pairCode: PAIR_CODE });
    const configFile = join(tmp.dir, 'config.json');
    link = new Link({
      transport: transportFor(url()),
      identity,
      pinned: undefined,
      pairCode: PAIR_CODE.toLowerCase(),
      onPaired: (server) => writeConfig(configFile, { credentials: [], servers: { [url()]: server } }),
    });
    await link.open();
    expect(link.state).toBe('READY');
    expect(daemon.handshakeMessages.map((m) => m.t)).toEqual(['pair']);
    const pin = readConfig(configFile).servers[url()];
    expect(pin).toMatchObject({ serverKey: daemon.publicKey, fingerprint: daemon.fingerprint, serverId: 'fake-box' });
  });

  it('refuses to pair when the daemon does not prove it knows the code', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock(), pairCode: PAIR_CODE, welcome: 'bad-mac' });
    let pinned = false;
    link = new Link({ transport: transportFor(url()), identity, pinned: undefined, pairCode: PAIR_CODE, onPaired: () => (pinned = true) });
    expect((await failure(link.open())).code).toBe('bad-welcome');
    expect(pinned).toBe(false);
  });

  it('refuses a welcome with a bad signature', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock(), welcome: 'bad-sig' });
    link = new Link({ transport: transportFor(url()), identity, pinned: pinFor(daemon) });
    expect((await failure(link.open())).code).toBe('bad-welcome');
    expect(daemon.handshakeMessages.map((m) => m.t)).toEqual(['auth']);
  });

  it('reports a daemon refusal as one coded error', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock(), pairCode: PAIR_CODE });
    link = new Link({ transport: transportFor(url()), identity, pinned: undefined, pairCode: 'ZZZZ-ZZZZ-ZZZZ-Z' });
    expect((await failure(link.open())).code).toBe('refused');
  });

  it('reports a missing socket as connect-failed', async () => {
    link = new Link({ transport: transportFor(url()), identity, pinned: undefined });
    expect((await failure(link.open())).code).toBe('connect-failed');
  });
});

describe('Link after welcome', () => {
  it('answers malformed frames with an error frame and stays up', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock() });
    link = new Link({ transport: transportFor(url()), identity, pinned: pinFor(daemon) });
    await link.open();
    daemon.sendRaw('{"t":');
    expect((await daemon.nextOf('error')).code).toBe('bad-json');
    daemon.sendRaw('{"t":"steal-keys"}');
    expect((await daemon.nextOf('error')).code).toBe('unknown-type');
    daemon.sendRaw(new Uint8Array([0x7f, 0, 0, 0, 1]));
    expect((await daemon.nextOf('error')).code).toBe('bad-frame');
    expect(link.state).toBe('READY');
  });

  it('sends heartbeats and declares the link dead after 3 silent heartbeats', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock(), heartbeatMs: 50, answerHeartbeats: false });
    link = new Link({ transport: transportFor(url()), identity, pinned: pinFor(daemon) });
    const closed = new Promise<string | undefined>((resolve) => link!.on('state', (s, r) => s === 'CLOSED' && resolve(r?.code)));
    await link.open();
    await daemon.nextOf('hb');
    expect(await closed).toBe('heartbeat-timeout');
  });

  it('says bye on close', async () => {
    daemon = await FakeDaemon.start({ socketPath: sock() });
    link = new Link({ transport: transportFor(url()), identity, pinned: pinFor(daemon) });
    await link.open();
    await link.close('test over');
    expect(await daemon.nextOf('bye')).toEqual({ t: 'bye', reason: 'test over' });
    expect(link.state).toBe('CLOSED');
  });
});
