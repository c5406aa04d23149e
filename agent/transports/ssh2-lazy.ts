import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';
import type constants from 'ssh2/lib/protocol/constants.js';

// ssh2 and its crypto load on first use, not with every laptop command (`tether creds`, `status`,
// the OpenSSH transport never need it). A local `require`, so bundlers leave the package outside.
const require = createRequire(import.meta.url);

export const ssh2 = (): typeof Ssh2 => require('ssh2') as typeof Ssh2;

/** The algorithm lists ssh2 speaks (see ssh2-constants.d.ts). */
export const ssh2Constants = (): typeof constants => require('ssh2/lib/protocol/constants.js') as typeof constants;
