import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, flush, authenticate } from '../support/fake-websocket.mjs';

/** random() values from a list, in turn */
function sequence(values) {
  let i = 0;
  return () => values[i++ % values.length];
}

/**
 * Asserts that the next socket is created exactly `delay` ms after now (not one ms earlier).
 */
function assertNextAttemptAfter(WS, tick, delay) {
  const before = WS.instances.length;
  if (delay > 0) {
    tick(delay - 1);
    assert.equal(WS.instances.length, before, `no new attempt before ${delay} ms`);
    tick(1);
  } else {
    tick(0);
  }
  assert.equal(WS.instances.length, before + 1, `a new attempt at ${delay} ms`);
}

test('backoff: full jitter over an exponential ceiling starting at initialDelay, capped at maxDelay', async (t) => {
  const r = 0.999;
  const { WS, socket, rec, tick } = await setup(t, { random: () => r, initialDelay: 500, maxDelay: 20000 });
  socket.connect();
  const expectedCeilings = [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000];
  for (const [i, ceiling] of expectedCeilings.entries()) {
    WS.last.serverClose(1006); // the handshake failed: server down
    const close = rec.of('close').at(-1);
    assert.equal(close.willRetry, true);
    assert.equal(close.attempt, i + 1);
    assert.equal(close.delay, Math.floor(r * ceiling), `attempt ${i + 1}`);
    assert.ok(close.delay < ceiling);
    assert.equal(socket.state, 'connecting', 'never opened yet: still connecting');
    assertNextAttemptAfter(WS, tick, close.delay);
  }
});

test('backoff: the jitter spans [0, ceiling) with the real random source', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { random: undefined, initialDelay: 100, maxDelay: 800 });
  socket.connect();
  const seen = new Map(); // ceiling -> delays
  for (let i = 0; i < 60; i++) {
    WS.last.serverClose(1006);
    const { delay, attempt } = rec.of('close').at(-1);
    const ceiling = Math.min(800, 100 * 2 ** (attempt - 1));
    assert.ok(Number.isInteger(delay) && delay >= 0 && delay < ceiling, `delay ${delay} for ceiling ${ceiling}`);
    if (!seen.has(ceiling)) seen.set(ceiling, []);
    seen.get(ceiling).push(delay);
    assertNextAttemptAfter(WS, tick, delay);
  }
  const capped = seen.get(800);
  assert.ok(capped.length >= 50);
  // with 56 uniform draws in [0,800), values on both sides of the middle are all but certain
  assert.ok(capped.some((d) => d < 400) && capped.some((d) => d >= 400), 'jittered, not constant');
});

test('a random value of 0 retries at once (full jitter has no floor)', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { random: () => 0 });
  socket.connect();
  WS.last.serverClose(1006);
  assert.equal(rec.of('close').at(-1).delay, 0);
  assertNextAttemptAfter(WS, tick, 0);
});

test('backoff starts over after a connection stayed open for stableAfter', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { random: () => 0.999, stableAfter: 5000, pingInterval: 0 });
  socket.connect();
  for (let i = 0; i < 3; i++) {
    WS.last.serverClose(1006);
    tick(rec.of('close').at(-1).delay);
  }
  assert.equal(rec.of('close').at(-1).attempt, 3);
  // opens, but drops before it counts as stable: the backoff keeps growing
  WS.last.serverOpen();
  tick(4999);
  WS.last.serverClose(1006);
  let close = rec.of('close').at(-1);
  assert.equal(close.attempt, 4);
  assert.equal(close.delay, Math.floor(0.999 * 4000));
  assert.equal(socket.state, 'reconnecting', 'it had opened once: now reconnecting');
  tick(close.delay);
  // stable this time
  WS.last.serverOpen();
  tick(5000);
  WS.last.serverClose(1006);
  close = rec.of('close').at(-1);
  assert.equal(close.attempt, 1);
  assert.equal(close.delay, Math.floor(0.999 * 500));
});

for (const code of [1001, 1006, 1011, 1012, 1013]) {
  test(`close ${code} is retried and the connection comes back`, async (t) => {
    const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
    socket.connect();
    await authenticate(WS.last);
    WS.last.serverClose(code, code === 1006 ? '' : 'bye');
    const close = rec.of('close').at(-1);
    assert.equal(close.code, code);
    assert.equal(close.willRetry, true);
    assert.equal(socket.state, 'reconnecting');
    assertNextAttemptAfter(WS, tick, close.delay);
    await authenticate(WS.last);
    assert.equal(socket.state, 'open');
    assert.deepEqual(rec.of('open').at(-1).reconnected, true);
  });
}

for (const [code, reason] of [[1000, ''], [1003, 'binary'], [1008, 'rate limit'], [1009, 'too big'], [4001, 'app']]) {
  test(`close ${code} ${reason} is not retried`, async (t) => {
    const { WS, socket, rec, tick } = await setup(t);
    socket.connect();
    WS.last.serverOpen();
    const pending = socket.request('echo', 1);
    WS.last.serverClose(code, reason);
    assert.equal(socket.state, 'closed');
    assert.deepEqual(rec.of('close').at(-1), { code, reason, wasClean: true, willRetry: false });
    await assert.rejects(pending, { code: 'connection_closed', closeCode: code });
    tick(600_000);
    assert.equal(WS.instances.length, 1, 'no new attempt');
  });
}

