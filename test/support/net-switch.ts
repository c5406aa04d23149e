// A TCP relay on loopback that can go silent: `cut()` stops every byte in both directions
// on open connections and holds new ones, without closing anything (a Wi-Fi drop, not a
// clean close); `restore()` lets everything flow again, like packets retransmitted.
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  held: { to: 'client' | 'upstream'; data: Buffer }[];
}

export class NetSwitch {
  private server: net.Server | undefined;
  private readonly pairs = new Set<Pair>();
  private down = false;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  get isDown(): boolean {
    return this.down;
  }

  cut(): void {
    this.down = true;
  }

  restore(): void {
    this.down = false;
    for (const pair of this.pairs) {
      if (!pair.upstream) this.dial(pair);
      for (const { to, data } of pair.held.splice(0)) (to === 'client' ? pair.client : pair.upstream)?.write(data);
    }
  }

  private accept(client: net.Socket): void {
    const pair: Pair = { client, upstream: undefined, held: [] };
    this.pairs.add(pair);
    client.on('error', () => {});
    client.on('close', () => {
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    });
    client.on('data', (data: Buffer) => this.carry(pair, 'upstream', data));
    if (!this.down) this.dial(pair);
  }

  private dial(pair: Pair): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', () => pair.client.destroy());
    upstream.on('data', (data: Buffer) => this.carry(pair, 'client', data));
  }

  private carry(pair: Pair, to: 'client' | 'upstream', data: Buffer): void {
    const dest = to === 'client' ? pair.client : pair.upstream;
    if (this.down || !dest || pair.held.length) pair.held.push({ to, data });
    else dest.write(data);
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
