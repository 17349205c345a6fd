import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSocket, SessionSocketError } from '../../src/session-socket.js';
import { setup, flush, authenticate, createFakeWebSocket, TEST_URL } from '../support/fake-websocket.mjs';

test('without a sessionId the connection is open as soon as the socket is (cookie binding)', async (t) => {
  const { WS, socket, rec } = await setup(t);
  assert.equal(socket.state, 'idle');
  const connected = socket.connect();
  assert.equal(socket.state, 'connecting');
  assert.equal(WS.instances.length, 1);
  assert.equal(WS.last.url, TEST_URL);
  WS.last.serverOpen();
  await connected;
  assert.equal(socket.state, 'open');
  assert.deepEqual(rec.of('open'), [{ reconnected: false, session: null }]);
  assert.deepEqual(WS.last.sent, [], 'nothing is sent without a sessionId');
});

test('request resolves with the data of the reply carrying its id, in any order', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  const first = socket.request('echo', { n: 1 });
  const second = socket.request('whoami');
  const [m1, m2] = WS.last.sent;
  assert.deepEqual(m1, { type: 'echo', id: m1.id, data: { n: 1 } });
  assert.deepEqual(m2, { type: 'whoami', id: m2.id }, 'no data property when data is undefined');
  assert.equal(typeof m1.id, 'string');
  assert.notEqual(m1.id, m2.id);
  WS.last.serverSend({ type: 'whoami', id: m2.id, data: { userId: 'alice' } });
  WS.last.serverSend({ type: 'echo', id: m1.id, data: { n: 1 } });
  assert.deepEqual(await second, { userId: 'alice' });
  assert.deepEqual(await first, { n: 1 });
});

test('an error reply rejects with the server code and message', async (t) => {
  const { WS, socket, rec } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  const pending = socket.request('chat.sned', { text: 'x' });
  const { id } = WS.last.sent[0];
  WS.last.serverSend({ type: 'error', id, data: { code: 'unknown_type', message: "No handler for type 'chat.sned'." } });
  await assert.rejects(pending, (error) => {
    assert.ok(error instanceof SessionSocketError);
    assert.equal(error.code, 'unknown_type');
    assert.equal(error.message, "No handler for type 'chat.sned'.");
    assert.equal(error.serverError, true);
    assert.equal(error.type, 'chat.sned');
    return true;
  });
  assert.equal(rec.of('error').length, 0, 'an error that answers a request is not also an error event');
  assert.equal(socket.state, 'open', 'the connection stays open');
});

test('request times out, and a late reply is ignored', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { requestTimeout: 1000 });
  socket.connect();
  WS.last.serverOpen();
  let outcome = null;
  const pending = socket.request('echo', 1).then(
    (v) => { outcome = { v }; },
    (e) => { outcome = { e }; },
  );
  const custom = socket.request('echo', 2, { timeout: 50 });
  tick(49);
  await flush();
  tick(1);
  await assert.rejects(custom, { code: 'timeout' });
  tick(949);
  await flush();
  assert.equal(outcome, null, 'not settled before the timeout');
  tick(1);
  await pending;
  assert.equal(outcome.e.code, 'timeout');
  assert.match(outcome.e.message, /1000 ms/);
  WS.last.serverSend({ type: 'echo', id: WS.last.sent[0].id, data: 1 });
  assert.equal(rec.of('message').length, 0, 'late replies are dropped, not reported as pushes');
});

test('timeout 0 disables the request timeout', async (t) => {
  const { WS, socket, tick } = await setup(t, { requestTimeout: 1000, pingInterval: 0 });
  socket.connect();
  WS.last.serverOpen();
  let settled = false;
  const pending = socket.request('slow', null, { timeout: 0 }).finally(() => { settled = true; });
  tick(3_600_000);
  await flush();
  assert.equal(settled, false);
  WS.last.serverSend({ type: 'slow', id: WS.last.sent[0].id, data: 'done' });
  assert.equal(await pending, 'done');
});

test('send is fire-and-forget: no id; an error for it arrives as an error event', async (t) => {
  const { WS, socket, rec } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  socket.send('chat.send', { text: 'hi' });
  assert.deepEqual(WS.last.sent, [{ type: 'chat.send', data: { text: 'hi' } }]);
  WS.last.serverSend({ type: 'error', data: { code: 'invalid_data', message: 'text is required' } });
  const [error] = rec.of('error');
  assert.ok(error instanceof SessionSocketError);
  assert.equal(error.code, 'invalid_data');
  assert.equal(error.message, 'text is required');
});

test('pushes go to on(type) listeners with data and envelope; off/unsubscribe works', async (t) => {
  const { WS, socket, rec } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  const got = [];
  const off = socket.on('chat.message', (data, envelope) => got.push({ data, envelope }));
  const push = { type: 'chat.message', data: { from: 'bob', text: 'hi', at: '2030-01-01T00:00:00Z' } };
  WS.last.serverSend(push);
  assert.deepEqual(got, [{ data: push.data, envelope: push }]);
  assert.deepEqual(rec.of('message'), [push], 'every push is also a message event');
  off();
  WS.last.serverSend(push);
  assert.equal(got.length, 1);
  // a push named like a lifecycle event only reaches `message` listeners
  let opened = 0;
  socket.on('open', () => { opened += 1; });
  WS.last.serverSend({ type: 'open', data: {} });
  assert.equal(opened, 0);
});

