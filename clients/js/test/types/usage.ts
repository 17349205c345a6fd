// Typed use of the client as an application writes it: must compile without errors.
import { SessionSocket, SessionSocketError, States, RETRYABLE_CLOSE_CODES } from '@sessionsockets/client';
import DefaultSessionSocket from '@sessionsockets/client';
import WebSocket from 'ws';
import type { Subscription, SubscribedInfo, UnsubscribedInfo, PresenceMember, StreamPosition, GapInfo } from '@sessionsockets/client';
import type {
  CloseInfo, OpenInfo, PushEnvelope, SessionInfo, SessionSocketOptions, SessionSocketState,
} from '@sessionsockets/client';

/** Exactly this type, neither wider nor narrower (`any` fails too). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T>(_value: T): void {}
function assertType<Condition extends true>(): Condition | void {}

// The sample's messages (samples/Chat): what the server pushes, and what the client sends.
type ChatPushes = {
  'chat.message': { from: string; text: string; at: string };
};
interface ChatRequests {
  whoami: { request: void; reply: { userId: string; expiresAt: string; connectionId: string } };
  echo: { request: { n: number } | undefined; reply: { n: number } | null };
  'chat.send': { request: { text: string }; reply: { ok: boolean } };
  typing: { request: { on: boolean }; reply: void };
}

const options: SessionSocketOptions = {
  sessionId: async () => 'token',
  reconnect: true,
  initialDelay: 250,
  maxQueue: 10,
  shouldReconnect: (info: CloseInfo) => info.code !== 1003,
  random: Math.random,
};

export async function typed(): Promise<void> {
  const socket = new SessionSocket<ChatPushes, ChatRequests>('/ws', options);

  const me = await socket.request('whoami');
  assertType<Equals<typeof me, { userId: string; expiresAt: string; connectionId: string }>>();
  expectType<string>(me.userId);

  const sent = await socket.request('chat.send', { text: 'hi' }, { timeout: 5000, resend: true, signal: AbortSignal.timeout(1000) });
  assertType<Equals<typeof sent, { ok: boolean }>>();

  const echoed = await socket.request('echo');
  assertType<Equals<typeof echoed, { n: number } | null>>();
  await socket.request('echo', { n: 1 });
  await socket.request('whoami', undefined, { timeout: 0 });

  socket.send('typing', { on: true });

  const off = socket.on('chat.message', (data, envelope) => {
    assertType<Equals<typeof data, { from: string; text: string; at: string }>>();
    assertType<Equals<typeof envelope.type, 'chat.message'>>();
    expectType<string>(envelope.data.text);
  });
  off();
  socket.once('chat.message', ({ from }) => expectType<string>(from));

  socket.on('open', (info) => {
    assertType<Equals<typeof info, OpenInfo>>();
    expectType<boolean>(info.reconnected);
  });
  socket.on('close', ({ code, willRetry, delay }) => {
    expectType<number>(code);
    expectType<boolean>(willRetry);
    expectType<number | undefined>(delay);
  });
  socket.on('session', (session) => assertType<Equals<typeof session, SessionInfo>>());
  socket.on('state', (state, previous) => {
    assertType<Equals<typeof state, SessionSocketState>>();
    expectType<SessionSocketState>(previous);
  });
  socket.on('error', (error) => {
    assertType<Equals<typeof error, SessionSocketError>>();
    if (error.code === 'rate_limited' && error.serverError) expectType<string | undefined>(error.type);
  });
  socket.on('message', (envelope) => {
    assertType<Equals<typeof envelope, PushEnvelope<ChatPushes>>>();
    if (envelope.type === 'chat.message') expectType<string>(envelope.data.from);
  });

  socket.setSessionId(() => Promise.resolve('next'));
  socket.setSessionId(undefined);
  expectType<string>(socket.url);
  expectType<number>(socket.queued);
  expectType<SessionInfo | null>(socket.session);
  if (socket.state === States.UNAUTHENTICATED) socket.setSessionId('again');
  await socket.connect();
  await socket.close(4000, 'bye');
}

// Without type arguments everything is loose, as in plain JavaScript.
export async function untyped(): Promise<void> {
  const socket = new DefaultSessionSocket('ws://127.0.0.1:5000/ws', { WebSocket: globalThis.WebSocket });
  const reply = await socket.request('anything', { any: 'data' });
  assertType<Equals<typeof reply, any>>();
  await socket.request('ping');
  socket.send('whatever');
  socket.send('whatever', [1, 2, 3]);
  socket.on('some.push', (data, envelope) => {
    assertType<Equals<typeof data, any>>();
    expectType<string>(envelope.type);
  });
  socket.on('message', ({ type }) => expectType<string>(type));

  // the per-call type arguments of the untyped socket
  const sent = await socket.request<{ ok: boolean }>('chat.send', { text: 'hi' }, { timeout: 1000 });
  assertType<Equals<typeof sent, { ok: boolean }>>();
  socket.on<{ from: string }>('chat.message', (data, envelope) => {
    assertType<Equals<typeof data, { from: string }>>();
    assertType<Equals<typeof envelope.data, { from: string }>>();
  });
  socket.once<number>('count', (n) => assertType<Equals<typeof n, number>>());
  socket.off('some.push', () => {});

  try {
    await socket.request('x');
  } catch (error) {
    if (error instanceof SessionSocketError && error.code === 'connection_closed') {
      expectType<number | undefined>(error.closeCode);
    }
  }
  expectType<readonly number[]>(RETRYABLE_CLOSE_CODES);
}

// Channels (docs/protocol.md, Channels and Presence): the sample's rooms.
type RoomPublications = { 'chat.message': { from: string; text: string; at: string } };

export async function channels(socket: SessionSocket<ChatPushes, ChatRequests>): Promise<void> {
  const room = socket.subscribe<RoomPublications>('room:lobby');
  assertType<Equals<typeof room, Subscription<RoomPublications>>>();
  expectType<'subscribing' | 'subscribed' | 'unsubscribed'>(room.state);
  const first = await room.ready;
  assertType<Equals<typeof first, SubscribedInfo>>();
  expectType<string | undefined>(first.epoch);
  room.on('chat.message', (data, envelope) => {
    assertType<Equals<typeof data, { from: string; text: string; at: string }>>();
    expectType<string>(envelope.channel);
    expectType<number | undefined>(envelope.offset);
  });
  room.on('presence.join', ({ userId }) => expectType<string>(userId));
  room.once('presence.leave', (data, envelope) => {
    expectType<string>(data.userId);
    assertType<Equals<typeof envelope.type, 'presence.leave'>>();
  });
  room.on('recovered', (info) => expectType<boolean | undefined>(info.recovered));
  room.on('gap', (info) => {
    assertType<Equals<typeof info, GapInfo>>();
    expectType<number>(info.expected);
    expectType<number>(info.got);
    expectType<string | undefined>(info.epoch);
  });
  expectType<boolean | undefined>(room.recovered);
  expectType<number | undefined>(room.offset);
  room.on('unsubscribed', (info: UnsubscribedInfo) => expectType<string>(info.reason));
  room.on('error', (error) => expectType<SessionSocketError>(error));
  room.on('message', (envelope) => expectType<string>(envelope.channel));
  const members: PresenceMember[] = await room.presence({ timeout: 1000 });
  expectType<number>(members[0]!.connections);
  await room.unsubscribe();

  const since: StreamPosition = { epoch: 'k3J9', offset: 17 };
  const feed = socket.subscribe('user:alice', { since });
  feed.on<{ text: string }>('chat.message', (data) => expectType<string>(data.text));
  feed.on('anything', (data) => expectType<any>(data));
  expectType<ReadonlyMap<string, Subscription<any>>>(socket.subscriptions);
}

// Node: `ws` as the WebSocket, and a subclass that sends a cookie on every handshake (README).
export function node(cookie: string): SessionSocket {
  new SessionSocket('ws://127.0.0.1:5000/ws', { WebSocket });
  class CookieWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers: { Cookie: cookie } });
    }
  }
  return new SessionSocket('ws://127.0.0.1:5000/ws', { WebSocket: CookieWebSocket });
}
