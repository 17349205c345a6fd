// The client against the real sample (samples/Chat) on 127.0.0.1, with `ws` as its WebSocket.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSocket } from '../../src/session-socket.js';
import { SampleServer, nodeWebSocket, nextEvent } from '../support/sample-server.mjs';

let server;
const sockets = [];

function client(options = {}) {
  const { headers, ...rest } = options;
  const WS = nodeWebSocket(headers);
  const socket = new SessionSocket(server.wsUrl, {
    WebSocket: WS, initialDelay: 100, maxDelay: 1000, requestTimeout: 5000, ...rest,
  });
  sockets.push(socket);
  return { socket, WS };
}

before(async () => {
  server = await SampleServer.start();
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close().catch(() => {})));
});

after(async () => {
  await server?.stop();
});

describe('authentication', () => {
  test('login, connect with the token in-band, whoami', async () => {
    const login = await server.login('alice');
    assert.equal(login.userId, 'alice');
    assert.equal(typeof login.sessionId, 'string');
    assert.ok(login.sessionId.length >= 32);
    assert.ok(!Number.isNaN(Date.parse(login.expiresAt)));
    assert.match(login.setCookie ?? '', /httponly/i, 'sid cookie is HttpOnly');
    assert.match(login.setCookie ?? '', /samesite=strict/i, 'sid cookie is SameSite=Strict');

    const { socket } = client({ sessionId: login.sessionId });
    const sessions = [];
    socket.on('session', (s) => sessions.push(s));
    const opened = nextEvent(socket, 'open');
    await socket.connect();
    const open = await opened;
    assert.equal(open.reconnected, false);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].status, 'valid');
    assert.equal(sessions[0].userId, 'alice');
    assert.equal(Date.parse(sessions[0].expiresAt), Date.parse(login.expiresAt));

    const who = await socket.request('whoami');
    assert.equal(who.userId, 'alice');
    assert.equal(Date.parse(who.expiresAt), Date.parse(login.expiresAt));
    assert.equal(typeof who.connectionId, 'string');
    assert.ok(who.connectionId.length > 0);
  });

  test('an async sessionId provider is asked for the token', async () => {
    let calls = 0;
    const { socket } = client({
      sessionId: async () => {
        calls += 1;
        return (await server.login('provided')).sessionId;
      },
    });
    await socket.connect();
    assert.equal(calls, 1);
    assert.equal((await socket.request('whoami')).userId, 'provided');
  });

  test('the sid cookie binds the connection at the handshake (no session message)', async () => {
    const login = await server.login('cookie_user');
    assert.ok(login.cookie, 'login sets a sid cookie');
    const { socket } = client({ headers: { Cookie: login.cookie } });
    await socket.connect();
    assert.equal(socket.session, null, 'no in-band session exchange');
    assert.equal((await socket.request('whoami')).userId, 'cookie_user');
  });

  test('without a session, handlers answer unauthorized; ping works anyway', async () => {
    const { socket } = client();
    await socket.connect();
    assert.deepEqual(await socket.request('ping'), {});
    await assert.rejects(socket.request('whoami'), (error) => {
      assert.equal(error.code, 'unauthorized');
      assert.equal(error.serverError, true);
      assert.equal(typeof error.message, 'string');
      return true;
    });
    assert.equal(socket.state, 'open', 'the connection stays open after an error');
  });

  test('an unknown token: session status invalid, no retry', async () => {
    const { socket, WS } = client({ sessionId: 'x'.repeat(43) });
    const session = nextEvent(socket, 'session');
    const closed = nextEvent(socket, 'close');
    await assert.rejects(socket.connect(), { code: 'session_ended' });
    assert.equal((await session).status, 'invalid');
    assert.equal((await closed).willRetry, false);
    assert.equal(socket.state, 'unauthenticated');
    assert.equal(WS.created, 1);
  });

  test('login validation: bad user names get 400 with a JSON error', async () => {
    for (const user of ['', 'a'.repeat(33), 'has space', '<script>', 'ü']) {
      await assert.rejects(server.login(user), (error) => {
        assert.equal(error.status, 400, `user ${JSON.stringify(user)}`);
        assert.ok(error.body && typeof error.body === 'object', 'a JSON body');
        return true;
      });
    }
    assert.equal((await server.login('a'.repeat(32))).userId, 'a'.repeat(32));
    assert.equal((await server.login('A-z_0-9')).userId, 'A-z_0-9');
  });
});

