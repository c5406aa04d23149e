import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialBook, storedBaseUrl } from './credentials.js';
import { StoreShelf } from './secret-stores.js';
import { MemoryStore } from './vault/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function book(): CredentialBook {
  const dir = mkdtempSync(join(tmpdir(), 'tether-creds-'));
  dirs.push(dir);
  const memory = new MemoryStore();
  return new CredentialBook(join(dir, 'config.json'), new StoreShelf(() => Promise.resolve(memory)));
}

describe('storedBaseUrl', () => {
  it('drops the part OpenAI-compatible clients add themselves, and trailing slashes', () => {
    expect(storedBaseUrl('http://gpu-box:8000/v1', '/v1')).toBe('http://gpu-box:8000');
    expect(storedBaseUrl('http://localhost:11434/v1/', '/v1')).toBe('http://localhost:11434');
    expect(storedBaseUrl('https://gw.corp.example/llm/', '/v1')).toBe('https://gw.corp.example/llm');
    expect(storedBaseUrl('https://api.anthropic.com', '')).toBe('https://api.anthropic.com');
    // Only a whole trailing segment: /v10 or /apiv1 stay as given.
    expect(storedBaseUrl('http://h/v10', '/v1')).toBe('http://h/v10');
  });
});

describe('CredentialBook.add', () => {
  it('stores a vLLM/Ollama-style base URL without its /v1, so requests do not go to /v1/v1', async () => {
    const creds = book();
    await creds.add({ provider: 'custom', name: 'ollama', baseUrl: 'http://localhost:11434/v1', secret: 'k', store: 'memory' });
    const resolved = await creds.resolve('ollama');
    expect(resolved.baseUrl).toBe('http://localhost:11434');
  });

  it('sends a custom header\'s key bare unless a prefix is given; Authorization keeps Bearer', async () => {
    const creds = book();
    await creds.add({ provider: 'custom', name: 'gw-x', baseUrl: 'http://gw', keyHeader: 'X-Api-Key', secret: 'k1', store: 'memory' });
    await creds.add({ provider: 'custom', name: 'gw-token', baseUrl: 'http://gw', keyHeader: 'authorization', keyPrefix: 'Token ', secret: 'k2', store: 'memory' });
    await creds.add({ provider: 'custom', name: 'gw-auth', baseUrl: 'http://gw', keyHeader: 'authorization', secret: 'k3', store: 'memory' });
    expect(await creds.resolve('gw-x')).toMatchObject({ keyHeader: 'x-api-key', keyPrefix: '' });
    expect(await creds.resolve('gw-token')).toMatchObject({ keyHeader: 'authorization', keyPrefix: 'Token ' });
    expect(await creds.resolve('gw-auth')).toMatchObject({ keyHeader: 'authorization', keyPrefix: 'Bearer ' });
  });
});
