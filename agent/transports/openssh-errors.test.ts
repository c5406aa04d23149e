// ssh's own failure text (OpenSSH 9.x, as it prints it) → one line and a stable code.
import { describe, expect, it } from 'vitest';
import { openSshFailure } from './openssh-errors.js';

const FP = 'SHA256:nAyT5/GCU6l3J3hUVhutEsDsWAQ7d3wtvkbKipX07zM';

describe('openSshFailure', () => {
  it.each([
    [
      'changed key',
      `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nThe fingerprint for the ED25519 key sent by the remote host is\n${FP}.\nOffending ED25519 key in /home/me/.ssh/known_hosts:3\nHost key for [127.0.0.1]:2222 has changed and you have requested strict checking.\nHost key verification failed.`,
      'host-key-changed',
      /HOST KEY CHANGED for box: it now presents ED25519 SHA256:nAyT5.* \(\/home\/me\/\.ssh\/known_hosts:3\)/,
    ],
    ['revoked key', `@@@@@@@\n@       WARNING: REVOKED HOST KEY DETECTED!               @\nThe ED25519 host key for [127.0.0.1]:2222 is marked as revoked.\nHost key verification failed.`, 'host-key-changed', /HOST KEY REVOKED for box/],
    ['unknown key in batch mode', 'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.', 'host-key-unknown', /unknown host key for box: ED25519; if that is/],
    ['no key accepted', 'root@127.0.0.1: Permission denied (publickey).', 'ssh-auth-failed', /SSH login to box failed: permission denied \(publickey\)/],
    ['too many failures', 'Received disconnect from 127.0.0.1 port 2222:2: Too many authentication failures\nDisconnected from 127.0.0.1 port 2222', 'ssh-auth-failed', /SSH login to box failed: .*Too many authentication failures|Disconnected/],
    ['no such host', 'ssh: Could not resolve hostname nosuchbox: Name or service not known', 'connect-failed', /ssh cannot resolve its host name: `tether servers list` shows/],
    ['refused', 'ssh: connect to host 127.0.0.1 port 1: Connection refused', 'connect-failed', /cannot reach box over SSH: connect to host 127\.0\.0\.1 port 1: Connection refused$/],
    ['bad config', '/home/me/.ssh/config: line 3: Bad configuration option: hostnam\n/home/me/.ssh/config: terminating, 1 bad configuration options', 'bad-config', /ssh refuses its configuration for box: .*terminating, 1 bad configuration options/],
  ])('%s', (_what, stderr, code, message) => {
    const err = openSshFailure('box', stderr, 255);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('says when the name is no Host of ~/.ssh/config either, pointing at `tether servers list`', () => {
    const err = openSshFailure('gpubox', 'ssh: Could not resolve hostname gpubox: Name or service not known', 255, [], 0, false);
    expect(err.message).toBe('cannot reach gpubox: "gpubox" is not a Host in ~/.ssh/config and ssh cannot resolve it as a host name: `tether servers list` shows the servers you can name');
  });

  it("takes an unknown key's fingerprint from the prompt ssh could not get answered", () => {
    const asked = [`The authenticity of host '[127.0.0.1]:2222 ([127.0.0.1]:2222)' can't be established.\nED25519 key fingerprint is ${FP}.\nThis key is not known by any other names.\nAre you sure you want to continue connecting (yes/no/[fingerprint])? `];
    const err = openSshFailure('box', 'Host key verification failed.', 255, asked);
    expect(err.code).toBe('host-key-unknown');
    expect(err.message).toContain(`ED25519 ${FP}`);
  });
});

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
