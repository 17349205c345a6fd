// Channels against the real sample (DESIGN §7: rooms and direct messages) with `ws` as the WebSocket:
// subscribe, publish through chat.send/chat.direct, presence, refusals, and recovery after the
// connection drops (PROTOCOL §10-12).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSocket } from '../../src/session-socket.js';
import { SampleServer, nodeWebSocket, nextEvent } from '../support/sample-server.mjs';
import { TcpProxy } from '../support/tcp-proxy.mjs';

let server;
const sockets = [];
const proxies = [];

async function connectAs(user, { url = server.wsUrl } = {}) {
  const { sessionId } = await server.login(user);
  const socket = new SessionSocket(url, {
    WebSocket: nodeWebSocket(), sessionId, initialDelay: 100, maxDelay: 500, requestTimeout: 5000,
  });
  sockets.push(socket);
  await socket.connect();
  return socket;
}

/** Resolves with the first `count` publications of `type` the subscription hands the application. */
function collect(subscription, count, type = 'chat.message', ms = 10_000) {
  const got = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} '${type}' within ${ms} ms`)), ms);
    const off = subscription.on(type, (data, envelope) => {
      got.push({ ...data, offset: envelope.offset });
      if (got.length === count) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

before(async () => {
  // the per-user chat rate off: the recovery tests publish faster than a person types
  server = await SampleServer.start({ args: ['--Chat:SendsPerSecond', '0'] });
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close().catch(() => {})));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

after(async () => {
  await server?.stop();
});

describe('rooms', () => {
  test('chat.send to a joined room reaches its subscribers, with the channel', async () => {
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    const carol = await connectAs('carol');
    const aliceRed = alice.subscribe('room:red');
    const bobRed = bob.subscribe('room:red');
    const carolBlue = carol.subscribe('room:blue');
    await Promise.all([aliceRed.ready, bobRed.ready, carolBlue.ready]);
    const carolGot = [];
    carolBlue.on('chat.message', (data) => carolGot.push(data));
    carol.on('chat.message', (data) => carolGot.push(data));

    const bobGets = collect(bobRed, 1);
    const reply = await alice.request('chat.send', { text: 'hi red', room: 'red' });
    assert.equal(reply.ok, true);
    const [message] = await bobGets;
    assert.equal(message.from, 'alice');
    assert.equal(message.text, 'hi red');
    assert.ok(!Number.isNaN(Date.parse(message.at)));
    if (Number.isInteger(reply.offset)) assert.equal(message.offset, reply.offset, 'the reply names the publication\'s offset');

    await carol.request('ping');
    assert.deepEqual(carolGot, [], 'another room hears nothing');
  });

  test('chat.send to a room not joined is forbidden; a bad room name is invalid_data', async () => {
    const alice = await connectAs('outsider');
    await assert.rejects(alice.request('chat.send', { text: 'x', room: 'red' }), { code: 'forbidden' });
    for (const room of ['', 'a b', 'x'.repeat(33), 'room:red']) {
      await assert.rejects(alice.request('chat.send', { text: 'x', room }), { code: 'invalid_data' }, JSON.stringify(room));
    }
    const red = alice.subscribe('room:red');
    await red.ready;
    await assert.rejects(alice.request('chat.send', { text: '', room: 'red' }), { code: 'invalid_data' });
    await assert.rejects(alice.request('chat.send', { text: 'x'.repeat(1001), room: 'red' }), { code: 'invalid_data' });
    assert.equal((await alice.request('chat.send', { text: 'now I may', room: 'red' })).ok, true);
  });

  test('presence: members on subscribe, then presence.join and presence.leave', async () => {
    const alice = await connectAs('p_alice');
    const bob = await connectAs('p_bob');
    const room = alice.subscribe('room:members');
    await room.ready;
    assert.deepEqual(await room.presence(), [{ userId: 'p_alice', connections: 1 }]);

    const joined = nextEventOf(room, 'presence.join', (d) => d.userId === 'p_bob');
    const bobRoom = bob.subscribe('room:members');
    await bobRoom.ready;
    assert.deepEqual(await joined, { userId: 'p_bob' });
    assert.deepEqual(await room.presence(), [{ userId: 'p_alice', connections: 1 }, { userId: 'p_bob', connections: 1 }]);

    const left = nextEventOf(room, 'presence.leave', (d) => d.userId === 'p_bob');
    await bobRoom.unsubscribe();
    assert.deepEqual(await left, { userId: 'p_bob' });
  });
});

describe('direct messages', () => {
  test('chat.direct reaches the recipient\'s own channel, marked direct', async () => {
    const alice = await connectAs('d_alice');
    const bob = await connectAs('d_bob');
    const feed = bob.subscribe('user:d_bob');
    await feed.ready;
    const got = collect(feed, 1);
    assert.deepEqual(await alice.request('chat.direct', { to: 'd_bob', text: 'psst' }), { ok: true });
    const [message] = await got;
    assert.equal(message.from, 'd_alice');
    assert.equal(message.text, 'psst');
    assert.equal(message.direct, true);
  });

  test('another user\'s channel is refused: the subscription ends with forbidden', async () => {
    const mallory = await connectAs('mallory');
    const stolen = mallory.subscribe('user:d_bob');
    await assert.rejects(stolen.ready, { code: 'forbidden' });
    assert.equal(stolen.state, 'unsubscribed');
    await assert.rejects(mallory.request('chat.direct', { to: 'bad name', text: 'x' }), { code: 'invalid_data' });
    await assert.rejects(mallory.request('chat.direct', { to: 'd_bob' }), { code: 'invalid_data' });
  });
});

describe('recovery', () => {
  test('the connection drops, 5 are published meanwhile: recovered, exactly those 5 in order, then live', async () => {
    const proxy = await TcpProxy.start(server.port);
    proxies.push(proxy);
    const reader = await connectAs('reader', { url: proxy.wsUrl });
    const writer = await connectAs('writer');
    const room = reader.subscribe('room:recover');
    const writerRoom = writer.subscribe('room:recover');
    const first = await room.ready;
    await writerRoom.ready;
    assert.equal(typeof first.epoch, 'string', 'the sample keeps history in rooms');
    const before = collect(room, 1);
    await writer.request('chat.send', { text: 'before', room: 'recover' });
    const [seen] = await before;

    const gaps = [];
    room.on('gap', (info) => gaps.push(info));
    const reconnecting = nextEvent(reader, 'state', (s) => s === 'reconnecting');
    proxy.hold();
    await reconnecting;
    const offsets = [];
    for (let i = 1; i <= 5; i++) offsets.push((await writer.request('chat.send', { text: `missed ${i}`, room: 'recover' })).offset);
    assert.deepEqual(offsets, [1, 2, 3, 4, 5].map((n) => seen.offset + n));

    const recovered = nextEventOf(room, 'recovered');
    const missed = collect(room, 6);
    proxy.release();
    const info = await recovered;
    assert.equal(info.recovered, true);
    assert.equal(room.recovered, true);
    await writer.request('chat.send', { text: 'live', room: 'recover' });
    const got = await missed;
    assert.deepEqual(got.map((m) => m.text), ['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'live']);
    assert.deepEqual(got.map((m) => m.offset), [1, 2, 3, 4, 5, 6].map((n) => seen.offset + n));
    assert.deepEqual(gaps, []);
    assert.ok(proxy.refused >= 0);
  });
});

describe('recovery under load', () => {
  test('dropped three times while another client publishes: every publication once, consecutive offsets', async () => {
    const proxy = await TcpProxy.start(server.port);
    proxies.push(proxy);
    const reader = await connectAs('steady_reader', { url: proxy.wsUrl });
    const writer = await connectAs('steady_writer');
    const room = reader.subscribe('room:steady');
    const writerRoom = writer.subscribe('room:steady');
    const start = (await room.ready).offset;
    await writerRoom.ready;
    const offsets = [];
    const texts = [];
    room.on('chat.message', (data, envelope) => {
      offsets.push(envelope.offset);
      texts.push(data.text);
    });
    const gaps = [];
    room.on('gap', (info) => gaps.push(info));
    let recoveries = 0;
    room.on('recovered', (info) => { if (info.recovered) recoveries += 1; });

    const total = 40;
    const last = collectUntil(room, (data) => data.text === `n${total}`);
    for (let i = 1; i <= total; i++) {
      await writer.request('chat.send', { text: `n${i}`, room: 'steady' });
      if (i % 10 === 5 && i < 35) {
        const reconnected = nextEvent(reader, 'open', (info) => info.reconnected, 20_000);
        reconnected.catch(() => {}); // awaited below only once
        proxy.drop(); // the reader's connection ends (1006); it reconnects at once and recovers with since
        if (i === 25) await reconnected; // once, wait for the reconnect; the other drops race the publications
      }
    }
    await last;

    assert.deepEqual(offsets, Array.from({ length: total }, (_, i) => start + 1 + i), 'each offset once, in order');
    assert.deepEqual(texts, Array.from({ length: total }, (_, i) => `n${i + 1}`));
    assert.deepEqual(gaps, []);
    assert.ok(recoveries >= 1, `recovered ${recoveries} times`);
  });
});

/** Resolves when the subscription hands the application a publication for which `predicate` holds. */
function collectUntil(subscription, predicate, ms = 20_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching publication on ${subscription.channel} within ${ms} ms`)), ms);
    const off = subscription.on('chat.message', (data) => {
      if (!predicate(data)) return;
      clearTimeout(timer);
      off();
      resolve(data);
    });
  });
}

/** Like nextEvent, for a subscription's events. */
function nextEventOf(subscription, name, predicate = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${name}' on ${subscription.channel} within ${ms} ms`));
    }, ms);
    const off = subscription.on(name, (arg) => {
      if (!predicate(arg)) return;
      clearTimeout(timer);
      off();
      resolve(arg);
    });
  });
}
