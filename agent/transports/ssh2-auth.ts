// How the built-in transport logs in, in ssh's order (sshconnect2.c pubkey_prepare): ssh-agent
// keys that match an IdentityFile first, the agent's other keys unless IdentitiesOnly, then the
// IdentityFiles the agent does not hold; then keyboard-interactive and password through the
// prompt function, unless BatchMode. An agent that cannot be reached is skipped, not fatal.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, OpenSSHAgent, ParsedKey } from 'ssh2';
import { ssh2 } from './ssh2-lazy.js';
import { rsaModulusBits } from '../servers/known-hosts.js';
import type { SshHost } from '../servers/ssh-host.js';
import { plainKeyType } from './ssh2-options.js';

/** A question for the person at the laptop (terminal or tray); undefined = they declined. */
export interface PromptRequest {
  kind: 'password' | 'otp' | 'passphrase' | 'text';
  text: string;
  echo: boolean;
  host: string;
}
export type PromptFn = (req: PromptRequest) => Promise<string | undefined>;

export interface AuthSetup {
  host: SshHost;
  /** $SSH_AUTH_SOCK, used unless IdentityAgent names another socket (or `none`). */
  agentSocket?: string;
  env?: Record<string, string | undefined>;
  prompt?: PromptFn;
  /** Older callers: asked only for an encrypted IdentityFile's passphrase. */
  passphrase?: (file: string) => Promise<string | undefined>;
}

/** What happened during the login, for the one-line error if it fails. */
export interface AuthReport {
  wrongPassphrase: string[];
  agentUnreachable?: string;
}

/**
 * Encrypted IdentityFiles unlocked in this process, by path and mtime: a reconnect (after a
 * network loss, a wake) must not ask again, as ssh-agent would not. Memory only, never logged.
 */
const unlocked = new Map<string, { mtimeMs: number; key: ParsedKey }>();

/** IdentityAgent: a path, `none`, `SSH_AUTH_SOCK`, or `$VAR` naming the variable that holds one. */
export function agentSocketFor(setup: AuthSetup): string | undefined {
  const named = setup.host.identityAgent;
  if (named === undefined || named === 'SSH_AUTH_SOCK') return setup.agentSocket;
  if (named === 'none') return undefined;
  if (named.startsWith('$') && !named.startsWith('${')) return setup.env?.[named.slice(1)];
  return named;
}

function parsed(data: Buffer | string, passphrase?: string): ParsedKey | Error {
  const k = ssh2().utils.parseKey(data, passphrase);
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

/** An IdentityFile's public key: FILE.pub, else the private file if it is not encrypted (sshkey_load_public). */
function publicBlob(file: string): Buffer | undefined {
  for (const candidate of [`${file}.pub`, file]) {
    try {
      const k = parsed(readFileSync(candidate));
      if (!(k instanceof Error)) return k.getPublicSSH();
    } catch {
      // not there
    }
  }
  return undefined;
}

/** PubkeyAcceptedAlgorithms and RequiredRSASize, as ssh filters its identities. ssh2 signs RSA with rsa-sha2-256 first. */
function keyAllowed(host: SshHost, blob: Buffer, type: string): boolean {
  const accepted = host.pubkeyAcceptedAlgorithms;
  if (type === 'ssh-rsa') {
    if (rsaModulusBits(blob) < (host.requiredRsaSize ?? 1024)) return false;
    return !accepted || accepted.includes('rsa-sha2-256');
  }
  return !accepted || accepted.some((a) => plainKeyType(a) === type);
}

/** Lists the agent's keys; an unreachable agent (stale SSH_AUTH_SOCK) gives none. */
function agentKeys(socket: string): Promise<ParsedKey[] | Error> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Error('the agent did not answer within 5 s')), 5000);
    new (ssh2().OpenSSHAgent)(socket).getIdentities((err, keys) => {
      clearTimeout(timer);
      resolve(err ? err : ((keys ?? []) as ParsedKey[]));
    });
  });
}

/** The agent, showing ssh2 only the keys ssh would offer, in ssh's order (it still signs). */
function chosenKeysAgent(socket: string, keys: ParsedKey[]): OpenSSHAgent {
  const agent = new (ssh2().OpenSSHAgent)(socket);
  agent.getIdentities = (cb) => cb(undefined, keys);
  return agent;
}

type Step = { method: string; run: () => Promise<unknown> };
type Ask = (req: Omit<PromptRequest, 'host'>, file?: string) => Promise<string | undefined>;

