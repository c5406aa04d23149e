import type http from 'node:http';
import { SUBSCRIPTION_OF, programOf, type RelayOpen } from '../protocol/index.js';
import type { ResolvedCredential } from './credentials.js';
import { AgentError } from './errors.js';

/** Headers a relayed request goes upstream with, edited in place. */
export type ApplyAuth = (headers: http.OutgoingHttpHeaders) => void;

export type AuthOutcome = { ok: true; apply: ApplyAuth } | { ok: false; code: 'caller-refused' | 'login-failed'; message: string };

/**
 * The upstream authorization of a subscription credential's request: refused (403) unless
 * the caller is the vendor's own client or the user widened the credential to any client;
 * otherwise the login's current access token in the vendor's form (Bearer, its required
 * comma-list headers merged with the client's, the account header).
 */
export async function authorizeSubscription(cred: ResolvedCredential, caller: RelayOpen['caller']): Promise<AuthOutcome> {
  const login = cred.login!;
  const sub = cred.spec.subscription!;
  if (!cred.entry.subscription?.anyClient) {
    const program = caller ? programOf(caller.cmdline) : undefined;
    if (!program || !sub.programs.includes(program)) {
      const api = Object.keys(SUBSCRIPTION_OF).find((k) => SUBSCRIPTION_OF[k] === cred.spec.id) ?? cred.spec.id;
      const who = program ? `"${program.slice(0, 60)}" (pid ${caller!.pid})` : 'a process tether could not identify';
      return {
        ok: false,
        code: 'caller-refused',
        message: `"${cred.entry.name}" is a ${sub.plan} subscription, lent only to ${sub.client}; this request came from ${who}. To lend it to any program, add it again on the laptop with \`tether creds add ${api} --subscription --any-client --replace\``,
      };
    }
  }
  let token: string;
  try {
    token = await login.accessToken();
  } catch (err) {
    const message = err instanceof AgentError ? err.message : 'the login could not be renewed';
    return { ok: false, code: 'login-failed', message };
  }
  return {
    ok: true,
    apply: (headers) => {
      headers[cred.keyHeader] = cred.keyPrefix + token;
      for (const [name, value] of Object.entries(sub.listHeaders ?? {})) headers[name] = withListValue(headers[name], value);
      if (sub.accountHeader && login.accountId) headers[sub.accountHeader] = login.accountId;
    },
  };
}

/** `a,b` plus `c` → `a,b,c`; already there → unchanged. */
function withListValue(current: http.OutgoingHttpHeader | undefined, value: string): string {
  const items = (Array.isArray(current) ? current.join(',') : current === undefined ? '' : String(current))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.includes(value)) items.push(value);
  return items.join(',');
}
