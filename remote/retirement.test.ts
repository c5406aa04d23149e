import { describe, expect, it } from 'vitest';
import type { AgentLink } from './agent-link.js';
import type { ExecHandles } from './exec-handles.js';
import { Retirement } from './retirement.js';

function setup() {
  const links: { isOpen: boolean; name: string; info: { agentKey: string } }[] = [];
  const handles: unknown[] = [];
  const fired: string[] = [];
  const r = new Retirement({
    links: () => links as unknown as AgentLink[],
    handles: { list: () => handles } as unknown as ExecHandles,
    retire: (why) => fired.push(why),
  });
  return { r, links, handles, fired };
}

describe('Retirement', () => {
  it('goes at once when only the asking laptop (or nobody) is linked', () => {
    const { r, links, fired } = setup();
    links.push({ isOpen: true, name: 'me', info: { agentKey: 'A' } });
    expect(r.request('A')).toEqual({ retiring: true, inUse: { laptops: [], execs: 0 } });
    expect(fired).toEqual([]); // the control API fires once its answer is out
    r.fire('asked');
    r.fire('again');
    r.check();
    expect(fired).toEqual(['asked']);
  });

  it('stays while another laptop is linked or an exec holds a handle; goes once neither is left', () => {
    const { r, links, handles, fired } = setup();
    links.push({ isOpen: true, name: 'other', info: { agentKey: 'B' } });
    handles.push({});
    expect(r.request('A')).toEqual({ retiring: false, inUse: { laptops: ['other'], execs: 1 } });
    expect(r.isPending).toBe(true);
    links.length = 0;
    r.check();
    expect(fired).toEqual([]);
    handles.length = 0;
    r.check();
    expect(fired).toHaveLength(1);
  });

  it('never goes by itself unless asked', () => {
    const { r, fired } = setup();
    r.check();
    expect(r.isPending).toBe(false);
    expect(fired).toEqual([]);
  });
});
