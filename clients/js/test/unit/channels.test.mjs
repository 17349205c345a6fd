// The channel API (docs/protocol.md, Channels and Presence) against the scripted fake WebSocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, flush, authenticate, record } from '../support/fake-websocket.mjs';

/** Answers the last `subscribe` the client sent on `ws` with `data` (merged over the channel). */
async function answerSubscribe(ws, data = {}) {
  const message = ws.sent.filter((m) => m.type === 'subscribe').at(-1);
  assert.ok(message, 'a subscribe was sent');
  ws.serverSend({ type: 'subscribe', id: message.id, data: { channel: message.data.channel, ...data } });
  await flush();
  return message;
}

function events(subscription, names = ['subscribed', 'recovered', 'unsubscribed', 'error']) {
  const seen = [];
  for (const name of names) subscription.on(name, (info) => seen.push([name, info]));
  return seen;
}

test('subscribe before connect: sent after the session is valid and before queued messages', async (t) => {
  const { WS, socket } = await setup(t, { sessionId: 'tok' });
  const room = socket.subscribe('room:lobby');
  assert.equal(room.state, 'subscribing');
  assert.equal(socket.subscribe('room:lobby'), room, 'the same subscription again');
  socket.connect();
  socket.send('chat.send', { text: 'hi', room: 'lobby' });
  await authenticate(WS.last);
  assert.deepEqual(WS.last.sent.map((m) => [m.type, m.data]), [
    ['session', { sessionId: 'tok' }],
    ['subscribe', { channel: 'room:lobby' }],
    ['chat.send', { text: 'hi', room: 'lobby' }],
  ]);
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 4 });
  assert.equal(room.state, 'subscribed');
  assert.deepEqual(await room.ready, { channel: 'room:lobby', resubscribed: false, epoch: 'e1', offset: 4 });
  assert.equal(room.offset, 4);
  assert.deepEqual([...socket.subscriptions.keys()], ['room:lobby']);
});

test('subscribe while open goes out at once; publications are routed by channel, not to the socket', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const lobby = socket.subscribe('room:lobby');
  const other = socket.subscribe('room:other');
  assert.deepEqual(WS.last.sent.map((m) => m.data.channel), ['room:lobby', 'room:other']);
  await answerSubscribe(WS.last);
  const lobbyGot = [];
  const otherGot = [];
  const socketGot = [];
  const envelopes = [];
  lobby.on('chat.message', (data, envelope) => { lobbyGot.push(data.text); envelopes.push(envelope); });
  other.on('chat.message', (data) => otherGot.push(data.text));
  socket.on('chat.message', (data) => socketGot.push(data.text));
  const joins = [];
  lobby.on('presence.join', (data) => joins.push(data.userId));

  WS.last.serverSend({ type: 'chat.message', channel: 'room:lobby', data: { text: 'in lobby' } });
  WS.last.serverSend({ type: 'chat.message', channel: 'room:other', data: { text: 'in other' } });
  WS.last.serverSend({ type: 'chat.message', data: { text: 'broadcast' } });
  WS.last.serverSend({ type: 'chat.message', channel: 'room:unknown', data: { text: 'nobody' } });
  WS.last.serverSend({ type: 'presence.join', channel: 'room:lobby', data: { userId: 'bob' } });

  assert.deepEqual(lobbyGot, ['in lobby']);
  assert.deepEqual(otherGot, ['in other']);
  assert.deepEqual(socketGot, ['broadcast']);
  assert.deepEqual(joins, ['bob']);
  assert.equal(envelopes[0].channel, 'room:lobby');
});

