import type { ControlEvent } from '../protocol/control.js';

/**
 * Whether an agent event opens the prompt window: a request waiting for approval, or an SSH
 * login asking something (a passphrase, a password, a one-time code, an unknown host key).
 * The window is shown without taking focus, so keystrokes meant for another app never land
 * in it; the person clicks into it to answer.
 */
export function opensPromptWindow(event: ControlEvent): boolean {
  if (event.event === 'approval') return event.data.kind === 'added';
  if (event.event === 'ssh-prompt') return event.data.kind === 'added';
  return false;
}

