// No zod here: `tether token` (a tool's key helper, run every few minutes) loads this file alone.
// The schemas of every call are in daemon-control-schemas.ts.

/**
 * The daemon's control API (`/_tether/v1/…` on its loopback port), written once: the server CLI
 * calls it, remote/control-api.ts answers it. Only processes of the daemon's own uid are served.
 *
 * Versions: a request says which one it speaks in DAEMON_CONTROL_HEADER. A request without the
 * header is v1 (bundles before the header), whose lease body named the credential `provider`;
 * the daemon still answers it, since a newer laptop's CLI and an older daemon that is waiting to
 * retire can meet on one server for a while. The daemon writes the version it speaks into
 * daemon.json (`controlVersion`), and the CLI speaks that one.
 */
export const DAEMON_CONTROL_ROOT = '/_tether';
export const DAEMON_CONTROL_HEADER = 'tether-daemon-control';
export const DAEMON_CONTROL_VERSION = 2;
export const DAEMON_CONTROL_VERSIONS: readonly number[] = [1, 2];

const route = <M extends 'GET' | 'POST'>(method: M, name: string) => ({ method, path: `${DAEMON_CONTROL_ROOT}/v1/${name}` }) as const;

/** Every call's route. The daemon routes from this table; daemon-control-schemas.ts gives each its schemas. */
export const DAEMON_CONTROL_ROUTES = {
  lease: route('POST', 'lease'),
  release: route('POST', 'release'),
  status: route('GET', 'status'),
  pairCode: route('POST', 'pair-code'),
  retire: route('POST', 'retire'),
} as const;
export type DaemonControlCall = keyof typeof DAEMON_CONTROL_ROUTES;

/** A lease body for a v1 daemon, which names the credential `provider`. */
export function leaseCallToV1(body: Record<string, unknown>): Record<string, unknown> {
  const { credential, ...rest } = body;
  return { ...rest, provider: credential };
}

/** A v1 lease body (`provider` for the credential name) read as v2. */
export function leaseCallFromV1(body: Record<string, unknown>): Record<string, unknown> {
  const { provider, ...rest } = body;
  return provider === undefined ? rest : { ...rest, credential: provider };
}

/** The daemon's answer to a lease call. */
export interface LeaseAnswer {
  token: string;
  leaseId: string;
  name: string;
  /** The provider spec the credential follows. */
  provider: string;
  laptop: string;
  scope: string;
  expiresAt: string;
  /** Where tools send requests: the proxy's URL for this credential. */
  baseUrl: string;
  proxyUrl: string;
}

export const LEASE_ANSWER_FIELDS = ['token', 'leaseId', 'name', 'provider', 'laptop', 'scope', 'expiresAt', 'baseUrl', 'proxyUrl'] as const satisfies readonly (keyof LeaseAnswer)[];

/** The answer's fields (others dropped, as the schema drops them), or undefined when it is not a lease answer. */
export function parseLeaseAnswer(value: unknown): LeaseAnswer | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const answer: Record<string, string> = {};
  for (const f of LEASE_ANSWER_FIELDS) {
    const v = fields[f];
    if (typeof v !== 'string') return undefined;
    answer[f] = v;
  }
  return answer as unknown as LeaseAnswer;
}
