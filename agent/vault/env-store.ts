import { VaultError } from './errors.js';
import type { SecretStore } from './store.js';

const CREDENTIAL_PREFIX = 'credential:';

/** `credential:my-openai` → `TETHER_SECRET_MY_OPENAI`; undefined for accounts that are not credentials. */
export function envVariableFor(account: string): string | undefined {
  if (!account.startsWith(CREDENTIAL_PREFIX)) return undefined;
  const name = account.slice(CREDENTIAL_PREFIX.length);
  if (name === '') return undefined;
  // Only [A-Z0-9_] survive in a portable variable name; '-' (and anything else) becomes '_'.
  return 'TETHER_SECRET_' + name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** Read-only secrets from the environment, for CI and containers. Read live, never copied. */
export class EnvStore implements SecretStore {
  readonly kind = 'env' as const;
  readonly writable = false;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async get(account: string): Promise<string | undefined> {
    const variable = envVariableFor(account);
    if (variable === undefined) return undefined;
    const value = this.env[variable];
    return value === undefined || value === '' ? undefined : value;
  }

  async set(account: string, _secret: string): Promise<void> {
    throw readOnly(account);
  }

  async delete(account: string): Promise<boolean> {
    throw readOnly(account);
  }
}

function readOnly(account: string): VaultError {
  const variable = envVariableFor(account) ?? 'TETHER_SECRET_X';
  return new VaultError('read-only', `the env store is read-only: set ${variable} in the environment`);
}
