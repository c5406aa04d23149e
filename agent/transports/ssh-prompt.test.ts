import { describe, expect, it } from 'vitest';
import { classifyPrompt } from './ssh-prompt.js';

// Prompts as OpenSSH 9 and PAM modules word them (seen through SSH_ASKPASS in test/ssh-logins.e2e.test.ts).
const HOST_KEY = [
  "The authenticity of host '[127.0.0.1]:22999 ([127.0.0.1]:22999)' can't be established.",
  'ED25519 key fingerprint is SHA256:sJJ/7yj33YDqXDCidsBf9l0oPtom7VeSHsi7Hw9idfM.',
  'This key is not known by any other names.',
  'Are you sure you want to continue connecting (yes/no/[fingerprint])? ',
].join('\n');

describe('classifyPrompt', () => {
  it.each([
    ["Enter passphrase for key '/home/me/.ssh/id_ed25519': ", 'passphrase', false],
    ["Enter passphrase for key '/home/me/.ssh/id_ed25519' (will confirm each use): ", 'passphrase', false],
    ["root@127.0.0.1's password: ", 'password', false],
    ['(root@127.0.0.1) Password: ', 'password', false],
    ["(root@127.0.0.1) One-time password (OATH) for `root': ", 'otp', false],
    ['Verification code: ', 'otp', false],
    ['(me@login.hpc.example) Duo two-factor login for me\n\nEnter a passcode or select one of the following options: ', 'otp', false],
    ['Enter PIN for ED25519-SK key /home/me/.ssh/id_ed25519_sk: ', 'password', false],
    [HOST_KEY, 'host-key', true],
    ["Please type 'yes', 'no' or the fingerprint: ", 'host-key', true],
    ['Welcome! Your favourite colour? ', 'text', false],
  ] as const)('%j is %s (echo %s)', (text, kind, echo) => {
    const p = classifyPrompt(text, 'box');
    expect(p).toMatchObject({ kind, echo, host: 'box', text: text.trim() });
  });

  it('takes the fingerprint and key type out of the host-key question', () => {
    expect(classifyPrompt(HOST_KEY, 'box')).toMatchObject({ fingerprint: 'SHA256:sJJ/7yj33YDqXDCidsBf9l0oPtom7VeSHsi7Hw9idfM', keyType: 'ED25519' });
    expect(classifyPrompt("Please type 'yes', 'no' or the fingerprint: ", 'box').fingerprint).toBeUndefined();
  });

  it('goes by SSH_ASKPASS_PROMPT=confirm whatever the words', () => {
    expect(classifyPrompt('Allow use of key /home/me/.ssh/id_ed25519?\nKey fingerprint SHA256:abc.', 'box', 'confirm')).toMatchObject({ kind: 'confirm', echo: true });
  });
});
