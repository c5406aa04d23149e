import type { ErrorKind } from './providers.js';

// No zod here: the server's `tether token` path loads this table (remote/cli/exit-codes.ts).

/** Exit codes of the server CLI (DESIGN.md, "What a server-side user sees"). */
export const ExitCode = {
  ok: 0,
  usage: 1,
  noLaptop: 2,
  denied: 3,
  approvalTimeout: 4,
  unknownCredential: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Every answer Tether gives instead of the provider's carries its code in this header (and in the body's `error.tether_code`). */
export const TETHER_ERROR_HEADER = 'x-tether-error';

/** What a sentence may name: the laptop, the credential, and a detail only the caller knows. */
export interface RefusalFacts {
  laptop?: string;
  name?: string;
  detail?: string;
}

interface RefusalSpec {
  readonly status: number;
  /** The provider-shaped error it becomes on the proxy (providerErrorBody). */
  readonly kind: ErrorKind;
  readonly exit: ExitCode;
  readonly say: (f: RefusalFacts) => string;
}

const laptop = (f: RefusalFacts) => f.laptop ?? 'the laptop';
const detail = (fallback: string) => (f: RefusalFacts) => f.detail ?? fallback;

/**
 * Every refusal the daemon (its proxy and control API) and the agent's relay answer themselves,
 * by stable code: its HTTP status, the provider error kind it is shown as, the server CLI's
 * exit code, and its sentence. Tests and tools match the code, never the sentence. A lease that
 * ended is always a 4xx, never a 5xx: SDKs refresh a key on 401 and retry a 5xx.
 */