describe('messages', () => {
  test('two clients chat: every bound connection gets chat.message with the sender', async () => {
    const alice = client({ sessionId: (await server.login('alice')).sessionId }).socket;
    const bob = client({ sessionId: (await server.login('bob')).sessionId }).socket;
    await Promise.all([alice.connect(), bob.connect()]);

    const bobGets = nextEvent(bob, 'chat.message', (m) => m.text === 'hi bob');
    const aliceGetsOwn = nextEvent(alice, 'chat.message', (m) => m.text === 'hi bob');
    assert.deepEqual(await alice.request('chat.send', { text: 'hi bob' }), { ok: true });
    const received = await bobGets;
    assert.equal(received.from, 'alice');
    assert.ok(!Number.isNaN(Date.parse(received.at)), 'at is a timestamp');
    assert.equal((await aliceGetsOwn).from, 'alice');

    const aliceGets = nextEvent(alice, 'chat.message', (m) => m.text === 'hi alice');
    bob.send('chat.send', { text: 'hi alice' }); // fire-and-forget
    assert.equal((await aliceGets).from, 'bob');
  });

  test('chat text is delivered verbatim (markup, quotes, unicode)', async () => {
    const a = client({ sessionId: (await server.login('verbatim')).sessionId }).socket;
    await a.connect();
    const text = '<img src=x onerror=alert(1)> "quoted" & \u00e9\u{1F600}\nsecond line';
    const got = nextEvent(a, 'chat.message', (m) => m.from === 'verbatim');
    await a.request('chat.send', { text });
    assert.equal((await got).text, text);
  });

  test('echo replies with the same data', async () => {
    const a = client({ sessionId: (await server.login('echoer')).sessionId }).socket;
    await a.connect();
    const data = { n: 1, list: [1, 'two', null], nested: { ok: true }, text: 'é' };
    assert.deepEqual(await a.request('echo', data), data);
    assert.equal(await a.request('echo', 'plain'), 'plain');
  });

  test('error codes reach the caller: unknown_type, invalid_data', async () => {
    const a = client({ sessionId: (await server.login('errors')).sessionId }).socket;
    await a.connect();
    await assert.rejects(a.request('chat.sned', { text: 'x' }), { code: 'unknown_type' });
    await assert.rejects(a.request('chat.send', { text: '' }), { code: 'invalid_data' });
    await assert.rejects(a.request('chat.send', { text: 'x'.repeat(1001) }), { code: 'invalid_data' });
    await assert.rejects(a.request('chat.send', { nottext: 1 }), { code: 'invalid_data' });
    await assert.rejects(a.request('chat.send'), { code: 'invalid_data' });
    assert.deepEqual(await a.request('chat.send', { text: 'x'.repeat(1000) }), { ok: true });
    // an error for a fire-and-forget message arrives as an error event
    const error = nextEvent(a, 'error');
    a.send('no.such.type', {});
    assert.equal((await error).code, 'unknown_type');
  });
});

describe('revocation', () => {
  test('POST /logout: session event revoked, close 1008, no retry; the old token is refused', async () => {
    const login = await server.login('revokee');
    const { socket, WS } = client({ sessionId: login.sessionId });
    await socket.connect();
    const inflight = socket.request('echo', 'pending', { timeout: 0 }).catch((e) => e);
    const revoked = nextEvent(socket, 'session', (s) => s.status === 'revoked', 3000);
    const closed = nextEvent(socket, 'close', () => true, 3000);
    const started = performance.now();
    assert.equal(await server.logout(login.sessionId), 204);
    await revoked;
    const close = await closed;
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1500, `closed ${Math.round(elapsed)} ms after logout (contract: within 1 s)`);
    assert.equal(close.code, 1008);
    assert.equal(close.reason, 'session revoked');
    assert.equal(close.willRetry, false);
    assert.equal(socket.state, 'unauthenticated');
    assert.equal(WS.created, 1);
    const outcome = await inflight;
    assert.ok(outcome === 'pending' || outcome.code === 'connection_closed', `in-flight request: ${outcome?.code ?? outcome}`);
    await assert.rejects(socket.request('echo', 1), { code: 'session_ended' });

    // the app supplies the revoked token again: refused, and still no loop
    const again = nextEvent(socket, 'session');
    socket.setSessionId(login.sessionId);
    assert.equal((await again).status, 'invalid');
    assert.equal(socket.state, 'unauthenticated');
    assert.equal(WS.created, 2);

    // a fresh login gets going again
    socket.setSessionId((await server.login('revokee')).sessionId);
    await nextEvent(socket, 'open');
    assert.equal((await socket.request('whoami')).userId, 'revokee');
  });

  test('logout closes every socket of the session, and only those', async () => {
    const login = await server.login('multi');
    const other = await server.login('bystander');
    const one = client({ sessionId: login.sessionId }).socket;
    const two = client({ headers: { Cookie: login.cookie } }).socket;
    const bystander = client({ sessionId: other.sessionId }).socket;
    await Promise.all([one.connect(), two.connect(), bystander.connect()]);
    const closes = [nextEvent(one, 'close', () => true, 3000), nextEvent(two, 'close', () => true, 3000)];
    assert.equal(await server.logout(login.sessionId), 204);
    for (const close of await Promise.all(closes)) {
      assert.deepEqual([close.code, close.reason, close.willRetry], [1008, 'session revoked', false]);
    }
    assert.equal(two.session?.status, 'revoked', 'the cookie-bound socket saw the revoked push too');
    assert.equal((await bystander.request('whoami')).userId, 'bystander');
  });
});
