import { openStore, defaultStoreChoice, isStoreKind, VaultError, type StoreKind } from '../vault/index.js';
import { AgentError } from '../errors.js';
import { AgentControlClient, ControlRequestError } from '../control/client.js';
import { agentHome, agentPaths, type AgentPaths } from '../paths.js';
import type { StoreOpener } from '../secret-stores.js';
import { promptHidden } from './tty.js';
import { UsageError } from './args.js';
import { askVaultPassphrase, fileVaultNote } from './vault-passphrase.js';

export interface CliContext {
  paths: AgentPaths;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  openStore: StoreOpener;
  defaultStore(): Promise<StoreKind>;
  /** Set once defaultStore() chose the file because no keychain answered: why not. */
  keychainUnavailable(): string | undefined;
  control(): AgentControlClient;
}

export function cliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const home = agentHome({ env });
  const paths = agentPaths(home);
  let keychainUnavailable: string | undefined;
  const err = (line: string) => process.stderr.write(line + '\n');
  const passphrase = async () => {
    if (!process.stdin.isTTY) {
      throw new VaultError('no-passphrase', `${fileVaultNote(home, keychainUnavailable)}, which needs a passphrase: set TETHER_VAULT_PASSPHRASE or run at a terminal`);
    }
    return askVaultPassphrase({ home, keychainUnavailable, prompt: (q) => promptHidden(q), say: err });
  };
  return {
    paths,
    env,
    out: (line) => process.stdout.write(line + '\n'),
    err,
    openStore: (kind) => openStore(kind, { home, env, passphrase }),
    defaultStore: async () => {
      const choice = await defaultStoreChoice({ home, env });
      keychainUnavailable = choice.keychainUnavailable;
      return choice.kind;
    },
    keychainUnavailable: () => keychainUnavailable,
    control: () => new AgentControlClient(paths.socket),
  };
}

export function storeKindFlag(value: string | undefined, flag = '--store'): StoreKind | undefined {
  if (value === undefined) return undefined;
  if (!isStoreKind(value)) throw new UsageError(`${flag} ${value}: use keychain, file, env or memory`);
  return value;
}

/** Expected failures → one line and exit 1; nothing else gets a stack either. */
export function reportFailure(err: unknown, ctx: Pick<CliContext, 'err'>): number {
  if (err instanceof UsageError || err instanceof AgentError || err instanceof VaultError || err instanceof ControlRequestError) {
    ctx.err(err.message.startsWith('tether') ? err.message : `tether: ${err.message}`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    ctx.err(`tether: unexpected failure: ${message.split('\n')[0]}`);
  }
  return 1;
}