test('a throwing listener does not break the client or other listeners', async (t) => {
  const { WS, socket } = await setup(t);
  const reported = [];
  t.mock.method(console, 'error', (e) => reported.push(e));
  const saved = globalThis.reportError;
  globalThis.reportError = undefined;
  t.after(() => { globalThis.reportError = saved; });
  socket.connect();
  WS.last.serverOpen();
  let second = 0;
  socket.on('tick', () => { throw new Error('boom'); });
  socket.on('tick', () => { second += 1; });
  WS.last.serverSend({ type: 'tick' });
  assert.equal(second, 1);
  assert.equal(reported.length, 1);
  assert.equal(reported[0].message, 'boom');
});

test('malformed server messages are reported as errors and do not break the connection', async (t) => {
  const { WS, socket, rec } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  WS.last.serverSend('not json');
  WS.last.serverSend('[1,2]');
  WS.last.onmessage({ data: new ArrayBuffer(2) });
  assert.deepEqual(rec.of('error').map((e) => e.code), ['invalid_reply', 'invalid_reply', 'invalid_reply']);
  const pending = socket.request('echo', 'ok');
  WS.last.serverSend({ type: 'echo', id: WS.last.sent.at(-1).id, data: 'ok' });
  assert.equal(await pending, 'ok');
});

test('invalid types are refused before anything is sent', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await assert.rejects(socket.request('has space'), TypeError);
  await assert.rejects(socket.request('x'.repeat(65)), TypeError);
  assert.throws(() => socket.send(''), TypeError);
  assert.deepEqual(WS.last.sent, []);
});

test('an AbortSignal cancels a request', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  const controller = new AbortController();
  const pending = socket.request('echo', 1, { signal: controller.signal });
  assert.equal(socket.queued, 1);
  controller.abort();
  await assert.rejects(pending, { code: 'aborted' });
  assert.equal(socket.queued, 0, 'an aborted request leaves the queue');
  WS.last.serverOpen();
  assert.deepEqual(WS.last.sent, []);
  await assert.rejects(socket.request('echo', 1, { signal: AbortSignal.abort() }), { code: 'aborted' });
});

test('requests before connect() or after close() are refused with code closed', async (t) => {
  const { socket } = await setup(t);
  await assert.rejects(socket.request('echo'), { code: 'closed' });
  assert.throws(() => socket.send('echo'), { code: 'closed' });
});

test('constructor: needs a WebSocket implementation and an absolute URL outside a browser', () => {
  const saved = globalThis.WebSocket;
  try {
    globalThis.WebSocket = undefined;
    assert.throws(() => new SessionSocket(TEST_URL), TypeError);
  } finally {
    globalThis.WebSocket = saved;
  }
  const WS = createFakeWebSocket();
  assert.throws(() => new SessionSocket('/ws', { WebSocket: WS }));
  assert.equal(new SessionSocket('http://127.0.0.1:5/ws', { WebSocket: WS }).url, 'ws://127.0.0.1:5/ws');
  assert.equal(new SessionSocket('https://example.test/ws', { WebSocket: WS }).url, 'wss://example.test/ws');
  assert.throws(() => new SessionSocket(TEST_URL, { WebSocket: WS, maxQueue: -1 }), RangeError);
});

test('relative URLs resolve against the page location in a browser', (t) => {
  const WS = createFakeWebSocket();
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'location');
  Object.defineProperty(globalThis, 'location', { value: { href: 'https://chat.test:8443/room/1' }, configurable: true });
  t.after(() => {
    if (saved) Object.defineProperty(globalThis, 'location', saved);
    else delete globalThis.location;
  });
  assert.equal(new SessionSocket('/ws', { WebSocket: WS }).url, 'wss://chat.test:8443/ws');
  globalThis.location.href = 'http://127.0.0.1:5080/';
  assert.equal(new SessionSocket('/ws', { WebSocket: WS }).url, 'ws://127.0.0.1:5080/ws');
});

test('the session message and reply are reported as a session event', async (t) => {
  const { WS, socket, rec } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  const message = await authenticate(WS.last);
  assert.deepEqual(message, { type: 'session', id: message.id, data: { sessionId: 'tok' } });
  assert.deepEqual(rec.of('session'), [{ status: 'valid', userId: 'alice', expiresAt: '2030-01-01T00:00:00Z' }]);
  assert.deepEqual(socket.session, { status: 'valid', userId: 'alice', expiresAt: '2030-01-01T00:00:00Z' });
  assert.deepEqual(rec.of('open'), [{ reconnected: false, session: socket.session }]);
});

test('data JSON cannot carry is refused at the call, not later in the queue', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  await assert.rejects(socket.request('echo', { n: 1n }), TypeError);
  assert.throws(() => socket.send('echo', { n: 1n }), TypeError);
  assert.equal(socket.queued, 0);
  WS.last.serverOpen();
  assert.deepEqual(WS.last.sent, []);
});
