// The laptop's `tether attach` command line against the server's parser of it.
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { attachArgs } from '../agent/transports/ssh-bootstrap.js';
import { ATTACH_OPTIONS } from '../remote/cli/attach.js';

describe('tether attach arguments', () => {
  it('a key or name that starts with "-" reaches the server unchanged', () => {
    const agentKey = '-' + 'A'.repeat(42);
    const args = attachArgs({ agentKey, agentName: '-laptop', idleExitMs: 600000, heartbeatMs: 1000 });
    expect(args[0]).toBe('attach');
    const { values } = parseArgs({ args: args.slice(1), options: ATTACH_OPTIONS, allowPositionals: false });
    expect(values).toEqual({ 'agent-key': agentKey, 'agent-name': '-laptop', 'idle-exit-ms': '600000', 'heartbeat-ms': '1000' });
  });

  it('leaves out the flags it was not given', () => {
    const { values } = parseArgs({ args: attachArgs({ agentKey: 'k', agentName: 'n' }).slice(1), options: ATTACH_OPTIONS, allowPositionals: false });
    expect(values).toEqual({ 'agent-key': 'k', 'agent-name': 'n' });
  });
});
