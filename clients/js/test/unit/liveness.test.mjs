import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, flush, authenticate } from '../support/fake-websocket.mjs';

test('an answered ping keeps the connection; an unanswered one reconnects', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok', pingInterval: 20000, pingTimeout: 5000 });
  socket.connect();
  await authenticate(WS.last);
  const ws = WS.last;
  tick(20000);
  const ping = ws.sent.at(-1);
  assert.equal(ping.type, 'ping');
  tick(4999);
  ws.serverSend({ type: 'ping', id: ping.id, data: {} });
  tick(10000);
  assert.equal(rec.of('close').length, 0);
  assert.equal(rec.of('message').length, 0, 'ping replies are not pushes');
  // the next ping is due 20 s after the answer; nobody answers it
  tick(10000);
  assert.equal(ws.sent.filter((m) => m.type === 'ping').length, 2);
  tick(4999);
  assert.equal(socket.state, 'open');
  tick(1);
  assert.deepEqual(ws.closeCalls, [{ code: 4000, reason: 'ping timeout' }]);
  const close = rec.of('close').at(-1);
  assert.deepEqual([close.code, close.reason, close.willRetry], [1006, 'ping timeout', true]);
  assert.equal(socket.state, 'reconnecting');
  tick(close.delay);
  assert.equal(WS.instances.length, 2);
  await authenticate(WS.last);
  assert.equal(socket.state, 'open');
});

test('any message from the server after a ping counts as alive', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { pingInterval: 1000, pingTimeout: 1000 });
  socket.connect();
  WS.last.serverOpen();
  tick(1000);
  tick(999);
  WS.last.serverSend({ type: 'chat.message', data: { from: 'bob', text: 'hi' } });
  tick(999);
  assert.equal(rec.of('close').length, 0);
});

test('no pings before the session is valid, nor after close', async (t) => {
  const { WS, socket, tick } = await setup(t, { sessionId: 'tok', pingInterval: 1000, connectTimeout: 0, requestTimeout: 0 });
  socket.connect();
  WS.last.serverOpen();
  await flush();
  tick(5000);
  assert.deepEqual(WS.last.sent.map((m) => m.type), ['session'], 'no ping while authenticating');
  await authenticate(WS.last);
  const closing = socket.close();
  WS.last.completeClose();
  await closing;
  tick(5000);
  assert.deepEqual(WS.last.sent.map((m) => m.type), ['session'], 'no ping after close');
});

test('pingInterval 0 turns pings off', async (t) => {
  const { WS, socket, tick } = await setup(t, { pingInterval: 0 });
  socket.connect();
  WS.last.serverOpen();
  tick(3_600_000);
  assert.deepEqual(WS.last.sent, []);
  assert.equal(socket.state, 'open');
});
