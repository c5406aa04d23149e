import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AgentError } from './errors.js';
import { parseLoginInput, type LoginTokens } from './subscription-login.js';

/**
 * `--login`: the vendor's own sign-in, run on this laptop with its config folder pointed at a
 * fresh folder of tether's (0700, in tether's home). What the CLI saves there becomes a login
 * of tether's own — its own refresh token, so the laptop's CLI stays logged in — and the
 * folder is deleted whatever happens. The laptop's own `~/.claude` / `~/.codex` are not touched.
 */
interface SignIn {
  client: string;
  program: string;
  args: readonly string[];
  /** The variable that moves the CLI's config folder. */
  homeVar: string;
  /** Where in that folder the CLI writes its login. */
  file: string;
}

const SIGN_INS: Readonly<Record<string, SignIn>> = {
  'claude-subscription': { client: 'Claude Code', program: 'claude', args: ['auth', 'login'], homeVar: 'CLAUDE_CONFIG_DIR', file: '.credentials.json' },
  // Codex may keep its login in the system keyring instead; a file is asked for, so tether can read it.
  'chatgpt-subscription': { client: 'Codex CLI', program: 'codex', args: ['login', '-c', 'cli_auth_credentials_store="file"'], homeVar: 'CODEX_HOME', file: 'auth.json' },
};

export interface VendorLoginOptions {
  /** tether's home: the temporary folder goes there (0700), not in a shared /tmp. */
  home: string;
  env?: NodeJS.ProcessEnv;
}

export async function runVendorLogin(provider: string, setupHint: string, opts: VendorLoginOptions): Promise<LoginTokens> {
  const signIn = SIGN_INS[provider];
  if (!signIn) throw new AgentError('sign-in-failed', `--login is for Claude Code and Codex CLI logins; for ${provider} use ${setupHint}`);
  const folder = mkdtempSync(path.join(opts.home, 'login-'));
  try {
    const command = `${signIn.program} ${signIn.args.join(' ')}`;
    const code = await new Promise<number | string>((resolve) => {
      const child = spawn(signIn.program, signIn.args, { stdio: 'inherit', env: { ...(opts.env ?? process.env), [signIn.homeVar]: folder } });
      child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      child.once('exit', (status, signal) => resolve(status ?? signal ?? 1));
    });
    if (code === 'ENOENT') throw new AgentError('sign-in-failed', `${signIn.program} is not on PATH: install ${signIn.client}, or use ${setupHint}`);
    if (code !== 0) throw new AgentError('sign-in-failed', `\`${command}\` ended with ${code}: the sign-in did not finish, nothing was added`);
    let text: string;
    try {
      text = readFileSync(path.join(folder, signIn.file), 'utf8');
    } catch {
      throw new AgentError('sign-in-failed', `\`${command}\` finished but saved no login in ${signIn.homeVar} (it may keep it in the system keychain): use ${setupHint}`);
    }
    try {
      return parseLoginInput(text);
    } catch {
      throw new AgentError('sign-in-failed', `\`${command}\` saved a login tether cannot read (an API key rather than a ${signIn.client} sign-in?): use ${setupHint}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