export const Refusals = {
  // Before any routing: the request itself (remote/loopback-server.ts).
  'malformed-request': { status: 400, kind: 'bad-request', exit: ExitCode.usage, say: detail('the request is malformed HTTP') },
  'not-loopback': { status: 403, kind: 'permission', exit: ExitCode.usage, say: () => 'requests must be addressed to a loopback host (127.0.0.1 or localhost)' },
  'browser-request': { status: 403, kind: 'permission', exit: ExitCode.usage, say: detail('browser requests are not served') },
  // The control API (remote/control-api.ts).
  'other-user': { status: 403, kind: 'permission', exit: ExitCode.usage, say: detail("only processes of the daemon's own uid may use its control API") },
  'version-mismatch': { status: 400, kind: 'bad-request', exit: ExitCode.usage, say: detail('the CLI and the daemon speak different control API versions: run the same tether bundle for both') },
  'unknown-call': { status: 404, kind: 'not-found', exit: ExitCode.usage, say: detail('no such control call') },
  'bad-request': { status: 400, kind: 'bad-request', exit: ExitCode.usage, say: detail('the request is not one this daemon understands') },
  'no-laptop': { status: 503, kind: 'unavailable', exit: ExitCode.noLaptop, say: () => 'no laptop is connected to this server: connect one with `tether agent --connect …` or the tray app' },
  'ambiguous-laptop': { status: 409, kind: 'bad-request', exit: ExitCode.usage, say: detail('several laptops are connected: pick one with --as NAME or TETHER_AS') },
  'unknown-laptop': { status: 404, kind: 'not-found', exit: ExitCode.usage, say: detail('no laptop of that name is connected: fix --as or TETHER_AS') },
  'unknown-credential': {
    status: 404,
    kind: 'not-found',
    exit: ExitCode.unknownCredential,
    say: (f) =>
      f.laptop === undefined
        ? `no credential named "${f.name ?? '?'}" is lent here: see \`tether status\` for what the laptop offers`
        : `${f.laptop} does not lend "${f.name ?? '?'}"${f.detail ? ` (${f.detail})` : ''}: add it on the laptop with \`tether creds add\``,
  },
  // The laptop's answer to a lease request (control API and `tether exec` handles alike).
  denied: { status: 403, kind: 'permission', exit: ExitCode.denied, say: (f) => `denied on the laptop (${laptop(f)}): ask its owner, or approve it there next time` },
  'approval-timeout': {
    status: 503,
    kind: 'unavailable',
    exit: ExitCode.approvalTimeout,
    say: (f) => `nobody answered the request on ${laptop(f)} in time: approve it on the laptop when it asks`,
  },
  'laptop-left': { status: 503, kind: 'unavailable', exit: ExitCode.noLaptop, say: (f) => `${laptop(f)} disconnected before answering: reconnect it and try again` },
  'grant-failed': { status: 502, kind: 'upstream', exit: ExitCode.usage, say: (f) => `${laptop(f)} could not grant the lease${f.detail ? ` (${f.detail})` : ''}: check the laptop` },
  // The proxy (remote/proxy.ts): which lease, and is it live.
  'unknown-path': { status: 404, kind: 'not-found', exit: ExitCode.usage, say: () => 'no such path: the proxy serves /<credential-name>/… (see `tether status`)' },
  'no-lease-token': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: (f) => `no lease token in the request: run \`tether token ${f.name ?? 'NAME'}\` and send it as the API key` },
  'unknown-lease': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: detail('unknown lease token: run `tether token` again') },
  'lease-ended': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: detail('the lease has ended: run `tether token` again') },
  'wrong-credential': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: detail('this lease is for another credential') },
  'method-not-relayed': { status: 405, kind: 'bad-request', exit: ExitCode.usage, say: detail('this method is not relayed') },
  'exec-ended': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: () => 'this `tether exec` has ended: its key works no more' },
  'laptop-away': {
    status: 503,
    kind: 'unavailable',
    exit: ExitCode.noLaptop,
    say: (f) => `laptop away: ${laptop(f)} is not connected to this server; this tool's requests work again once it reconnects`,
  },
  'credential-withdrawn': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: (f) => `${laptop(f)} no longer lends "${f.name ?? '?'}": add it on the laptop with \`tether creds add\`` },
  internal: { status: 500, kind: 'upstream', exit: ExitCode.usage, say: () => 'the tether daemon failed to answer: see its log' },
  // On the way to the provider (the agent's relay, or the daemon in forward mode).
  'path-escape': { status: 400, kind: 'bad-request', exit: ExitCode.usage, say: detail("the path leaves the credential's base URL") },
  'caller-refused': { status: 403, kind: 'permission', exit: ExitCode.usage, say: detail('this credential is not lent to this program') },
  'login-failed': { status: 401, kind: 'authentication', exit: ExitCode.usage, say: detail('the login could not be renewed') },
  'credential-unavailable': { status: 502, kind: 'upstream', exit: ExitCode.usage, say: detail('the credential is not available on the laptop') },
  'upstream-unreachable': { status: 502, kind: 'upstream', exit: ExitCode.usage, say: detail('cannot reach the provider') },
  'upstream-timeout': { status: 504, kind: 'timeout', exit: ExitCode.usage, say: detail('the provider did not answer in time') },
  'relay-failed': { status: 502, kind: 'upstream', exit: ExitCode.usage, say: detail('the relay through the laptop failed') },
} as const satisfies Record<string, RefusalSpec>;

export type RefusalCode = keyof typeof Refusals;

export function isRefusalCode(code: unknown): code is RefusalCode {
  return typeof code === 'string' && Object.hasOwn(Refusals, code);
}

/** One refusal, ready to send: its code, status, kind and sentence. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly status: number;
  readonly kind: ErrorKind;
  readonly message: string;
}

export function refusal(code: RefusalCode, facts: RefusalFacts = {}): Refusal {
  const spec: RefusalSpec = Refusals[code];
  return { code, status: spec.status, kind: spec.kind, message: spec.say(facts) };
}

/** The server CLI's exit code for a refusal code; anything unknown is a usage failure. */
export function exitCodeFor(code: string): ExitCode {
  return isRefusalCode(code) ? Refusals[code].exit : ExitCode.usage;
}
