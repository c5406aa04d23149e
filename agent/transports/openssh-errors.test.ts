import { describe, expect, it } from 'vitest';
import { openSshFailure } from './openssh-errors.js';

const PW = "root@127.0.0.1's password: ";
const OTP = "(root@127.0.0.1) One-time password (OATH) for `root': ";
const KEY = "Enter passphrase for key '/home/me/.ssh/id_ed25519': ";

describe('openSshFailure: a refused login in one line that says which answer was wrong', () => {
  it.each([
    ['root@127.0.0.1: Permission denied (password).', [PW, PW, PW], 0, 'permission denied (password): the password was refused 3 times'],
    ['root@127.0.0.1: Permission denied (keyboard-interactive).', [OTP, OTP, OTP], 0, 'permission denied (keyboard-interactive): the one-time code was refused 3 times'],
    ['root@127.0.0.1: Permission denied (publickey).', [KEY, KEY, KEY], 0, 'permission denied (publickey): the passphrase was refused 3 times'],
    ['root@127.0.0.1: Permission denied (publickey).', [KEY], 0, 'permission denied (publickey): the key was unlocked, but the server did not accept it'],
    ['root@127.0.0.1: Permission denied (password).', [PW], 1, "permission denied (password): nobody answered ssh's question (root@127.0.0.1's password)"],
    ['root@127.0.0.1: Permission denied (publickey).', [], 0, 'permission denied (publickey): check the key, ssh-agent or password that `ssh box` uses'],
  ])('%s after %j', (stderr, asked, unanswered, says) => {
    const err = openSshFailure('box', `Warning: Permanently added '[127.0.0.1]:22' (ED25519) to the list of known hosts.\n${stderr}\n`, 255, asked, unanswered);
    expect(err.code).toBe('ssh-auth-failed');
    expect(err.message).not.toContain('\n');
    expect(err.message.startsWith(`SSH login to box failed: ${says}`)).toBe(true);
  });
});