/** ssh2's authHandler for this host, and the report that explains a failure. */
export async function prepareAuth(setup: AuthSetup): Promise<{ handler: AuthHandlerMiddleware; report: AuthReport }> {
  const { host } = setup;
  const username = host.user;
  const report: AuthReport = { wrongPassphrase: [] };
  const canAsk = !host.batchMode && (setup.prompt !== undefined || setup.passphrase !== undefined);
  const ask: Ask = async (req, file) => {
    if (host.batchMode) return undefined;
    if (setup.prompt) return setup.prompt({ ...req, host: host.alias });
    if (req.kind === 'passphrase' && file !== undefined && setup.passphrase) return setup.passphrase(file);
    return undefined;
  };

  const publickey: Step[] = [];
  if (host.pubkeyAuthentication !== false) {
    // A file whose private half is elsewhere (FILE.pub only) still picks the agent key it names.
    const files = host.identityFiles.map((file) => ({ file, pub: publicBlob(file) })).filter((f) => f.pub || existsSync(f.file));
    const socket = agentSocketFor(setup);
    const fromAgent: ParsedKey[] = [];
    if (socket) {
      const keys = await agentKeys(socket);
      if (keys instanceof Error) report.agentUnreachable = `${socket}: ${keys.message}`;
      else {
        const matched: ParsedKey[] = [];
        const others: ParsedKey[] = [];
        for (const key of keys) {
          const blob = key.getPublicSSH();
          const i = files.findIndex((f) => f.pub?.equals(blob));
          if (i >= 0) {
            files.splice(i, 1);
            matched.push(key);
          } else if (!host.identitiesOnly) others.push(key);
        }
        fromAgent.push(...[...matched, ...others].filter((k) => keyAllowed(host, k.getPublicSSH(), k.type)));
      }
    }
    if (fromAgent.length) publickey.push({ method: 'publickey', run: async () => ({ type: 'agent', username, agent: chosenKeysAgent(socket!, fromAgent) }) });
    for (const { file, pub } of files) {
      if (pub && !keyAllowed(host, pub, pub.subarray(4, 4 + pub.readUInt32BE(0)).toString('latin1'))) continue;
      publickey.push({ method: 'publickey', run: () => keyFile(username, file, ask, report, (k) => keyAllowed(host, k.getPublicSSH(), k.type)) });
    }
  }
  const tries = Math.max(1, host.numberOfPasswordPrompts ?? 3);
  const keyboard: Step[] = [];
  const password: Step[] = [];
  if (canAsk) {
    for (let i = 0; i < tries; i++) {
      if (host.kbdInteractiveAuthentication !== false) keyboard.push({ method: 'keyboard-interactive', run: async () => ({ type: 'keyboard-interactive', username, prompt: keyboardPrompt(ask) }) });
      if (host.passwordAuthentication !== false) {
        password.push({
          method: 'password',
          run: async () => {
            const typed = await ask({ kind: 'password', text: `${username}@${host.hostName}'s password: `, echo: false });
            return typed === undefined ? undefined : { type: 'password', username, password: typed };
          },
        });
      }
    }
  }
  const groups: Record<string, Step[]> = { publickey, 'keyboard-interactive': keyboard, password };
  const order = host.preferredAuthentications ?? ['gssapi-with-mic', 'hostbased', 'publickey', 'keyboard-interactive', 'password'];
  const steps: Step[] = [{ method: 'none', run: async () => ({ type: 'none', username }) }, ...order.flatMap((m) => groups[m] ?? [])];
  let i = 0;
  const handler: AuthHandlerMiddleware = (left: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
    const tryNext = (): void => {
      const step = steps[i++];
      if (!step) return next(false as never);
      // The server says which methods may still succeed: skip the others, as ssh does.
      if (step.method !== 'none' && left && !left.includes(step.method as AuthenticationType)) return tryNext();
      step.run().then(
        (method) => (method ? next(method as never) : tryNext()),
        () => tryNext(),
      );
    };
    tryNext();
  };
  return { handler, report };
}

/** Each server question goes to the prompt function; a declined one answers empty (the attempt fails). */
function keyboardPrompt(ask: Ask) {
  return (name: string, instructions: string, _lang: string, prompts: { prompt: string; echo?: boolean }[], finish: (answers: string[]) => void): void => {
    void (async () => {
      const answers: string[] = [];
      for (const [n, p] of prompts.entries()) {
        const text = [n === 0 ? name : '', n === 0 ? instructions : '', p.prompt].filter(Boolean).join('\n');
        const kind = /password/i.test(p.prompt) ? 'password' : /one[- ]time|otp|verification|token|code|2fa|authenticator/i.test(p.prompt) ? 'otp' : 'text';
        const answer = await ask({ kind, text, echo: p.echo === true }).catch(() => undefined);
        if (answer === undefined) return finish(prompts.map(() => ''));
        answers.push(answer);
      }
      finish(answers);
    })();
  };
}

async function keyFile(username: string, file: string, ask: Ask, report: AuthReport, allowed: (k: ParsedKey) => boolean): Promise<unknown> {
  if (!existsSync(file)) return undefined;
  const mtimeMs = statSync(file).mtimeMs;
  const cached = unlocked.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return { type: 'publickey', username, key: cached.key };
  const data = readFileSync(file);
  let key = parsed(data);
  if (key instanceof Error && /passphrase|encrypted/i.test(key.message)) {
    const passphrase = await ask({ kind: 'passphrase', text: `Enter passphrase for key '${file}': `, echo: false }, file);
    if (passphrase === undefined) return undefined;
    key = parsed(data, passphrase);
    if (key instanceof Error) {
      report.wrongPassphrase.push(file);
      return undefined;
    }
    unlocked.set(file, { mtimeMs, key });
  }
  if (key instanceof Error || !allowed(key)) return undefined;
  return { type: 'publickey', username, key };
}
