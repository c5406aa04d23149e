import { describe, expect, it } from 'vitest';
import { HOP_BY_HOP_HEADERS, connectionOptions, endToEndHeaders } from './hop-by-hop.js';

describe('hop-by-hop headers (RFC 9110 §7.6.1)', () => {
  it('drops Connection, the fields it names, and the fields §7.6.1 lists even when not named', () => {
    const headers: [string, string][] = [
      ['Content-Type', 'application/json'],
      ['Connection', 'keep-alive, X-Trace ,'],
      ['X-Trace', '1'],
      ['Keep-Alive', 'timeout=5'],
      ['Proxy-Connection', 'keep-alive'],
      ['TE', 'trailers'],
      ['Transfer-Encoding', 'chunked'],
      ['Upgrade', 'websocket'],
      ['Trailer', 'X-Checksum'],
      ['Proxy-Authorization', 'Basic abc'],
      ['Proxy-Authenticate', 'Basic'],
      ['Host', 'localhost:1'],
      ['Expect', '100-continue'],
      ['Content-Length', '2'],
      ['OpenAI-Beta', 'assistants=v2'],
      ['Proxy-Status', 'cache; hit'],
      ['set-cookie', 'a'],
      ['set-cookie', 'b'],
    ];
    expect(endToEndHeaders(headers)).toEqual([
      ['Content-Type', 'application/json'],
      ['Content-Length', '2'],
      ['OpenAI-Beta', 'assistants=v2'],
      ['Proxy-Status', 'cache; hit'],
      ['set-cookie', 'a'],
      ['set-cookie', 'b'],
    ]);
  });

  it('reads every Connection header, case-insensitively', () => {
    expect([...connectionOptions([['connection', 'A'], ['CONNECTION', 'b, C'], ['x', 'd']])]).toEqual(['a', 'b', 'c']);
    expect(endToEndHeaders([['A', '1'], ['Connection', 'a']])).toEqual([]);
  });

  it('is the lower-case list both relays use', () => {
    for (const name of HOP_BY_HOP_HEADERS) expect(name).toBe(name.toLowerCase());
  });
});
