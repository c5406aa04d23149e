import { connect } from 'node:net';
import { parseRawAnswer, type RawAnswer } from '../../remote/testing/raw-answer.js';

export type { RawAnswer };

/**
 * One HTTP/1.1 request written byte for byte (fetch and http.request would normalise the
 * path and fix the Host up), read until the server closes.
 */
export function rawRequest(port: number, head: string[], body = ''): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1').on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRawAnswer(text)));
    // write, not end: a half-closed socket reads as a client that went away.
    socket.write([...head, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body].join('\r\n'));
  });
}
