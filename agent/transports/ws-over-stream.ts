import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { AgentError } from '../errors.js';
import { WS_OPTIONS } from './transport.js';

/** ws speaks HTTP over any Duplex (an SSH channel, ssh's stdio); it only needs the socket methods it calls on upgrade. */
export function websocketOver(stream: Duplex, serverName: string): Promise<WebSocket> {
  const socketish = stream as Duplex & { setNoDelay?: () => void; setTimeout?: () => void; setKeepAlive?: () => void };
  socketish.setNoDelay ??= () => {};
  socketish.setTimeout ??= () => {};
  socketish.setKeepAlive ??= () => {};
  return new Promise((resolve, reject) => {
    const ws = new WebSocket('ws://tether.invalid/', { ...WS_OPTIONS, createConnection: () => socketish as never });
    const fail = (err: Error) => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      stream.destroy();
      reject(new AgentError('connect-failed', `cannot reach the daemon on ${serverName}: ${err.message}`));
    };
    ws.once('error', fail);
    ws.once('open', () => {
      ws.pause();
      ws.off('error', fail);
      resolve(ws);
    });
  });
}
