// Misuse the declarations must reject. Each `@ts-expect-error` must meet an error on the next line:
// when a declaration turns loose (say `any`), tsc fails with "Unused '@ts-expect-error' directive".
import { SessionSocket, SessionSocketError } from '@sessionsockets/client';

type Pushes = { 'chat.message': { from: string; text: string } };
type Requests = {
  whoami: { request: void; reply: { userId: string } };
  'chat.send': { request: { text: string }; reply: { ok: boolean } };
};

export async function misuse(): Promise<void> {
  const socket = new SessionSocket<Pushes, Requests>('/ws');

  // @ts-expect-error a type the map does not declare
  await socket.request('whoamI');
  // @ts-expect-error the reply is { userId: string }
  const wrongReply: { userId: number } = await socket.request('whoami');
  // @ts-expect-error the reply has no such property
  (await socket.request('whoami')).name;
  // @ts-expect-error chat.send needs its data
  await socket.request('chat.send');
  // @ts-expect-error text is a string
  await socket.request('chat.send', { text: 1 });
  // @ts-expect-error whoami takes no data
  await socket.request('whoami', { user: 'alice' });
  // @ts-expect-error the options are RequestOptions
  await socket.request('whoami', undefined, { timeout: '5s' });
  // @ts-expect-error send checks types as request does
  socket.send('chat.sendd', { text: 'hi' });
  // @ts-expect-error and its data
  socket.send('chat.send', { body: 'hi' });

  // @ts-expect-error with a map, the reply comes from it, not from a type argument
  await socket.request<{ other: string }>('whoami');
  // @ts-expect-error nor the push data
  socket.on<{ other: string }>('chat.message', () => {});
  // @ts-expect-error a push type the map does not declare
  socket.on('chat.mesage', () => {});
  // @ts-expect-error the push's data has no such property
  socket.on('chat.message', (data) => data.body);
  // @ts-expect-error text is a string
  socket.once('chat.message', (data) => { const n: number = data.text; return n; });
  // @ts-expect-error lifecycle listeners are typed too
  socket.on('open', (info) => info.nope);
  // @ts-expect-error a state listener gets states
  socket.on('state', (state: number) => state);
  // @ts-expect-error message listeners get the declared pushes only
  socket.on('message', (envelope) => envelope.type === 'other.push');

  // @ts-expect-error not a state
  if (socket.state === 'opened') return;
  // @ts-expect-error the session is possibly null
  socket.session.status;
  // @ts-expect-error read-only
  socket.queued = 0;
  // @ts-expect-error a number is not a session id provider
  socket.setSessionId(42);

  // @ts-expect-error options are checked
  new SessionSocket('/ws', { maxQueue: '10' });
  // @ts-expect-error unknown options are rejected
  new SessionSocket('/ws', { reconnectt: false });
  // @ts-expect-error the url is a string or URL
  new SessionSocket(5000);

  const error = new SessionSocketError('timeout', 'no reply');
  // @ts-expect-error closeCode is a number
  const reason: string = error.closeCode;

  // @ts-expect-error the map's entries need { request; reply }
  new SessionSocket<Pushes, { whoami: { reply: string } }>('/ws');

  void wrongReply;
  void reason;

  const room = socket.subscribe<{ 'chat.message': { text: string } }>('room:lobby');
  // @ts-expect-error a publication type the channel's map does not declare
  room.on('chat.mesage', () => {});
  // @ts-expect-error text is a string
  room.on('chat.message', (data: { text: number }) => {});
  // @ts-expect-error since needs an epoch
  socket.subscribe('room:lobby', { since: { offset: 1 } });
  // @ts-expect-error a gap reports numbers
  room.on('gap', (info: { expected: string }) => {});
  // @ts-expect-error recovered is read-only, set by the server's reply
  room.recovered = true;
  // @ts-expect-error presence resolves with members, not strings
  const names: string[] = await room.presence();
}
