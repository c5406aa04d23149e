import { describe, expect, it } from 'vitest';
import { SshPromptQueue, type PendingSshPrompt, type SshPromptOutcome } from './ssh-prompt-queue.js';
import { classifyPrompt } from './transports/ssh-prompt.js';

const SECRET = 'hunter2-not-in-any-event';
const HOST_KEY =
  "The authenticity of host '[127.0.0.1]:22999 ([127.0.0.1]:22999)' can't be established.\nED25519 key fingerprint is SHA256:sJJ/7yj33YDqXDCidsBf9l0oPtom7VeSHsi7Hw9idfM.\nThis key is not known by any other names.\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ";

function recorded(queue: SshPromptQueue): { events: unknown[] } {
  const events: unknown[] = [];
  queue.on('added', (p) => events.push(['added', p]));
  queue.on('resolved', (p, o) => events.push(['resolved', p, o]));
  return { events };
}

describe('SshPromptQueue', () => {
  it('with nobody to ask, a login gets no answer at once (it fails now, not at the expiry)', async () => {
    const queue = new SshPromptQueue(60_000);
    const { events } = recorded(queue);
    expect(await queue.ask(classifyPrompt("root@box's password: ", 'box'))).toBeUndefined();
    expect(queue.pending()).toEqual([]);
    expect(events).toEqual([]);
    const detach = queue.attach();
    detach();
    detach(); // idempotent: one attach, one detach
    expect(queue.hasAnswerers).toBe(false);
  });

  it('lists a question with an id and expiry, hands the first answer to the login, and refuses a second', async () => {
    const queue = new SshPromptQueue(60_000);
    queue.attach();
    const { events } = recorded(queue);
    const before = Date.now();
    const answer = queue.ask({ ...classifyPrompt("root@127.0.0.1's password: ", 'box'), attempt: 2 });
    const [p] = queue.pending() as [PendingSshPrompt];
    expect(p).toMatchObject({ server: 'box', kind: 'password', echo: false, text: "root@127.0.0.1's password:", attempt: 2 });
    expect(p.id).toMatch(/^sp_[\w-]+$/);
    expect(p.expiresAt - p.createdAt).toBe(60_000);
    expect(p.createdAt).toBeGreaterThanOrEqual(before);
    expect(queue.get(p.id)).toBe(p);
    expect(queue.answer(p.id, SECRET)).toBe(true);
    expect(await answer).toBe(SECRET);
    expect(queue.answer(p.id, 'again')).toBe(false);
    expect(queue.cancel(p.id)).toBe(false);
    expect(queue.pending()).toEqual([]);
    expect(events.map((e) => (e as [string])[0])).toEqual(['added', 'resolved']);
    expect((events[1] as [string, PendingSshPrompt, SshPromptOutcome])[2]).toEqual({ by: 'person' });
    // What answerers are told never carries the answer.
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('expires a question nobody answers, and withdraws one whose ssh went away or that a person cancelled', async () => {
    const queue = new SshPromptQueue(40);
    queue.attach();
    const outcomes: SshPromptOutcome[] = [];
    queue.on('resolved', (_p, o) => outcomes.push(o));
    expect(await queue.ask(classifyPrompt('Verification code: ', 'box'))).toBeUndefined();

    const gone = new AbortController();
    const withdrawn = queue.ask(classifyPrompt('Verification code: ', 'box'), gone.signal);
    gone.abort();
    expect(await withdrawn).toBeUndefined();
    expect(await queue.ask(classifyPrompt('Verification code: ', 'box'), gone.signal)).toBeUndefined(); // already gone: not even listed

    const cancelled = queue.ask(classifyPrompt('Verification code: ', 'box'));
    expect(queue.cancel(queue.pending()[0]!.id)).toBe(true);
    expect(await cancelled).toBeUndefined();
    expect(outcomes).toEqual([{ by: 'expired' }, { by: 'cancelled' }, { by: 'cancelled' }]);
    expect(queue.pending()).toEqual([]);
  });

  it('answers a host-key question only yes, no or its fingerprint (ssh asks forever otherwise)', async () => {
    const queue = new SshPromptQueue(60_000);
    queue.attach();
    const ask = async (answer: string) => {
      const pending = queue.ask(classifyPrompt(HOST_KEY, 'box'));
      const [p] = queue.pending();
      expect(p).toMatchObject({ kind: 'host-key', echo: true, fingerprint: 'SHA256:sJJ/7yj33YDqXDCidsBf9l0oPtom7VeSHsi7Hw9idfM', keyType: 'ED25519' });
      queue.answer(p!.id, answer);
      return pending;
    };
    expect(await ask(' Yes\n')).toBe('yes');
    expect(await ask('SHA256:sJJ/7yj33YDqXDCidsBf9l0oPtom7VeSHsi7Hw9idfM')).toBe('SHA256:sJJ/7yj33YDqXDCidsBf9l0oPtom7VeSHsi7Hw9idfM');
    expect(await ask('sure')).toBe('no');
    expect(await ask('')).toBe('no');
  });

  it('sends one line: a line break would end ssh\'s read early', async () => {
    const queue = new SshPromptQueue(60_000);
    queue.attach();
    const pending = queue.ask(classifyPrompt('Password: ', 'box'));
    queue.answer(queue.pending()[0]!.id, 'first\nsecond');
    expect(await pending).toBe('first');
  });

  it('cancelAll withdraws everything (the agent is closing)', async () => {
    const queue = new SshPromptQueue(60_000);
    queue.attach();
    const a = queue.ask(classifyPrompt('Password: ', 'a'));
    const b = queue.ask(classifyPrompt('Password: ', 'b'));
    queue.cancelAll();
    expect(await Promise.all([a, b])).toEqual([undefined, undefined]);
  });
});
