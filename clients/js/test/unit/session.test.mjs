import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, flush, authenticate } from '../support/fake-websocket.mjs';

test('queued messages wait for a valid session reply and then go out in order', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok-1' });
  socket.connect();
  socket.send('chat.send', { text: 'one' });
  const reply = socket.request('echo', 'two');
  const ws = WS.last;
  ws.serverOpen();
  await flush();
  assert.deepEqual(ws.sent.map((m) => m.type), ['session'], 'only the session message before its reply');
  const session = ws.sent[0];
  assert.deepEqual(session.data, { sessionId: 'tok-1' });
  ws.serverSend({ type: 'session', id: session.id, data: { status: 'valid', userId: 'alice', expiresAt: '2030-01-01T00:00:00Z' } });
  await flush();
  assert.deepEqual(ws.sent.map((m) => [m.type, m.data]), [['session', { sessionId: 'tok-1' }], ['chat.send', { text: 'one' }], ['echo', 'two']]);
  ws.serverSend({ type: 'echo', id: ws.sent[2].id, data: 'two' });
  assert.equal(await reply, 'two');

  // the connection drops; messages sent meanwhile wait, and the session goes first again
  ws.serverClose(1006);
  assert.equal(socket.state, 'reconnecting');
  socket.send('chat.send', { text: 'three' });
  tick(rec.of('close').at(-1).delay);
  const ws2 = WS.last;
  assert.notEqual(ws2, ws);
  ws2.serverOpen();
  await flush();
  assert.deepEqual(ws2.sent.map((m) => m.type), ['session']);
  await authenticate(ws2);
  assert.deepEqual(ws2.sent.map((m) => [m.type, m.data]), [['session', { sessionId: 'tok-1' }], ['chat.send', { text: 'three' }]]);
});

test('sessionId as an async function: called on every connect, nothing sent until it resolves', async (t) => {
  let calls = 0;
  let release;
  const { WS, socket, rec, tick } = await setup(t, {
    sessionId: () => {
      calls += 1;
      return new Promise((resolve) => { release = () => resolve(`fresh-${calls}`); });
    },
  });
  socket.connect();
  socket.send('chat.send', { text: 'queued' });
  WS.last.serverOpen();
  await flush();
  assert.equal(calls, 1);
  assert.deepEqual(WS.last.sent, [], 'waits for the token');
  release();
  await flush();
  assert.deepEqual(WS.last.sent.map((m) => m.data), [{ sessionId: 'fresh-1' }]);
  await authenticate(WS.last);
  assert.equal(WS.last.sent[1].type, 'chat.send');

  WS.last.serverClose(1011, 'fault');
  tick(rec.of('close').at(-1).delay);
  WS.last.serverOpen();
  await flush();
  assert.equal(calls, 2, 'a fresh token for the new connection');
  release();
  await flush();
  assert.deepEqual(WS.last.sent[0].data, { sessionId: 'fresh-2' });
});

test('a sessionId function that throws is reported and retried with backoff', async (t) => {
  let fail = true;
  const { WS, socket, rec, tick } = await setup(t, {
    sessionId: async () => {
      if (fail) throw new Error('token endpoint down');
      return 'tok';
    },
  });
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const [error] = rec.of('error');
  assert.equal(error.code, 'session_provider_failed');
  assert.match(error.message, /token endpoint down/);
  assert.deepEqual(WS.instances[0].closeCalls, [{ code: 4000, reason: 'session provider failed' }]);
  const close = rec.of('close').at(-1);
  assert.equal(close.willRetry, true);
  fail = false;
  tick(close.delay);
  await authenticate(WS.last);
  assert.equal(socket.state, 'open');
});

