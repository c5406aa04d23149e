import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyTypeOf, sshFingerprint } from '../servers/known-hosts.js';
import type { PresentedHostKey } from '../servers/host-key-trust.js';

/**
 * The host key the server presents, seen by the user's own ssh along its own route
 * (ProxyJump, ProxyCommand, HostKeyAlgorithms all apply), accepted into a throwaway
 * known_hosts and never logged in. For trust on first use: the person sees its fingerprint
 * and only then is it written to their known_hosts.
 */
export function presentedHostKey(binary: string, destination: string, env: NodeJS.ProcessEnv, options: Map<string, string[]> | undefined): Promise<PresentedHostKey | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-hostkey-'));
  const file = join(dir, 'known_hosts');
  const args = ['-T', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'HashKnownHosts=no', '-o', 'PreferredAuthentications=none-tether', '-o', 'ConnectTimeout=20', '--', destination, 'true'];
  return new Promise((resolve) => {
    execFile(binary, args, { env, timeout: 30_000 }, () => {
      let line: string[] | undefined;
      try {
        line = readFileSync(file, 'utf8').split('\n').find((l) => l.trim())?.trim().split(/\s+/);
      } catch {
        line = undefined;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      if (!line || line.length < 3) return resolve(undefined);
      const key = Buffer.from(line[2]!, 'base64');
      const first = (k: string) => options?.get(k)?.[0];
      const port = Number(first('port') ?? 22);
      resolve({
        alias: destination,
        host: first('hostkeyalias') ?? first('hostname') ?? destination,
        port: Number.isInteger(port) ? port : 22,
        keyType: keyTypeOf(key),
        key,
        fingerprint: sshFingerprint(key),
        knownHostsFile: (first('userknownhostsfile') ?? '').split(/\s+/)[0] ?? '',
      });
    });
  });
}
