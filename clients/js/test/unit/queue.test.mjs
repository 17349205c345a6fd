import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSocketError } from '../../src/session-socket.js';
import { setup, flush, authenticate } from '../support/fake-websocket.mjs';

test('the queue is bounded while disconnected; overflow is a clear error', async (t) => {
  const { WS, socket } = await setup(t, { maxQueue: 3 });
  socket.connect();
  socket.send('a', 1);
  socket.send('b', 2);
  const third = socket.request('c', 3);
  assert.equal(socket.queued, 3);
  assert.throws(() => socket.send('d', 4), (error) => {
    assert.ok(error instanceof SessionSocketError);
    assert.equal(error.code, 'queue_full');
    assert.match(error.message, /queue is full \(3 messages\)/);
    return true;
  });
  await assert.rejects(socket.request('e', 5), { code: 'queue_full' });
  assert.equal(socket.queued, 3, 'the refused messages were not queued');
  WS.last.serverOpen();
  assert.deepEqual(WS.last.sent.map((m) => [m.type, m.data]), [['a', 1], ['b', 2], ['c', 3]]);
  assert.equal(socket.queued, 0);
  socket.send('f', 6); // room again, and open: straight out
  assert.equal(WS.last.sent.at(-1).type, 'f');
  WS.last.serverSend({ type: 'c', id: WS.last.sent[2].id, data: 'ok' });
  assert.equal(await third, 'ok');
});

test('maxQueue 0 refuses everything while disconnected', async (t) => {
  const { socket } = await setup(t, { maxQueue: 0 });
  socket.connect();
  assert.throws(() => socket.send('a'), { code: 'queue_full' });
});

test('a request timeout counts from the call, queue time included, and removes it from the queue', async (t) => {
  const { WS, socket, tick } = await setup(t, { requestTimeout: 2000, connectTimeout: 0 });
  socket.connect();
  const pending = assert.rejects(socket.request('echo', 1), { code: 'timeout' });
  tick(2000);
  await pending;
  assert.equal(socket.queued, 0);
  WS.last.serverOpen();
  assert.deepEqual(WS.last.sent, [], 'a request that timed out is never sent');
});

test('requests in flight fail fast when the connection drops (no waiting for the timeout)', async (t) => {
  const { WS, socket, rec } = await setup(t, { requestTimeout: 60000 });
  socket.connect();
  WS.last.serverOpen();
  const inflight = socket.request('echo', 1);
  WS.last.serverClose(1006);
  assert.equal(rec.of('close').at(-1).willRetry, true);
  await assert.rejects(inflight, (error) => {
    assert.equal(error.code, 'connection_closed');
    assert.equal(error.closeCode, 1006);
    assert.match(error.message, /before 'echo' was answered/);
    return true;
  });
});

test('resend opt-in: a request in flight is sent again after reconnecting, before newer messages', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  await authenticate(WS.last);
  const kept = socket.request('chat.send', { text: 'again' }, { resend: true });
  const dropped = assert.rejects(socket.request('echo', 'x'), { code: 'connection_closed' });
  const firstId = WS.last.sent.at(-2).id;
  WS.last.serverClose(1001, 'server shutting down');
  await dropped;
  socket.send('later', 1);
  tick(rec.of('close').at(-1).delay);
  await authenticate(WS.last);
  const sent = WS.last.sent;
  assert.deepEqual(sent.map((m) => m.type), ['session', 'chat.send', 'later']);
  assert.equal(sent[1].id, firstId, 'same id');
  WS.last.serverSend({ type: 'chat.send', id: firstId, data: { ok: true } });
  assert.deepEqual(await kept, { ok: true });
});

test('resend as the default option', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { resend: true });
  socket.connect();
  WS.last.serverOpen();
  const kept = socket.request('echo', 1);
  WS.last.serverClose(1006);
  tick(rec.of('close').at(-1).delay);
  WS.last.serverOpen();
  const [again] = WS.last.sent;
  assert.equal(again.type, 'echo');
  WS.last.serverSend({ type: 'echo', id: again.id, data: 1 });
  assert.equal(await kept, 1);
});

test('close() rejects queued and in-flight requests with code closed and stops for good', async (t) => {
  const { WS, socket, rec, tick } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  const inflight = socket.request('echo', 1, { resend: true });
  const closing = socket.close(4001, 'bye');
  assert.equal(socket.state, 'closed');
  await assert.rejects(inflight, { code: 'closed' });
  assert.deepEqual(WS.last.closeCalls, [{ code: 4001, reason: 'bye' }]);
  WS.last.completeClose();
  await closing;
  assert.deepEqual(rec.of('close').at(-1), { code: 4001, reason: 'bye', wasClean: true, willRetry: false });
  await assert.rejects(socket.request('echo'), { code: 'closed' });
  tick(600_000);
  assert.equal(WS.instances.length, 1);
});

test('close() while connecting rejects the queue', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  const queued = assert.rejects(socket.request('echo', 1), { code: 'closed' });
  const closing = socket.close();
  await queued;
  WS.last.serverClose(1006); // what a browser reports for a socket closed while connecting
  await closing;
  assert.deepEqual(WS.last.closeCalls, [{ code: 1000, reason: '' }]);
  assert.equal(socket.queued, 0);
});

test('close() is bounded when the server never answers the close frame', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { closeTimeout: 1500 });
  socket.connect();
  WS.last.serverOpen();
  let done = false;
  const closing = socket.close().then(() => { done = true; });
  assert.strictEqual(socket.close(), socket.close(), 'a second close() returns the same promise');
  tick(1499);
  await flush();
  assert.equal(done, false);
  tick(1);
  await closing;
  assert.deepEqual(rec.of('close').at(-1), { code: 1000, reason: '', wasClean: false, willRetry: false });
});

test('connect() after close() starts afresh', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  const closing = socket.close();
  WS.last.completeClose();
  await closing;
  const connected = socket.connect();
  assert.equal(WS.instances.length, 2);
  WS.last.serverOpen();
  await connected;
  assert.equal(socket.state, 'open');
});
