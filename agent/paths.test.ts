import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDuration } from './cli/args.js';
import { readConfig, writeConfig } from './config.js';
import { AgentError } from './errors.js';
import { agentHome, agentPaths, ensureDirs } from './paths.js';
import { tempDir } from './testing/temp.js';
import { writeFileSync } from 'node:fs';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('paths and config', () => {
  it('honours TETHER_HOME, XDG_CONFIG_HOME and each platform', () => {
    expect(agentHome({ env: { TETHER_HOME: '/x' }, platform: 'linux', homeDir: '/h' })).toBe('/x');
    expect(agentHome({ env: { XDG_CONFIG_HOME: '/cfg' }, platform: 'linux', homeDir: '/h' })).toBe('/cfg/tether');
    expect(agentHome({ env: {}, platform: 'linux', homeDir: '/h' })).toBe('/h/.config/tether');
    expect(agentHome({ env: {}, platform: 'darwin', homeDir: '/h' })).toBe('/h/Library/Application Support/Tether');
    expect(agentPaths('C:\\t', 'win32').socket).toMatch(/^\\\\\.\\pipe\\tether-[0-9a-f]{16}$/);
  });

  it('makes run/ 0700 and writes config.json 0600, refusing a broken one with bad-config', () => {
    tmp = tempDir();
    const paths = agentPaths(join(tmp.dir, 'home'));
    ensureDirs(paths);
    expect(statSync(paths.run).mode & 0o777).toBe(0o700);
    writeConfig(paths.config, { name: 'lap', credentials: [], servers: {} });
    expect(statSync(paths.config).mode & 0o777).toBe(0o600);
    expect(readConfig(paths.config).name).toBe('lap');
    writeFileSync(paths.config, '{"credentials": 3}');
    expect(() => readConfig(paths.config)).toThrow(AgentError);
  });

  it('parses durations in ms, s, m and h', () => {
    expect(parseDuration('60s', '--x')).toBe(60_000);
    expect(parseDuration('10m', '--x')).toBe(600_000);
    expect(parseDuration('1h', '--x')).toBe(3_600_000);
    expect(parseDuration('250ms', '--x')).toBe(250);
    expect(() => parseDuration('soon', '--x')).toThrow(/duration/);
  });
});
