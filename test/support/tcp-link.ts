import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP hop between the app and Postgres that a test controls: `cut()` is a database that goes away
 * (connections reset, new ones refused), `restore()` brings it back, `delayMs` makes every answer slow, `freeze()` is
 * a server that stops answering (connections stay open, answers are held) until `thaw()`.
 */
export class TcpLink {
  delayMs = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  private readonly fromApp = new Set<Socket>();
  private frozen = false;
  private trafficWaiters: Array<() => void> = [];

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  /** Opens a link to the database of `url`; `viaLink` is the same URL going through the link. */
  static async to(url: string): Promise<{ link: TcpLink; viaLink: string }> {
    const target = new URL(url);
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const link = new TcpLink({ host: target.hostname, port: Number(target.port) }, port);
    await link.restore();
    const viaLink = new URL(url);
    viaLink.hostname = '127.0.0.1';
    viaLink.port = String(port);
    return { link, viaLink: viaLink.toString() };
  }

  async restore(): Promise<void> {
    if (this.server?.listening) return;
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.upstreams.add(upstream);
      upstream.on('close', () => this.upstreams.delete(upstream));
      this.fromApp.add(client);
      client.on('close', () => this.fromApp.delete(client));
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.on('data', () => this.trafficWaiters.splice(0).forEach((wake) => wake()));
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (this.delayMs === 0) client.write(chunk);
        else setTimeout(() => client.writable && client.write(chunk), this.delayMs);
      });
      upstream.on('end', () => client.end());
      if (this.frozen) upstream.pause();
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', resolve);
    });
  }

  /** Resolves when the app next sends something to the database (e.g. the query of a request in flight). */
  nextQuery(): Promise<void> {
    return new Promise((resolve) => this.trafficWaiters.push(resolve));
  }

  /** Whether one of the connections open to the server right now is closed later: `check()` answers. */
  watchOpenConnections(): { check(): boolean } {
    const open = [...this.fromApp];
    return { check: () => open.some((socket) => socket.destroyed) };
  }

  /** The server stops answering: what it sends is held, on open connections and new ones. */
  freeze(): void {
    this.frozen = true;
    for (const upstream of this.upstreams) upstream.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const upstream of this.upstreams) upstream.resume();
  }

  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
