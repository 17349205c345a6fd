// A scriptable stand-in for the browser WebSocket, for unit tests of the client's timing logic.
// Each test makes its own class with createFakeWebSocket() so that instances never leak between tests.

export function isAllowedCloseCode(code) {
  return code === undefined || code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999);
}

export function createFakeWebSocket() {
  class FakeWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    /** every socket the client created, in order */
    static instances = [];
    /** every close code the client tried to send, allowed or not */
    static closeCodes = [];

    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = FakeWebSocket.CONNECTING;
      this.sentText = [];
      this.closeCalls = [];
      this.onopen = null;
      this.onmessage = null;
      this.onclose = null;
      this.onerror = null;
      FakeWebSocket.instances.push(this);
    }

    static get last() {
      return FakeWebSocket.instances.at(-1);
    }

    /** messages the client sent, parsed */
    get sent() {
      return this.sentText.map((text) => JSON.parse(text));
    }

    send(text) {
      if (this.readyState === FakeWebSocket.CONNECTING) {
        throw new Error("InvalidStateError: Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.");
      }
      if (typeof text !== 'string') throw new TypeError('the client must send text');
      if (this.readyState !== FakeWebSocket.OPEN) return; // browsers drop data sent while closing
      this.sentText.push(text);
    }

    close(code, reason) {
      FakeWebSocket.closeCodes.push(code);
      if (!isAllowedCloseCode(code)) {
        // what a browser does: InvalidAccessError, nothing is sent
        throw new Error(`InvalidAccessError: close code ${code} is neither 1000 nor in 3000-4999`);
      }
      this.closeCalls.push({ code, reason });
      if (this.readyState === FakeWebSocket.CLOSING || this.readyState === FakeWebSocket.CLOSED) return;
      this.readyState = FakeWebSocket.CLOSING;
    }

    // ---- driven by the test, as the server/network would ----

    /** the handshake succeeded */
    serverOpen() {
      this.readyState = FakeWebSocket.OPEN;
      this.onopen?.({ type: 'open' });
    }

    /** a text message from the server (an object is JSON-encoded) */
    serverSend(message) {
      const data = typeof message === 'string' ? message : JSON.stringify(message);
      this.onmessage?.({ type: 'message', data });
    }

    /** the connection closed with this code (1006 = dropped without a close frame) */
    serverClose(code = 1006, reason = '', wasClean = code !== 1006) {
      if (this.readyState === FakeWebSocket.CLOSED) return;
      this.readyState = FakeWebSocket.CLOSED;
      if (code === 1006) this.onerror?.({ type: 'error' });
      this.onclose?.({ type: 'close', code, reason, wasClean });
    }

    /** the server answered the client's close frame (echoes its code) */
    completeClose() {
      const last = this.closeCalls.at(-1);
      this.serverClose(last?.code ?? 1005, last?.reason ?? '', true);
    }
  }
  return FakeWebSocket;
}

/** Lets every pending promise job run (not a timer: the fake clock does not move). */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records what a SessionSocket emits. */
export function record(socket, names = ['open', 'close', 'session', 'state', 'error', 'message']) {
  const events = [];
  for (const name of names) socket.on(name, (...args) => events.push({ name, args }));
  return {
    events,
    of(name) {
      return events.filter((e) => e.name === name).map((e) => e.args[0]);
    },
  };
}

export const TEST_URL = 'ws://127.0.0.1:9/ws';

/**
 * Fake clock (node:test mock.timers), a fresh fake WebSocket class and a SessionSocket using it.
 * @param {import('node:test').TestContext} t
 */
export async function setup(t, options = {}) {
  const { SessionSocket } = await import('../../src/session-socket.js');
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const WS = createFakeWebSocket();
  const socket = new SessionSocket(TEST_URL, { WebSocket: WS, random: () => 0.5, ...options });
  const rec = record(socket);
  t.after(() => {
    if (socket.state !== 'closed' && socket.state !== 'idle') socket.close().catch(() => {});
  });
  return { WS, socket, rec, tick: (ms) => t.mock.timers.tick(ms) };
}

/** Opens `ws` and answers the client's `session` message with `status`. Returns that message. */
export async function authenticate(ws, status = 'valid') {
  if (ws.readyState === 0) ws.serverOpen();
  await flush();
  const message = ws.sent.at(-1);
  if (!message || message.type !== 'session') throw new Error(`expected a session message, got ${JSON.stringify(message)}`);
  const data = status === 'valid'
    ? { status, userId: 'alice', expiresAt: '2030-01-01T00:00:00Z' }
    : { status };
  ws.serverSend({ type: 'session', id: message.id, data });
  await flush();
  return message;
}
