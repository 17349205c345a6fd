// Server restarts, limits and expiry, against the real sample on 127.0.0.1.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSocket } from '../../src/session-socket.js';
import { SampleServer, nodeWebSocket, nextEvent } from '../support/sample-server.mjs';

const cleanup = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startServer(args = []) {
  const server = await SampleServer.start({ args });
  cleanup.push(() => server.stop());
  return server;
}

function client(server, options = {}) {
  const WS = nodeWebSocket();
  const socket = new SessionSocket(server.wsUrl, {
    WebSocket: WS, initialDelay: 200, maxDelay: 1000, requestTimeout: 5000, ...options,
  });
  cleanup.push(() => socket.close().catch(() => {}));
  return { socket, WS };
}

for (const graceful of [true, false]) {
  test(`server restart (${graceful ? 'graceful: 1001' : 'killed: 1006'}): the client reconnects, re-authenticates and works`, async () => {
    const server = await startServer();
    const login = await server.login('phoenix');
    const { socket, WS } = client(server, { sessionId: login.sessionId });
    await socket.connect();
    const before = await socket.request('whoami');

    const closed = nextEvent(socket, 'close', () => true, 15_000);
    const reopened = nextEvent(socket, 'open', () => true, 30_000);
    const restarting = server.restart({ graceful });
    const close = await closed;
    assert.equal(close.code, graceful ? 1001 : 1006, `close ${close.code} ${close.reason}`);
    if (graceful) assert.equal(close.reason, 'server shutting down');
    assert.equal(close.willRetry, true);
    assert.equal(socket.state, 'reconnecting');
    // a message sent while the server is down waits in the queue
    const queued = socket.request('chat.send', { text: 'sent while down' }, { timeout: 30_000 });
    const echoed = nextEvent(socket, 'chat.message', (m) => m.text === 'sent while down', 30_000);
    await restarting;

    const open = await reopened;
    assert.equal(open.reconnected, true);
    assert.equal(open.session.status, 'valid', 'the session survived the restart (same database)');
    assert.ok(WS.created >= 2);
    assert.deepEqual(await queued, { ok: true });
    assert.equal((await echoed).from, 'phoenix');
    const after = await socket.request('whoami');
    assert.equal(after.userId, 'phoenix');
    assert.equal(after.expiresAt, before.expiresAt, 'the same session');
  });
}

test('a message over MaxMessageSize: close 1009, not retried, pending request fails', async () => {
  const server = await startServer(['--SessionSockets:MaxMessageSize', '1024']);
  const { socket, WS } = client(server, { sessionId: (await server.login('big')).sessionId });
  await socket.connect();
  assert.equal((await socket.request('echo', 'x'.repeat(900))).length, 900);
  const closed = nextEvent(socket, 'close');
  await assert.rejects(socket.request('echo', 'x'.repeat(2000)), (error) => {
    assert.equal(error.code, 'connection_closed');
    assert.equal(error.closeCode, 1009);
    return true;
  });
  const close = await closed;
  assert.equal(close.code, 1009);
  assert.equal(close.willRetry, false);
  assert.equal(socket.state, 'closed');
  assert.equal(WS.created, 1);
});

test('rate limit: excess messages are answered rate_limited', async () => {
  const server = await startServer([
    '--SessionSockets:RateLimit:MessagesPerSecond', '1',
    '--SessionSockets:RateLimit:Burst', '3',
  ]);
  const { socket } = client(server, { sessionId: (await server.login('spammer')).sessionId });
  await socket.connect();
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => socket.request('echo', i)));
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.code));
  assert.ok(codes.includes('ok'), codes.join());
  assert.ok(codes.includes('rate_limited'), codes.join());
  assert.deepEqual([...new Set(codes)].sort(), ['ok', 'rate_limited'], codes.join());
});

test('session expiry: the server ends the connection with expired, and the client does not retry', async () => {
  const server = await startServer(['--Chat:SessionLifetime', '00:00:02']);
  const login = await server.login('mayfly');
  // pings every 250 ms keep messages flowing, so a per-message expiry check fires promptly
  const { socket, WS } = client(server, { sessionId: login.sessionId, pingInterval: 250, pingTimeout: 5000 });
  const expired = nextEvent(socket, 'session', (s) => s.status === 'expired', 20_000);
  const closed = nextEvent(socket, 'close', () => true, 20_000);
  await socket.connect();
  await expired;
  const close = await closed;
  assert.equal(close.code, 1008);
  assert.equal(close.reason, 'session expired');
  assert.equal(close.willRetry, false);
  assert.equal(socket.state, 'unauthenticated');
  assert.ok(Date.now() >= Date.parse(login.expiresAt) - 50, 'not before expiresAt');

  // the expired token again: refused (expired, or invalid once swept), no loop
  const answer = nextEvent(socket, 'session');
  socket.setSessionId(login.sessionId);
  assert.ok(['expired', 'invalid'].includes((await answer).status));
  assert.equal(socket.state, 'unauthenticated');
  assert.equal(WS.created, 2);
});

test('no session within AuthenticationTimeout: close 1008 "authentication timeout", not retried', async () => {
  const server = await startServer(['--SessionSockets:AuthenticationTimeout', '00:00:01']);
  // a stale cookie: the upgrade succeeds unbound (InBand), and nothing authenticates it
  const WS = nodeWebSocket({ Cookie: 'sid=stale-token-that-names-no-session' });
  const socket = new SessionSocket(server.wsUrl, { WebSocket: WS, initialDelay: 100, maxDelay: 500 });
  cleanup.push(() => socket.close().catch(() => {}));
  const session = nextEvent(socket, 'session');
  const closed = nextEvent(socket, 'close');
  await socket.connect();
  await assert.rejects(socket.request('whoami'), { code: 'unauthorized' });
  const close = await closed;
  assert.deepEqual([close.code, close.reason, close.willRetry], [1008, 'authentication timeout', false]);
  assert.equal((await session).status, 'unauthenticated');
  assert.equal(socket.state, 'unauthenticated');
  assert.equal(WS.created, 1);
});
