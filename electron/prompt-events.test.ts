import { describe, expect, it } from 'vitest';
import type { ControlEvent, SshPromptView } from '../protocol/control.js';
import { opensPromptWindow } from './prompt-events.js';

const prompt: SshPromptView = { id: 'sp_1', server: 'box', kind: 'password', text: "root@box's password:", echo: false, attempt: 1, createdAt: 0, expiresAt: 1 };

describe('prompt window', () => {
  it('opens for a new SSH question and a new approval, not for their resolution or other events', () => {
    const events: [ControlEvent, boolean][] = [
      [{ event: 'ssh-prompt', data: { kind: 'added', prompt } }, true],
      [{ event: 'ssh-prompt', data: { kind: 'resolved', prompt, by: 'person' } }, false],
      [{ event: 'approval', data: { kind: 'added', approval: { id: 'ap_1', server: 'box', provider: 'openai', process: { pid: 1, uid: 0, cmdline: [], parents: [] }, createdAt: 0, expiresAt: 1, asks: 1 } } }, true],
      [{ event: 'link', data: { server: 'box', state: 'READY' } }, false],
    ];
    for (const [event, opens] of events) expect(opensPromptWindow(event), JSON.stringify(event)).toBe(opens);
  });

});
