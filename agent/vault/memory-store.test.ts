import { describe, expect, it } from 'vitest';
import { MemoryStore, openStore } from './index.js';

describe('memory store', () => {
  it('keeps secrets in this instance only', async () => {
    const store = await openStore('memory', { home: '/nonexistent' });
    expect(store.kind).toBe('memory');
    expect(store.writable).toBe(true);
    expect(await store.get('credential:openai')).toBeUndefined();
    await store.set('credential:openai', 'one');
    await store.set('credential:openai', 'two');
    expect(await store.get('credential:openai')).toBe('two');
    expect(await (store as MemoryStore).accounts()).toEqual(['credential:openai']);

    const other = await openStore('memory', { home: '/nonexistent' });
    expect(await other.get('credential:openai')).toBeUndefined();

    expect(await store.delete('credential:openai')).toBe(true);
    expect(await store.delete('credential:openai')).toBe(false);
    expect(await store.get('credential:openai')).toBeUndefined();
  });
});
