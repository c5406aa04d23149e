import { AgentError } from '../errors.js';
import type { Transport } from './transport.js';
import { UnixTransport } from './unix.js';

export type { Transport } from './transport.js';

export function transportFor(url: string): Transport {
  if (url.startsWith('unix:')) {
    const path = url.slice('unix:'.length);
    if (!path.startsWith('/')) throw new AgentError('bad-url', `"${url}": a unix: URL needs an absolute socket path`);
    return new UnixTransport(url, path);
  }
  throw new AgentError('bad-url', `cannot connect to "${url}": only unix:/path/to/tether.sock is supported so far`);
}
