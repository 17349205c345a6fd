// History and recovery on the client (docs/protocol.md, History and recovery) against the scripted fake
// WebSocket: the position a subscription keeps, `since` after every reconnect and re-authentication,
// `recovered` as an event and a field, and what a misbehaving server cannot make the client do: hand
// the application a duplicate or an out-of-order publication, or skip offsets without a `gap` event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, flush, authenticate } from '../support/fake-websocket.mjs';

async function answerSubscribe(ws, data = {}) {
  const message = ws.sent.filter((m) => m.type === 'subscribe').at(-1);
  assert.ok(message, 'a subscribe was sent');
  ws.serverSend({ type: 'subscribe', id: message.id, data: { channel: message.data.channel, ...data } });
  await flush();
  return message;
}

function publish(ws, offset, channel = 'room:lobby', type = 'chat.message') {
  ws.serverSend({ type, channel, offset, data: { n: offset } });
}

/** A subscribed `room:lobby` at {epoch, offset} on an open connection; `got` collects the offsets the app sees. */
async function subscribed(t, { epoch = 'e1', offset = 0, sessionId } = {}) {
  const ctx = await setup(t, sessionId ? { sessionId } : {});
  ctx.socket.connect();
  if (sessionId) await authenticate(ctx.WS.last);
  else {
    ctx.WS.last.serverOpen();
    await flush();
  }
  const room = ctx.socket.subscribe('room:lobby');
  await answerSubscribe(ctx.WS.last, { epoch, offset });
  const got = [];
  const gaps = [];
  room.on('chat.message', (data, envelope) => got.push(envelope.offset));
  room.on('gap', (info) => gaps.push(info));
  return { ...ctx, room, got, gaps };
}

async function reconnect({ WS, rec, tick }, sessionId) {
  WS.last.serverClose(1006);
  tick(rec.of('close').at(-1).delay);
  if (sessionId) await authenticate(WS.last);
  else {
    WS.last.serverOpen();
    await flush();
  }
}

test('duplicates and publications out of order are dropped; the position only moves forward', async (t) => {
  const { WS, room, got, gaps } = await subscribed(t, { offset: 3 });
  const envelopes = [];
  room.on('message', (envelope) => envelopes.push(envelope.offset));
  for (const offset of [4, 4, 5, 3, 1, 6, 5, 7]) publish(WS.last, offset);

  assert.deepEqual(got, [4, 5, 6, 7]);
  assert.deepEqual(envelopes, [4, 5, 6, 7], 'the message event sees only what the application gets');
  assert.equal(room.offset, 7);
  assert.deepEqual(gaps, []);
});

test('a skipped offset is reported as a gap (expected, got) before the later publication is delivered', async (t) => {
  const { WS, room, got, gaps } = await subscribed(t, { epoch: 'k3J9', offset: 10 });
  const order = [];
  room.on('gap', () => order.push('gap'));
  room.on('chat.message', (_, envelope) => order.push(envelope.offset));
  publish(WS.last, 11);
  publish(WS.last, 14);
  publish(WS.last, 12); // late: below what was delivered, dropped
  publish(WS.last, 15);

  assert.deepEqual(got, [11, 14, 15]);
  assert.deepEqual(gaps, [{ channel: 'room:lobby', epoch: 'k3J9', expected: 12, got: 14 }]);
  assert.deepEqual(order, [11, 'gap', 14, 15]);
});

test('a publication whose type is a subscription event name reaches only message listeners', async (t) => {
  const { WS, room, gaps } = await subscribed(t, { offset: 0 });
  const seen = [];
  room.on('message', (envelope) => seen.push(envelope.type));
  publish(WS.last, 1, 'room:lobby', 'gap');
  assert.deepEqual(gaps, [], 'no gap event from a publication named gap');
  assert.deepEqual(seen, ['gap']);
});

test('recovered is a field too: true after a recovery, false when history could not cover the gap', async (t) => {
  const ctx = await subscribed(t, { offset: 5 });
  const { WS, room, got } = ctx;
  assert.equal(room.recovered, undefined, 'a first subscribe without since');
  publish(WS.last, 6);

  await reconnect(ctx);
  assert.deepEqual(WS.last.sent.at(-1).data, { channel: 'room:lobby', since: { epoch: 'e1', offset: 6 } });
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 8, recovered: true });
  assert.equal(room.recovered, true);
  assert.equal(room.offset, 6, 'the missed ones follow the reply');
  publish(WS.last, 7);
  publish(WS.last, 8);

  await reconnect(ctx);
  assert.deepEqual(WS.last.sent.at(-1).data.since, { epoch: 'e1', offset: 8 });
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 40, recovered: false });
  assert.equal(room.recovered, false);
  assert.equal(room.offset, 40, 'live publications only, from the channel\'s newest');
  publish(WS.last, 39); // history the client was told it will not get
  publish(WS.last, 41);
  assert.deepEqual(got, [6, 7, 8, 41]);
});

