/**
 * Run by keychain-store.e2e.test.ts inside `dbus-run-session` with an unlocked
 * gnome-keyring: drives the keychain store and checks the Secret Service independently
 * (secret-tool, or keytar itself when secret-tool is not installed). Prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { KeychainStore, openStore } from '../index.js';

const secret = process.env.TT_SECRET ?? '';
const externalSecret = process.env.TT_EXTERNAL_SECRET ?? '';
const home = process.env.TETHER_HOME ?? '';
const account = 'credential:openai';

type Lookup = (service: string, account: string) => Promise<string | undefined>;
type Store = (service: string, account: string, secret: string) => Promise<void>;

async function independentCheck(): Promise<{ tool: string; lookup: Lookup; store: Store }> {
  const probe = spawnSync('secret-tool', ['--version'], { encoding: 'utf8' });
  if (!probe.error) {
    return {
      tool: 'secret-tool',
      lookup: async (service, acct) => {
        const r = spawnSync('secret-tool', ['lookup', 'service', service, 'account', acct], { encoding: 'utf8' });
        return r.status === 0 ? r.stdout : undefined;
      },
      store: async (service, acct, value) => {
        // keytar looks items up under its schema name, so an item made elsewhere must carry it.
        const attributes = ['xdg:schema', 'org.freedesktop.Secret.Generic', 'service', service, 'account', acct];
        const r = spawnSync('secret-tool', ['store', '--label', 'tether e2e', ...attributes], {
          input: value,
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`secret-tool store failed: ${r.stderr}`);
      },
    };
  }
  const mod = await import('keytar');
  const keytar = mod.default;
  return {
    tool: 'keytar',
    lookup: async (service, acct) => (await keytar.getPassword(service, acct)) ?? undefined,
    store: (service, acct, value) => keytar.setPassword(service, acct, value),
  };
}

const store = await openStore('keychain', { home, env: process.env });
if (!(store instanceof KeychainStore)) throw new Error('openStore did not return a KeychainStore');
const check = await independentCheck();
const other = await openStore('keychain', { home, env: { ...process.env, TETHER_HOME: home + '-other' } });

await store.set(account, secret);
const got = await store.get(account);
const listed = await store.accounts();
const seenByTool = await check.lookup(store.service, account);
const seenByOtherInstance = await other.get(account);

await check.store(store.service, 'credential:external', externalSecret);
const externalViaStore = await store.get('credential:external');

const deleted = await store.delete(account);
const deletedAgain = await store.delete(account);
const afterDelete = await store.get(account);
const toolAfterDelete = await check.lookup(store.service, account);
const listedAfterDelete = await store.accounts();

process.stdout.write(
  JSON.stringify({
    kind: store.kind,
    service: store.service,
    tool: check.tool,
    gotMatches: got === secret,
    listed,
    toolMatches: seenByTool === secret,
    seenByOtherInstance: seenByOtherInstance ?? null,
    externalMatches: externalViaStore === externalSecret,
    deleted,
    deletedAgain,
    afterDelete: afterDelete ?? null,
    toolAfterDelete: toolAfterDelete ?? null,
    listedAfterDelete,
  }) + '\n',
);
