// A TOTP account for pam_oath (liboath's usersfile), with codes computed here by RFC 6238
// with node:crypto, as an authenticator app would. 8 digits, so a secret scan can look for
// them without matching every 6-digit number in a log.
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export const OATH_STEP_S = 30;
export const OATH_DIGITS = 8;

export function totp(secret: Buffer, step: number, digits = OATH_DIGITS): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(value).padStart(digits, '0');
}

export class OathAccount {
  readonly secret = randomBytes(20);
  private lastStep = 0;

  /** Writes the usersfile (`HOTP/T30/8 user - hexsecret`); pam_oath rewrites it after each accepted code. */
  constructor(
    readonly usersFile: string,
    readonly user = 'root',
  ) {
    writeFileSync(usersFile, `HOTP/T${OATH_STEP_S}/${OATH_DIGITS}\t${user}\t-\t${this.secret.toString('hex')}\n`, { mode: 0o600 });
  }

  /**
   * The code for the current time step, or for a later one if this step's code was already
   * used (liboath refuses a replay); pam_oath's `window` accepts a few steps ahead.
   */
  nextCode(): string {
    const step = Math.max(Math.floor(Date.now() / 1000 / OATH_STEP_S), this.lastStep + 1);
    this.lastStep = step;
    return totp(this.secret, step);
  }

  /** A code that is no valid one now: same shape, from another secret. */
  wrongCode(): string {
    return totp(randomBytes(20), Math.floor(Date.now() / 1000 / OATH_STEP_S));
  }
}