test('shouldReconnect overrides the retry decision', async (t) => {
  const seen = [];
  const { WS, socket, rec } = await setup(t, {
    shouldReconnect: (event) => { seen.push(event.code); return event.code === 4500; },
  });
  socket.connect();
  WS.last.serverOpen();
  WS.last.serverClose(4500, 'try again');
  assert.equal(rec.of('close').at(-1).willRetry, true);
  assert.deepEqual(seen, [4500]);
});

test('reconnect: false never retries', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { reconnect: false });
  socket.connect();
  WS.last.serverOpen();
  WS.last.serverClose(1006);
  assert.equal(rec.of('close').at(-1).willRetry, false);
  assert.equal(socket.state, 'closed');
  tick(600_000);
  assert.equal(WS.instances.length, 1);
});

test('maxAttempts bounds the consecutive attempts, then the client closes', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { maxAttempts: 3 });
  const connected = socket.connect();
  for (let i = 0; i < 3; i++) {
    WS.last.serverClose(1006);
    tick(rec.of('close').at(-1).delay);
  }
  assert.equal(WS.instances.length, 4);
  WS.last.serverClose(1006);
  assert.equal(rec.of('close').at(-1).willRetry, false);
  assert.equal(socket.state, 'closed');
  await assert.rejects(connected, { code: 'closed' });
  tick(600_000);
  assert.equal(WS.instances.length, 4);
});

test('connect timeout: a handshake that never completes is abandoned and retried', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { connectTimeout: 3000 });
  socket.connect();
  tick(2999);
  assert.equal(rec.of('close').length, 0);
  tick(1);
  const first = WS.instances[0];
  assert.deepEqual(first.closeCalls, [{ code: 4000, reason: 'connect timeout' }]);
  const close = rec.of('close').at(-1);
  assert.deepEqual({ code: close.code, reason: close.reason, willRetry: close.willRetry }, { code: 1006, reason: 'connect timeout', willRetry: true });
  // the old socket's late events are ignored
  first.serverOpen();
  first.serverClose(1006);
  assert.equal(rec.of('close').length, 1);
  assertNextAttemptAfter(WS, tick, close.delay);
});

test('connect() while waiting for the backoff retries at once', async (t) => {
  const { WS, socket, rec } = await setup(t, { random: () => 0.99 });
  socket.connect();
  WS.last.serverOpen();
  WS.last.serverClose(1006);
  assert.ok(rec.of('close').at(-1).delay > 0);
  assert.equal(WS.instances.length, 1);
  const connected = socket.connect();
  assert.equal(WS.instances.length, 2);
  WS.last.serverOpen();
  await connected;
  assert.equal(socket.state, 'open');
});

test('close() while waiting for the backoff cancels the retry', async (t) => {
  const { WS, socket, rec, tick } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  WS.last.serverClose(1006);
  await socket.close();
  assert.equal(socket.state, 'closed');
  tick(600_000);
  assert.equal(WS.instances.length, 1);
  assert.deepEqual(rec.of('state'), ['connecting', 'open', 'reconnecting', 'closed']);
});

test('state events walk through connecting, open, reconnecting', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  await authenticate(WS.last);
  WS.last.serverClose(1012, 'service restart');
  tick(rec.of('close').at(-1).delay);
  await authenticate(WS.last);
  await flush();
  assert.deepEqual(rec.events.filter((e) => e.name === 'state').map((e) => e.args),
    [['connecting', 'idle'], ['open', 'connecting'], ['reconnecting', 'open'], ['open', 'reconnecting']]);
});

test('after 1001 the reconnect is spread over at least restartWindow (5 s), not [0, initialDelay)', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok', random: () => 0.999 });
  socket.connect();
  await authenticate(WS.last);
  WS.last.serverClose(1001, 'server shutting down');
  const close = rec.of('close').at(-1);
  assert.equal(close.willRetry, true);
  assert.equal(close.delay, Math.floor(0.999 * 5000));
  assertNextAttemptAfter(WS, tick, close.delay);
});

test('after 1001 many clients spread their reconnects over the whole window', async (t) => {
  const delays = [];
  for (let i = 0; i < 40; i++) {
    await t.test(`client ${i}`, async (c) => {
      const { WS, socket, rec } = await setup(c, { sessionId: 'tok', random: () => i / 40 });
      socket.connect();
      await authenticate(WS.last);
      WS.last.serverClose(1001, 'server shutting down');
      delays.push(rec.of('close').at(-1).delay);
      socket.close();
    });
  }
  assert.ok(Math.max(...delays) >= 4500, `the latest waits most of the window (${Math.max(...delays)} ms)`);
  assert.ok(delays.filter((d) => d >= 500).length >= 35, 'not bunched in [0, 500 ms)');
});

test('a restartWindow of 0 keeps the plain backoff after 1001', async (t) => {
  const { WS, socket, rec } = await setup(t, { sessionId: 'tok', random: () => 0.999, restartWindow: 0 });
  socket.connect();
  await authenticate(WS.last);
  WS.last.serverClose(1001, 'server shutting down');
  assert.equal(rec.of('close').at(-1).delay, Math.floor(0.999 * 500));
});

test('1008 "send queue overflow" is retried and the connection comes back', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, { sessionId: 'tok' });
  socket.connect();
  await authenticate(WS.last);
  WS.last.serverClose(1008, 'send queue overflow');
  const close = rec.of('close').at(-1);
  assert.equal(close.willRetry, true);
  assertNextAttemptAfter(WS, tick, close.delay);
  await authenticate(WS.last);
  assert.equal(socket.state, 'open');
});
