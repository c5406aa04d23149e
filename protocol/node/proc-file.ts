import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/**
 * The whole of a /proc file, read to its end. procfs says size 0 and hands out about a page
 * per read; Node 18's fs.promises.readFile stops after the first read (Node 20 reads on), which
 * cut /proc/net/tcp after its first ~30 sockets.
 */
export async function readProcFile(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(CHUNK), 0, CHUNK, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close();
  }
}
