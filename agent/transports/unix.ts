import WebSocket from 'ws';
import { AgentError } from '../errors.js';
import { WS_OPTIONS, type Transport } from './transport.js';

/** A daemon on this machine: WebSocket over its Unix socket (`ws+unix:///path:/`). */
export class UnixTransport implements Transport {
  constructor(
    readonly serverName: string,
    private readonly socketPath: string,
  ) {}

  connect(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws+unix://${this.socketPath}:/`, WS_OPTIONS);
      const fail = (err: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        reject(new AgentError('connect-failed', `cannot reach ${this.serverName}: ${code}`));
      };
      ws.once('error', fail);
      ws.once('open', () => {
        // Paused until the caller has listeners: hello may already be in the socket buffer.
        ws.pause();
        ws.off('error', fail);
        resolve(ws);
      });
    });
  }
}