test('after a reconnect it subscribes again with since; recovered, missed publications once, no duplicate', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  await authenticate(WS.last);
  const room = socket.subscribe('room:lobby');
  const seen = events(room);
  await answerSubscribe(WS.last, { epoch: 'k3J9', offset: 16 });
  const offsets = [];
  room.on('chat.message', (_, envelope) => offsets.push(envelope.offset));
  WS.last.serverSend({ type: 'chat.message', channel: 'room:lobby', offset: 17, data: { text: 'a' } });

  WS.last.serverClose(1006);
  tick(rec.of('close').at(-1).delay);
  await authenticate(WS.last);
  const index = WS.last.sent.findIndex((m) => m.type === 'subscribe');
  assert.deepEqual(WS.last.sent[index].data, { channel: 'room:lobby', since: { epoch: 'k3J9', offset: 17 } });
  assert.equal(index, 1, 'right after the session message');
  await answerSubscribe(WS.last, { epoch: 'k3J9', offset: 19, recovered: true });
  for (const offset of [17, 18, 19, 19, 20]) {
    WS.last.serverSend({ type: 'chat.message', channel: 'room:lobby', offset, data: { text: String(offset) } });
  }

  assert.deepEqual(offsets, [17, 18, 19, 20]);
  assert.equal(room.offset, 20);
  assert.deepEqual(seen.map(([name, info]) => [name, info.recovered, info.resubscribed]), [
    ['subscribed', undefined, false],
    ['subscribed', true, true],
    ['recovered', true, true],
  ]);
});

test('recovered false (other epoch): the client takes the new position and reports it', async (t) => {
  const { WS, socket, rec, tick } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const room = socket.subscribe('room:lobby');
  await answerSubscribe(WS.last, { epoch: 'old', offset: 5 });
  const recovered = [];
  room.on('recovered', (info) => recovered.push(info));
  WS.last.serverClose(1012);
  tick(rec.of('close').at(-1).delay);
  WS.last.serverOpen();
  await flush();
  await answerSubscribe(WS.last, { epoch: 'new', offset: 2, recovered: false });
  const got = [];
  room.on('chat.message', (_, envelope) => got.push(envelope.offset));
  WS.last.serverSend({ type: 'chat.message', channel: 'room:lobby', offset: 3, data: {} });
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0].recovered, false);
  assert.equal(room.epoch, 'new');
  assert.deepEqual(got, [3]);
});

test('re-authentication: after the session ended and a new token, the subscription is made again', async (t) => {
  const { WS, socket } = await setup(t, { sessionId: 'tok-1' });
  socket.connect();
  await authenticate(WS.last);
  const feed = socket.subscribe('user:alice');
  await answerSubscribe(WS.last);
  WS.last.serverSend({ type: 'session', data: { status: 'expired' } });
  WS.last.serverClose(1008, 'session expired');
  assert.equal(socket.state, 'unauthenticated');
  assert.equal(feed.state, 'subscribed', 'kept while waiting for a new session');

  socket.setSessionId('tok-2');
  await authenticate(WS.last);
  assert.deepEqual(WS.last.sent.map((m) => [m.type, m.data]), [
    ['session', { sessionId: 'tok-2' }],
    ['subscribe', { channel: 'user:alice' }],
  ]);
});

test('a server-side unsubscribe push ends the subscription for good', async (t) => {
  const { WS, socket, rec, tick } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const room = socket.subscribe('room:lobby');
  await answerSubscribe(WS.last);
  const seen = events(room);
  const got = [];
  room.on('chat.message', (data) => got.push(data));

  WS.last.serverSend({ type: 'unsubscribe', data: { channel: 'room:lobby', reason: 'kicked' } });
  WS.last.serverSend({ type: 'chat.message', channel: 'room:lobby', data: { text: 'late' } });

  assert.equal(room.state, 'unsubscribed');
  assert.deepEqual(seen, [['unsubscribed', { channel: 'room:lobby', reason: 'kicked' }]]);
  assert.deepEqual(got, []);
  assert.equal(socket.subscriptions.size, 0);
  WS.last.serverClose(1006);
  tick(rec.of('close').at(-1).delay);
  WS.last.serverOpen();
  await flush();
  assert.deepEqual(WS.last.sent, [], 'not subscribed again');
});

