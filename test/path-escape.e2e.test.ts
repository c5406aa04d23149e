// A lease reaches the provider only under its credential's base URL, however the path is spelled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retire } from './support/retire.js';
import { rawRequest, type RawAnswer } from './support/raw-http.js';
import { waitFor } from './support/tether-process.js';
import { World } from './support/world.js';

let world: World;
let port: number;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  port = Number(new URL(world.state.proxyUrl).port);
  const base = `${world.mock.url}/team-a`;
  const relayed = await world.laptop(['creds', 'add', 'openai', '--name', 'relayed', '--base-url', base, '--store', 'file'], { input: `${world.keys.openai}\n` });
  expect(relayed.code, relayed.stderr).toBe(0);
  const print = `"${process.execPath}" -e "process.stdout.write('${world.keys.openai}')"`;
  const forward = await world.laptop(['creds', 'add', 'forwarded', '--provider', 'openai', '--command', print, '--ttl', '60s', '--base-url', base]);
  expect(forward.code, forward.stderr).toBe(0);
  await waitFor(async () => {
    const s = JSON.stringify(await world.daemonStatus());
    return (s.includes('"relayed"') && s.includes('"forwarded"')) || undefined;
  }, 'both credentials offered');
  for (const name of ['relayed', 'forwarded']) {
    const r = await world.token(name);
    expect(r.code, r.stderr).toBe(0);
    tokens[name] = r.stdout.trim();
  }
});

afterAll(() => retire(world));

const ESCAPES: [string, string][] = [
  ['plain', '/v1/../../../x'],
  ['plain, one level', '/v1/../../x'],
  ['encoded lower', '/v1/%2e%2e/%2e%2e/x'],
  ['encoded upper', '/v1/%2E%2E/%2E%2E/x'],
  ['double encoded', '/v1/%252e%252e/%252e%252e/x'],
  ['backslash', '/v1\\..\\..\\x'],
  ['encoded backslash', '/v1/..%5c..%5cx'],
  ['mixed', '/v1/.%2E/%2e./%252E%252e\\x'],
];

function send(name: string, path: string): Promise<RawAnswer> {
  const body = JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'hi' }] });
  return rawRequest(port, [`POST /${name}${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: Bearer ${tokens[name]}`, 'Content-Type: application/json'], body);
}

describe.each(['relayed', 'forwarded'])('a %s credential under https://…/team-a', (name) => {
  it('serves a path under the base URL', async () => {
    const before = world.mock.requests.length;
    const res = await send(name, '/v1/chat/completions');
    expect(world.mock.requests.slice(before).map((r) => r.path)).toEqual(['/team-a/v1/chat/completions']);
    expect(res.status).toBe(404); // the mock serves no /team-a: what matters is where it went
  });

  it.each(ESCAPES)('refuses the %s escape with a 400 in the provider shape, sending nothing', async (_variant, path) => {
    const before = world.mock.requests.length;
    const res = await send(name, path);
    expect(res.status, res.text).toBe(400);
    expect(res.headers['x-tether-error']).toBe('path-escape');
    expect(JSON.parse(res.body)).toMatchObject({ error: { type: 'invalid_request_error', tether_code: 'path-escape' } });
    expect(world.mock.requests.length).toBe(before);
  });

  it('never reached the provider outside the base path', () => {
    const outside = world.mock.requests.filter((r) => !r.path.startsWith('/team-a/') && r.headers.authorization === `Bearer ${world.keys.openai}`);
    expect(outside.map((r) => r.path)).toEqual([]);
  });
});
