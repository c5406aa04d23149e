import { createHash } from 'node:crypto';
import path from 'node:path';

const FIRST = 20_000;
const COUNT = 10_000;

/**
 * The proxy port a daemon takes when `--proxy-port` is not given: the same for a user (and
 * TETHER_HOME, when set) on every start, so tool configs written by `tether setup` survive a
 * restart. 20000–29999 lies below the kernel's ephemeral range (Linux: 32768+), so daemons
 * started with `--proxy-port 0` (tests, benchmarks) never take it.
 */
export function defaultProxyPort(uid: number, tetherHomeEnv: string | undefined): number {
  const home = tetherHomeEnv ? path.resolve(tetherHomeEnv) : '';
  const digest = createHash('sha256').update(`tether-proxy\0${uid}\0${home}`).digest();
  return FIRST + (digest.readUInt32BE(0) % COUNT);
}
