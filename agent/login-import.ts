import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentError } from './errors.js';
import { parseLoginInput, type LoginTokens } from './subscription-login.js';

/**
 * `--import`: the laptop's own login of a vendor's CLI. Claude Code and Codex CLI rotate refresh
 * tokens (each renewal answers with a new one and the old one stops working), so a copy held by
 * Tether and the original held by the CLI would log each other out at the first renewal; and
 * neither CLI offers a way for a second program to share its store. Their logins with a refresh
 * token are therefore refused, naming the way to a login of Tether's own; one without (a plain
 * access token) is copied, which renews nothing and so breaks nothing. Google keeps a refresh
 * token across renewals (Gemini CLI's google-auth-library posts the same one each time), so two
 * holders renew independently and Gemini CLI's login is copied.
 */
interface CliLogin {
  client: string;
  file: (env: NodeJS.ProcessEnv) => string;
  /** Where the CLI's source shows the rotation (the README cites the same); absent: the vendor does not rotate. */
  rotation?: string;
}

const LOGINS: Readonly<Record<string, CliLogin>> = {
  'claude-subscription': {
    client: 'Claude Code',
    file: (env) => path.join(env.CLAUDE_CONFIG_DIR || path.join(env.HOME || os.homedir(), '.claude'), '.credentials.json'),
    rotation: 'its refresh answers with a new refresh token that replaces the stored one',
  },
  'chatgpt-subscription': {
    client: 'Codex CLI',
    file: (env) => path.join(env.CODEX_HOME || path.join(env.HOME || os.homedir(), '.codex'), 'auth.json'),
    rotation: 'its refresh answers with a new refresh token that replaces the one in auth.json',
  },
  'gemini-subscription': {
    client: 'Gemini CLI',
    file: (env) => path.join(env.GEMINI_CLI_HOME || env.HOME || os.homedir(), '.gemini', 'oauth_creds.json'),
  },
};

export function importLogin(provider: string, setupHint: string, env: NodeJS.ProcessEnv = process.env): LoginTokens {
  const cli = LOGINS[provider];
  if (!cli) throw new AgentError('import-refused', `there is no CLI login to import for ${provider}`);
  const file = cli.file(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentError('import-refused', `no ${cli.client} login at ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): log in with ${cli.client} first, or use ${setupHint}`);
  }
  let tokens: LoginTokens;
  try {
    tokens = parseLoginInput(text);
  } catch {
    throw new AgentError('import-refused', `${file} holds no ${cli.client} login tether can read (an API key, or a login kept in the system keychain): use ${setupHint}`);
  }
  if (tokens.refreshToken && cli.rotation) {
    throw new AgentError(
      'import-refused',
      `not imported: ${cli.client} rotates its refresh token (${cli.rotation}), so tether and ${cli.client} sharing the login in ${file} would log each other out; give tether a login of its own instead: ${setupHint}`,
    );
  }
  return tokens;
}
