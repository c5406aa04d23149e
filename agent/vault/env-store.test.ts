import { describe, expect, it } from 'vitest';
import { VaultError, envVariableFor, openStore } from './index.js';

describe('env store', () => {
  it('maps credential accounts to TETHER_SECRET_<NAME>', () => {
    expect(envVariableFor('credential:openai')).toBe('TETHER_SECRET_OPENAI');
    expect(envVariableFor('credential:my-anthropic')).toBe('TETHER_SECRET_MY_ANTHROPIC');
    expect(envVariableFor('credential:')).toBeUndefined();
    expect(envVariableFor('agent:key')).toBeUndefined();
  });

  it('reads the given environment live and ignores other accounts', async () => {
    const env: NodeJS.ProcessEnv = { TETHER_SECRET_MY_OPENAI: 'from-env', TETHER_SECRET_EMPTY: '' };
    const store = await openStore('env', { home: '/nonexistent', env });
    expect(store.kind).toBe('env');
    expect(store.writable).toBe(false);
    expect(await store.get('credential:my-openai')).toBe('from-env');
    expect(await store.get('credential:empty')).toBeUndefined();
    expect(await store.get('credential:missing')).toBeUndefined();
    expect(await store.get('TETHER_SECRET_MY_OPENAI')).toBeUndefined();
    env.TETHER_SECRET_LATER = 'added later';
    expect(await store.get('credential:later')).toBe('added later');
  });

  it('refuses writes with the read-only code and names the variable to set', async () => {
    const env: NodeJS.ProcessEnv = { TETHER_SECRET_OPENAI: 'from-env' };
    const store = await openStore('env', { home: '/nonexistent', env });
    for (const attempt of [store.set('credential:openai', 'new'), store.delete('credential:openai')]) {
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VaultError);
      expect((err as VaultError).code).toBe('read-only');
      expect((err as VaultError).message).toContain('TETHER_SECRET_OPENAI');
      expect((err as VaultError).message).not.toContain('from-env');
    }
    expect(env.TETHER_SECRET_OPENAI).toBe('from-env');
  });

  it('refuses an unknown store kind with not-found', async () => {
    const err = await openStore('vault' as never, { home: '/nonexistent' }).catch((e: unknown) => e);
    expect((err as VaultError).code).toBe('not-found');
  });
});