test('a reply that goes back within the same epoch never makes the client deliver an offset twice', async (t) => {
  const ctx = await subscribed(t, { offset: 0 });
  const { WS, room, got } = ctx;
  publish(WS.last, 1);
  publish(WS.last, 2);
  await reconnect(ctx);
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 1, recovered: false });
  assert.equal(room.offset, 2);
  publish(WS.last, 2);
  publish(WS.last, 3);
  assert.deepEqual(got, [1, 2, 3]);
});

test('a new epoch starts the position again: offsets below the old one are new publications', async (t) => {
  const ctx = await subscribed(t, { epoch: 'old', offset: 50 });
  const { WS, room, got, gaps } = ctx;
  await reconnect(ctx);
  await answerSubscribe(WS.last, { epoch: 'new', offset: 0, recovered: false });
  assert.equal(room.epoch, 'new');
  publish(WS.last, 1);
  publish(WS.last, 2);
  assert.deepEqual(got, [1, 2]);
  assert.deepEqual(gaps, []);
});

test('every reconnect and re-authentication sends since with the last offset delivered', async (t) => {
  const ctx = await subscribed(t, { epoch: 'e1', offset: 0, sessionId: 'tok-1' });
  const { WS, socket, got } = ctx;
  publish(WS.last, 1);

  await reconnect(ctx, 'tok-1');
  assert.deepEqual(WS.last.sent.map((m) => [m.type, m.data]), [
    ['session', { sessionId: 'tok-1' }],
    ['subscribe', { channel: 'room:lobby', since: { epoch: 'e1', offset: 1 } }],
  ]);
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 2, recovered: true });
  publish(WS.last, 2);

  WS.last.serverSend({ type: 'session', data: { status: 'revoked' } });
  WS.last.serverClose(1008, 'session revoked');
  assert.equal(socket.state, 'unauthenticated');
  socket.setSessionId('tok-2');
  await authenticate(WS.last);
  assert.deepEqual(WS.last.sent.map((m) => [m.type, m.data]), [
    ['session', { sessionId: 'tok-2' }],
    ['subscribe', { channel: 'room:lobby', since: { epoch: 'e1', offset: 2 } }],
  ]);
  assert.deepEqual(got, [1, 2]);
});

test('a publication of the old connection that arrives late is not delivered after the reconnect', async (t) => {
  const ctx = await subscribed(t, { offset: 0 });
  const { WS, got } = ctx;
  const old = WS.last;
  await reconnect(ctx);
  publish(old, 1); // the dead socket's handlers are gone
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 1, recovered: false });
  publish(WS.last, 2);
  assert.deepEqual(got, [2]);
});

test('a channel without history (no offsets) delivers everything, with no position and no gap', async (t) => {
  const ctx = await setup(t);
  ctx.socket.connect();
  ctx.WS.last.serverOpen();
  await flush();
  const room = ctx.socket.subscribe('room:plain');
  await answerSubscribe(ctx.WS.last);
  const got = [];
  room.on('chat.message', (data) => got.push(data.text));
  room.on('gap', () => assert.fail('no gap without offsets'));
  for (const text of ['a', 'a', 'b']) ctx.WS.last.serverSend({ type: 'chat.message', channel: 'room:plain', data: { text } });
  assert.deepEqual(got, ['a', 'a', 'b']);
  assert.equal(room.offset, undefined);
  await reconnect(ctx);
  assert.deepEqual(ctx.WS.last.sent.at(-1).data, { channel: 'room:plain' }, 'nothing to recover from');
});

test('the server drops a recovering subscription for overflow: the client subscribes again from the last one delivered', async (t) => {
  const ctx = await subscribed(t, { epoch: 'e1', offset: 0 });
  const { WS, room, got } = ctx;
  const ended = [];
  room.on('unsubscribed', (info) => ended.push(info));
  publish(WS.last, 1);
  publish(WS.last, 2);
  WS.last.serverSend({ type: 'unsubscribe', data: { channel: 'room:lobby', reason: 'overflow' } });

  assert.deepEqual(ended, [], 'the subscription is kept');
  assert.equal(room.state, 'subscribed');
  assert.deepEqual(WS.last.sent.at(-1).data, { channel: 'room:lobby', since: { epoch: 'e1', offset: 2 } });
  await answerSubscribe(WS.last, { epoch: 'e1', offset: 4, recovered: true });
  publish(WS.last, 3);
  publish(WS.last, 4);
  assert.deepEqual(got, [1, 2, 3, 4]);
  assert.equal(room.recovered, true);
  assert.equal(ctx.socket.subscriptions.get('room:lobby'), room);
});
