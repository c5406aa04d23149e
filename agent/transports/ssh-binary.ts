import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Which SSH a connect uses: the user's own OpenSSH client where there is one, else ssh2 built in. */
export type SshMode = 'openssh' | 'builtin';

/** `ssh` on PATH (or $TETHER_SSH_BINARY), or undefined when this laptop has no OpenSSH client. */
export function findSshBinary(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TETHER_SSH_BINARY) return env.TETHER_SSH_BINARY;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, 'ssh');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `ssh -G DEST`: the options ssh itself would use (Match, Include, tokens applied), as
 * lowercase keyword → values, in ssh's order. Undefined when ssh refuses the config.
 */
export function openSshOptions(binary: string, destination: string, env: NodeJS.ProcessEnv): Map<string, string[]> | undefined {
  let out: string;
  try {
    out = execFileSync(binary, ['-G', '--', destination], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch {
    return undefined;
  }
  const options = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const key = line.slice(0, sp);
    options.set(key, [...(options.get(key) ?? []), line.slice(sp + 1)]);
  }
  return options;
}

/** TETHER_HOME that the config's `SetEnv` gives the server, if any (tests and several homes use it). */
export function remoteHomeFrom(options: Map<string, string[]> | undefined): string | undefined {
  for (const value of options?.get('setenv') ?? []) {
    for (const pair of value.split(/\s+/)) if (pair.startsWith('TETHER_HOME=')) return pair.slice('TETHER_HOME='.length).replace(/^"|"$/g, '');
  }
  return undefined;
}