test('unsubscribe(): tells the server, drops later publications, and is not made again', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const room = socket.subscribe('room:lobby');
  await answerSubscribe(WS.last);
  const got = [];
  room.on('chat.message', (data) => got.push(data));
  const seen = events(room, ['unsubscribed']);

  const done = room.unsubscribe();
  WS.last.serverSend({ type: 'chat.message', channel: 'room:lobby', data: { text: 'after' } });
  const request = WS.last.sent.at(-1);
  assert.deepEqual([request.type, request.data], ['unsubscribe', { channel: 'room:lobby' }]);
  WS.last.serverSend({ type: 'unsubscribe', id: request.id, data: { channel: 'room:lobby' } });
  await done;

  assert.deepEqual(got, []);
  assert.deepEqual(seen, [['unsubscribed', { channel: 'room:lobby', reason: 'client' }]]);
  assert.notEqual(socket.subscribe('room:lobby'), room, 'a new subscription after the old one ended');
});

test('a refusal (forbidden) ends the subscription: ready rejects, unsubscribed carries the error', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const feed = socket.subscribe('user:bob');
  const seen = events(feed, ['unsubscribed', 'error']);
  const message = WS.last.sent.at(-1);
  WS.last.serverSend({ type: 'error', id: message.id, data: { code: 'forbidden', message: 'Not your channel.' } });
  await flush();

  await assert.rejects(feed.ready, (error) => error.code === 'forbidden' && error.serverError === true);
  assert.equal(feed.state, 'unsubscribed');
  assert.deepEqual(seen.map(([name, info]) => [name, name === 'error' ? info.code : info.reason]), [['error', 'forbidden'], ['unsubscribed', 'forbidden']]);
  assert.equal(socket.subscriptions.size, 0);
});

test('presence(): asks with the channel and resolves with the members', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const room = socket.subscribe('room:lobby');
  await answerSubscribe(WS.last);
  const members = room.presence();
  const request = WS.last.sent.at(-1);
  assert.deepEqual([request.type, request.data], ['presence', { channel: 'room:lobby' }]);
  WS.last.serverSend({ type: 'presence', id: request.id, data: { channel: 'room:lobby', members: [{ userId: 'alice', connections: 2 }] } });
  assert.deepEqual(await members, [{ userId: 'alice', connections: 2 }]);
  const leaving = room.unsubscribe();
  WS.last.serverSend({ type: 'unsubscribe', id: WS.last.sent.at(-1).id, data: { channel: 'room:lobby' } });
  await leaving;
  await assert.rejects(room.presence(), (error) => error.code === 'unsubscribed');
});

test('bad channel names and since values are refused before anything is sent', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  for (const bad of ['', 'room lobby', 'x'.repeat(129), "room:'; DROP TABLE--", 'room:é']) {
    assert.throws(() => socket.subscribe(bad), TypeError, bad);
  }
  assert.throws(() => socket.subscribe('room:a', { since: { epoch: 1, offset: 2 } }), TypeError);
  assert.throws(() => socket.subscribe('room:a', { since: { epoch: 'e', offset: -1 } }), TypeError);
  assert.deepEqual(WS.last.sent, []);
  socket.subscribe('a/b@c.d_e-f:' + 'x'.repeat(116));
  assert.equal(WS.last.sent.length, 1);
});

test('since given by the application is sent on the first subscribe', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  socket.subscribe('room:lobby', { since: { epoch: 'k3J9', offset: 17 } });
  assert.deepEqual(WS.last.sent.at(-1).data, { channel: 'room:lobby', since: { epoch: 'k3J9', offset: 17 } });
});

test('close() ends every subscription', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  await flush();
  const room = socket.subscribe('room:lobby');
  const seen = events(room, ['unsubscribed']);
  const closing = socket.close();
  WS.last.completeClose();
  await closing;
  assert.deepEqual(seen, [['unsubscribed', { channel: 'room:lobby', reason: 'closed' }]]);
  assert.equal(socket.subscriptions.size, 0);
  void record;
});
