import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import type { PinnedServer } from '../config.js';
import { AgentError } from '../errors.js';
import { WS_OPTIONS, type Transport } from './transport.js';

/** 'SHA256:' + base64 (no padding) of sha256 over the certificate's DER, as the daemon prints it. */
export function certFingerprint(der: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
}

/**
 * A daemon on a TCP port (`tether serve --listen`), over wss:// with a self-signed
 * certificate. No CA decides: at pairing the certificate's fingerprint is pinned beside the
 * daemon key, and later connections must present that same certificate. The check runs
 * right after the TLS and HTTP upgrade, before the first protocol frame is read or sent.
 */
export class WssTransport implements Transport {
  /** The fingerprint the daemon presented on the last connect (stored with the pin at pairing). */
  tlsFingerprint: string | undefined;

  constructor(
    readonly serverName: string,
    private readonly url: string,
    private readonly pinned: () => PinnedServer | undefined,
  ) {}

  connect(): Promise<WebSocket> {
    const pin = this.pinned();
    return new Promise((resolve, reject) => {
      // Self-signed by design: trust comes from the pinned fingerprint, checked below.
      const ws = new WebSocket(this.url, { ...WS_OPTIONS, rejectUnauthorized: false, handshakeTimeout: 10_000 });
      let presented: string | undefined;
      const fail = (err: AgentError) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(err);
      };
      ws.once('upgrade', (res: IncomingMessage) => {
        const der = (res.socket as TLSSocket).getPeerCertificate?.()?.raw;
        presented = der ? certFingerprint(der) : undefined;
      });
      ws.once('error', (err: NodeJS.ErrnoException) => fail(new AgentError('connect-failed', `cannot reach ${this.serverName}: ${err.code ?? err.message}`)));
      ws.once('open', () => {
        ws.pause();
        if (!presented) return fail(new AgentError('connect-failed', `${this.serverName} presented no TLS certificate`));
        if (pin && pin.tlsFingerprint !== presented) {
          const expected = pin.tlsFingerprint ?? 'none (paired without wss)';
          return fail(
            new AgentError(
              'tls-cert-changed',
              `${this.serverName} presents TLS certificate ${presented}, but ${expected} is pinned for it: refusing to connect; if the server was reinstalled, run \`tether servers unpin ${this.serverName}\` and pair again`,
            ),
          );
        }
        this.tlsFingerprint = presented;
        ws.removeAllListeners('error');
        resolve(ws);
      });
    });
  }
}
