import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, flush, authenticate, isAllowedCloseCode } from '../support/fake-websocket.mjs';

test('close() refuses every code a browser forbids, before touching the socket', async (t) => {
  const { WS, socket } = await setup(t);
  socket.connect();
  WS.last.serverOpen();
  for (const code of [0, 999, 1001, 1002, 1005, 1006, 1008, 1011, 1015, 2999, 5000, 3000.5, NaN]) {
    assert.throws(() => socket.close(code), RangeError, `code ${code}`);
  }
  assert.throws(() => socket.close(1000, 'x'.repeat(124)), RangeError, 'reason over 123 bytes');
  assert.throws(() => socket.close(1000, 'é'.repeat(62)), RangeError, '124 UTF-8 bytes');
  assert.deepEqual(WS.closeCodes, [], 'nothing reached the socket');
  assert.equal(socket.state, 'open', 'a refused close changes nothing');
  const closing = socket.close(3000, 'é'.repeat(61));
  WS.last.completeClose();
  await closing;
  assert.deepEqual(WS.closeCodes, [3000]);
});

test('every close the client initiates by itself uses an allowed code', async (t) => {
  const { WS, socket, rec, tick } = await setup(t, {
    sessionId: 'tok', connectTimeout: 1000, pingInterval: 1000, pingTimeout: 500, closeTimeout: 500,
  });
  socket.connect();
  tick(1000); // connect timeout
  tick(rec.of('close').at(-1).delay);
  await authenticate(WS.last, 'unavailable'); // store down: abandoned
  tick(rec.of('close').at(-1).delay);
  await authenticate(WS.last);
  tick(1000); // a ping goes out (Node 20's fake clock does not run timers set during the same tick)
  tick(500); // ping timeout
  tick(rec.of('close').at(-1).delay);
  await authenticate(WS.last);
  WS.last.serverSend({ type: 'session', data: { status: 'revoked' } });
  tick(500); // server never closed after the push
  assert.equal(socket.state, 'unauthenticated');
  socket.setSessionId('other');
  await authenticate(WS.last, 'invalid'); // rejected token
  socket.setSessionId('third');
  await authenticate(WS.last);
  const closing = socket.close();
  WS.last.completeClose();
  await closing;
  await flush();

  assert.ok(WS.closeCodes.length >= 6, `closes seen: ${WS.closeCodes}`);
  assert.deepEqual(WS.closeCodes.filter((code) => !isAllowedCloseCode(code)), []);
  assert.deepEqual(WS.closeCodes, [4000, 4000, 4000, 4000, 1000, 1000]);
});
