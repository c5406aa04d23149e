import type { SshPrompt, SshPrompter } from '../transports/ssh-prompt.js';
import { promptHidden } from './tty.js';

/**
 * SSH's questions at the agent's terminal, one at a time (two servers connecting at once
 * must not read each other's keystrokes). Secrets are read with echo off; nothing is kept.
 */
export function ttySshPrompter(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr): SshPrompter {
  let queue: Promise<unknown> = Promise.resolve();
  return (prompt: SshPrompt) => {
    const asked = queue.then(() => promptHidden(questionFor(prompt), input, output, prompt.echo)).catch(() => undefined);
    queue = asked;
    return asked;
  };
}

function questionFor(p: SshPrompt): string {
  const text = p.text.replace(/\s+$/, '');
  const label = p.host && !text.includes(p.host) ? `[${p.host}] ` : '';
  return `${label}${text}${/[:?]$/.test(text) ? ' ' : ': '}`;
}
