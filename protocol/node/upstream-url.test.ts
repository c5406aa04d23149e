import { describe, expect, it } from 'vitest';
import { upstreamUrl } from './upstream-url.js';

const BASE = 'https://gw.example/team-a';

function href(base: string, path: string): string | undefined {
  const r = upstreamUrl(base, path);
  return r.ok ? r.url.href : undefined;
}

describe('upstreamUrl', () => {
  it.each([
    ['/v1/chat/completions', 'https://gw.example/team-a/v1/chat/completions'],
    ['/v1/models?limit=2&x=%2e%2e', 'https://gw.example/team-a/v1/models?limit=2&x=%2e%2e'],
    ['/v1beta/models/gemini-pro:streamGenerateContent?alt=sse', 'https://gw.example/team-a/v1beta/models/gemini-pro:streamGenerateContent?alt=sse'],
    ['/', 'https://gw.example/team-a/'],
    ['//x', 'https://gw.example/team-a//x'],
  ])('joins %s under the base path', (path, want) => {
    expect(href(BASE, path)).toBe(want);
  });

  it('joins under a base with a trailing slash, and under a bare origin', () => {
    expect(href('https://gw.example/team-a/', '/v1/x')).toBe('https://gw.example/team-a/v1/x');
    expect(href('http://127.0.0.1:9/', '/v1/x')).toBe('http://127.0.0.1:9/v1/x');
    expect(href('http://127.0.0.1:9', '//evil.example/x')).toBe('http://127.0.0.1:9//evil.example/x');
  });

  /** Every way of spelling "go up" a proxy, server or framework may decode. */
  const ESCAPES: [string, string][] = [
    ['plain', '/v1/../../../x'],
    ['single dot', '/v1/./x'],
    ['trailing', '/v1/..'],
    ['encoded lower', '/v1/%2e%2e/%2e%2e/x'],
    ['encoded upper', '/v1/%2E%2E/%2E%2E/x'],
    ['half encoded', '/v1/.%2e/x'],
    ['double encoded', '/v1/%252e%252e/%252e%252e/x'],
    ['triple encoded', '/v1/%25252e%25252e/x'],
    ['backslash', '/v1\\..\\..\\x'],
    ['encoded backslash', '/v1/..%5c..%5cx'],
    ['encoded slash', '/v1/..%2f..%2fx'],
    ['double encoded slash', '/v1/..%252f..%252fx'],
    ['mixed', '/v1/%2e./.%2E/%252E%2e\\x'],
    ['no leading slash', '@evil.example/x'],
    ['relative', '../x'],
    ['fragment', '/v1/x#../../y'],
    ['control byte', '/v1/\n/x'],
    ['malformed encoding', '/v1/%zz'],
    ['nested too deep', '/v1/%2525252525252e'],
  ];

  it.each(ESCAPES)('refuses %s', (_name, path) => {
    const r = upstreamUrl(BASE, path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toMatch(/refused|start with|leaves/);
  });

  it('refuses a base URL that cannot be used', () => {
    expect(upstreamUrl('not a url', '/v1').ok).toBe(false);
    expect(upstreamUrl('https://gw.example/a?x=1', '/v1').ok).toBe(false);
  });

  it('never leaves the base path, for random paths built from the dangerous pieces', () => {
    const pieces = ['..', '.', '%2e', '%2E', '%25', '2e', '/', '\\', '%5c', '%2f', 'v1', 'x', '?', '%', '@', ':', ';'];
    let seed = 0x5eed;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % pieces.length;
    for (let i = 0; i < 20_000; i++) {
      let path = '/';
      const n = 1 + (i % 12);
      for (let j = 0; j < n; j++) path += pieces[next()];
      const r = upstreamUrl(BASE, path);
      if (!r.ok) continue;
      expect(r.url.origin, path).toBe('https://gw.example');
      expect(r.url.pathname.startsWith('/team-a/'), path).toBe(true);
      // And no server decoding the path again finds a way up.
      const decoded = decodeURIComponent(r.url.pathname);
      expect(decoded.split(/[/\\]/).includes('..'), path).toBe(false);
    }
  });
});
