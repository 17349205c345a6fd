// A TCP proxy on 127.0.0.1 in front of the sample, for tests that drop connections the way a network
// does: `drop()` destroys every connection through it (the client and the server both see the TCP
// connection end, no close frame: 1006), and while `hold()` is on, new connections are cut at once,
// so a reconnecting client keeps failing until `release()`. HTTP and WebSocket alike: bytes only.
import { createConnection, createServer } from 'node:net';

export class TcpProxy {
  /** @param {number} targetPort the sample's port on 127.0.0.1 */
  static async start(targetPort) {
    const proxy = new TcpProxy(targetPort);
    await new Promise((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.port = proxy.server.address().port;
        resolve();
      });
    });
    return proxy;
  }

  constructor(targetPort) {
    this.targetPort = targetPort;
    this.port = 0;
    this.held = false;
    this.refused = 0; // connections cut while held
    this.sockets = new Set();
    this.server = createServer((client) => this.accept(client));
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  accept(client) {
    if (this.held) {
      this.refused += 1;
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Cuts every connection through the proxy now. */
  drop() {
    for (const socket of [...this.sockets]) socket.destroy();
  }

  /** Cuts every connection, and every new one until release(). */
  hold() {
    this.held = true;
    this.drop();
  }

  release() {
    this.held = false;
  }

  async close() {
    this.drop();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}