test('revoked push: session event, no retry; waits until the app supplies a new token', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'old' });
  socket.connect();
  await authenticate(WS.last);
  const inflight = socket.request('echo', 1);
  WS.last.serverSend({ type: 'session', data: { status: 'revoked' } });
  assert.deepEqual(rec.of('session').at(-1), { status: 'revoked' });
  assert.equal(socket.session.status, 'revoked');
  const sentBefore = WS.last.sent.length;
  await assert.rejects(socket.request('echo', 'after push'), { code: 'session_ended', status: 'revoked' });
  assert.equal(WS.last.sent.length, sentBefore, 'nothing more goes out on a revoked session');
  WS.last.serverClose(1008, 'session revoked');
  assert.equal(socket.state, 'unauthenticated');
  const close = rec.of('close').at(-1);
  assert.deepEqual(close, { code: 1008, reason: 'session revoked', wasClean: true, willRetry: false });
  await assert.rejects(inflight, { code: 'connection_closed' });
  await assert.rejects(socket.request('echo', 2), { code: 'session_ended' });
  assert.throws(() => socket.send('chat.send', {}), { code: 'session_ended' });
  tick(600_000);
  assert.equal(WS.instances.length, 1, 'no blind retry loop');

  socket.setSessionId('new');
  assert.equal(WS.instances.length, 2);
  assert.equal(socket.state, 'connecting');
  const message = await authenticate(WS.last);
  assert.deepEqual(message.data, { sessionId: 'new' });
  assert.equal(socket.state, 'open');
});

test('1008 "session expired" without a push is not retried either', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  await authenticate(WS.last);
  WS.last.serverClose(1008, 'session expired');
  assert.equal(socket.state, 'unauthenticated');
  assert.deepEqual(rec.of('session').at(-1), { status: 'expired' });
  assert.equal(rec.of('close').at(-1).willRetry, false);
  tick(600_000);
  assert.equal(WS.instances.length, 1);
});

test('1008 "authentication timeout" (cookie not accepted) is not retried', async (t) => {
  const { WS, socket, rec, tick } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  WS.last.serverClose(1008, 'authentication timeout');
  assert.equal(socket.state, 'unauthenticated');
  assert.equal(rec.of('session').at(-1).status, 'unauthenticated');
  tick(600_000);
  assert.equal(WS.instances.length, 1);
});

test('a revoked push ends the connection even if the server never closes it', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok', closeTimeout: 2000 });
  socket.connect();
  await authenticate(WS.last);
  WS.last.serverSend({ type: 'session', data: { status: 'revoked' } });
  tick(1999);
  assert.equal(socket.state, 'open');
  tick(1);
  assert.equal(socket.state, 'unauthenticated');
  assert.deepEqual(WS.last.closeCalls, [{ code: 4000, reason: 'session revoked' }]);
  assert.equal(rec.of('close').at(-1).willRetry, false);
});

for (const status of ['expired', 'invalid', 'empty']) {
  test(`a session reply "${status}" stops without retrying; queued messages are dropped`, async (t) => {
    const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
    const connected = socket.connect();
    const queued = assert.rejects(socket.request('echo', 1), { code: 'session_ended' });
    await authenticate(WS.last, status);
    assert.deepEqual(rec.of('session'), [{ status }]);
    assert.equal(socket.state, 'unauthenticated');
    assert.deepEqual(WS.last.sent.map((m) => m.type), ['session'], 'the queued request never went out');
    assert.deepEqual(WS.last.closeCalls, [{ code: 1000, reason: `session ${status}` }]);
    await queued;
    await assert.rejects(connected, { code: 'session_ended' });
    assert.equal(rec.of('close').at(-1).willRetry, false);
    tick(600_000);
    assert.equal(WS.instances.length, 1);
    // connect() again asks the sessionId provider again
    socket.connect();
    assert.equal(WS.instances.length, 2);
  });
}

test('a session reply "unavailable" (store down) is retried with backoff', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  await authenticate(WS.last, 'unavailable');
  const close = rec.of('close').at(-1);
  assert.equal(close.willRetry, true);
  assert.equal(socket.state, 'connecting');
  tick(close.delay);
  await authenticate(WS.last, 'valid');
  assert.equal(socket.state, 'open');
});

test('no reply to the session message within requestTimeout: abandoned and retried', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok', requestTimeout: 4000, connectTimeout: 60000 });
  socket.connect();
  WS.last.serverOpen();
  await flush();
  tick(4000);
  await flush();
  const close = rec.of('close').at(-1);
  assert.equal(close.reason, 'session request failed: timeout');
  assert.equal(close.willRetry, true);
});

test('connect() resolves when open and rejects when the session is refused', async (t) => {
  const { WS, socket } = await setup(t, { sessionId: 'tok' });
  const first = socket.connect();
  await authenticate(WS.last);
  await first;
  WS.last.serverClose(1008, 'session revoked');
  const again = socket.connect();
  await authenticate(WS.last, 'invalid');
  await assert.rejects(again, { code: 'session_ended' });
});
