// Type declarations for session-socket.js (SessionSockets wire protocol version 1).

/** Connection states. */
export declare const States: Readonly<{
  IDLE: 'idle';
  CONNECTING: 'connecting';
  OPEN: 'open';
  RECONNECTING: 'reconnecting';
  UNAUTHENTICATED: 'unauthenticated';
  CLOSED: 'closed';
}>;

export type SessionSocketState = (typeof States)[keyof typeof States];

/** Close codes after which the client reconnects by default. */
export declare const RETRYABLE_CLOSE_CODES: readonly number[];

/**
 * What the client uses of a WebSocket: the browser's, or `ws` in Node. The client assigns the
 * handlers, so their event parameters are `any`: each implementation declares its own event types,
 * and a narrower parameter here would reject them.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** A session token, or a (possibly async) function returning a fresh one on every (re)connect. */
export type SessionIdProvider = string | (() => string | Promise<string>);

export interface SessionSocketOptions {
  /** WebSocket implementation. Default: `globalThis.WebSocket` (required in Node 20: pass `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Subprotocols passed to the WebSocket constructor. */
  protocols?: string | string[];
  /**
   * Token sent in a `session` message after every (re)connect, before queued messages go out.
   * Leave unset when a cookie binds the connection at the handshake.
   */
  sessionId?: SessionIdProvider;
  /** Reconnect after a retryable close. Default true. */
  reconnect?: boolean;
  /** Backoff base in ms (the first retry waits up to this). Default 500. */
  initialDelay?: number;
  /** Backoff cap in ms. Default 20000. */
  maxDelay?: number;
  /** After a close 1001/1012 (server going away or restarting), reconnects spread over at least this many ms. Default 5000. */
  restartWindow?: number;
  /** Consecutive failed attempts before giving up. Default Infinity. */
  maxAttempts?: number;
  /** After this many ms open, the backoff starts over. Default 5000. */
  stableAfter?: number;
  /** Bound on opening + authenticating one connection, in ms. Default 10000. */
  connectTimeout?: number;
  /** Default timeout of `request()`, in ms (0 = none). Default 10000. */
  requestTimeout?: number;
  /** Interval of the built-in `ping` message, in ms (0 = no pings). Default 20000. */
  pingInterval?: number;
  /** Without any message from the server this long after a ping, the connection is dropped and re-opened. Default 10000. */
  pingTimeout?: number;
  /** Bound on waiting for a close handshake, in ms. Default 3000. */
  closeTimeout?: number;
  /** Messages kept while disconnected; one more rejects with `queue_full`. Default 100. */
  maxQueue?: number;
  /** Default for `request(…, {resend})`. Default false (pending requests fail fast on close). */
  resend?: boolean;
  /** Overrides the retry decision for a close (session ends are never retried). */
  shouldReconnect?: (event: CloseInfo) => boolean;
  /** Random source in [0, 1) for the jitter (for tests). Default Math.random. */
  random?: () => number;
}

export interface RequestOptions {
  /** ms, 0 = none. Default: `options.requestTimeout`. Counts from the call, queue time included. */
  timeout?: number;
  /** When the connection drops before the reply, send the request again after reconnecting. */
  resend?: boolean;
  /** Aborts the request (rejects with code `aborted`). */
  signal?: AbortSignal;
}

/** Server statuses (docs/protocol.md, Sessions) plus `unauthenticated` (closed with `authentication timeout`). */
export type SessionStatus =
  | 'valid' | 'expired' | 'invalid' | 'empty' | 'unavailable' | 'revoked' | 'unauthenticated' | (string & {});

export interface SessionInfo {
  status: SessionStatus;
  userId?: string;
  expiresAt?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
  /** Whether the client will reconnect by itself. */
  willRetry: boolean;
  /** Delay before the next attempt, in ms (when willRetry). */
  delay?: number;
  /** Number of the next attempt since the last stable connection (when willRetry). */
  attempt?: number;
}

export interface OpenInfo {
  /** False for the first open after connect(), true after a reconnection. */
  reconnected: boolean;
  /** The session the connection is bound to (null when no sessionId is configured). */
  session: SessionInfo | null;
}

export interface Envelope {
  type: string;
  id?: string;
  data?: unknown;
}

/**
 * Push types (server → client messages without an id) mapped to the type of their `data`, as a
 * type alias or an interface: `{ 'chat.message': { from: string; text: string } }`.
 */
export type PushMap = object;

/**
 * One message type the client sends: `request` is the type of the `data` it sends, `reply` the type
 * of the `data` of its reply. A `request` of `void` (or a type that includes `undefined`) makes the
 * data argument optional; a type only used with `send` has `reply: void`.
 */
export interface RequestSpec {
  request: unknown;
  reply: unknown;
}

/**
 * Message types the client sends, each mapped to its {@link RequestSpec}, as a type alias or an
 * interface: `{ whoami: { request: void; reply: { userId: string } } }`.
 */
export type RequestMap<Requests> = { [K in keyof Requests]: RequestSpec };

/** The loose default of `Pushes`: any push type, data typed `any`. */
export type AnyPushes = { [type: string]: any };
/** The loose default of `Requests`: any type, data and reply typed `any`. */
export type AnyRequests = { [type: string]: { request: any; reply: any } };

/** The envelope of a push of type `K` (what a push listener gets as its second argument). */
export interface PushEnvelopeOf<K extends string, Data> {
  type: K;
  data: Data;
}

/** The push envelope a `message` listener receives: one member per type of the map. */
export type PushEnvelope<Pushes extends PushMap = AnyPushes> = {
  [K in keyof Pushes & string]: PushEnvelopeOf<K, Pushes[K]>;
}[keyof Pushes & string];

/**
 * `string` while a map is the loose default (any key), `never` once it names its types: the
 * overloads that take the data type as a type argument exist only without a map. They come before
 * the typed overloads, so that a misuse of a typed map is reported against the typed one.
 */
export type LooseType<Map> = string extends keyof Map ? string : never;

/** The arguments of `request` after the type: the data (optional when it may be undefined), then the options. */
export type RequestArgs<Data> = [undefined] extends [Data]
  ? [data?: Data, options?: RequestOptions]
  : [data: Data, options?: RequestOptions];

/** The arguments of `send` after the type: the data, optional when it may be undefined. */
export type SendArgs<Data> = [undefined] extends [Data] ? [data?: Data] : [data: Data];

export type ErrorCode =
  | 'invalid_json' | 'invalid_message' | 'unknown_type' | 'unauthorized' | 'invalid_data'
  | 'rate_limited' | 'unavailable' | 'handler_error' | 'forbidden' | 'limit_exceeded'
  | 'timeout' | 'queue_full' | 'connection_closed' | 'closed' | 'session_ended' | 'aborted'
  | 'session_provider_failed' | 'invalid_reply' | 'connect_failed' | 'unsubscribed'
  | (string & {});

export declare class SessionSocketError extends Error {
  constructor(code: string, message: string, details?: object);
  readonly name: 'SessionSocketError';
  readonly code: ErrorCode;
  /** True when the error came from the server (docs/protocol.md, Errors). */
  readonly serverError?: boolean;
  /** The request type the error answers. */
  readonly type?: string;
  /** For `connection_closed`: the close code and reason. */
  readonly closeCode?: number;
  readonly closeReason?: string;
}

/** Lifecycle events (reserved names: a push of one of these types reaches only `message` listeners). */
export interface LifecycleEvents<Pushes extends PushMap = AnyPushes> {
  open: (info: OpenInfo) => void;
  close: (info: CloseInfo) => void;
  session: (session: SessionInfo) => void;
  state: (state: SessionSocketState, previous: SessionSocketState) => void;
  error: (error: SessionSocketError) => void;
  message: (envelope: PushEnvelope<Pushes>) => void;
}

/** Push types a listener can subscribe to by name: those of the map that are not lifecycle events. */
export type PushType<Pushes extends PushMap> = Exclude<keyof Pushes & string, keyof LifecycleEvents>;

/** Where a subscription stopped: the channel's epoch and the last offset seen (docs/protocol.md, History and recovery). */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

export interface SubscribeOptions {
  /** Where an earlier subscription stopped; the client sends its own after every reconnect. */
  since?: StreamPosition;
}

/** The data of a subscribe reply, as the `subscribed` and `recovered` events and `ready` report it. */
export interface SubscribedInfo {
  channel: string;
  /** The channel's epoch, when its namespace keeps history. */
  epoch?: string;
  /** The newest publication's offset (0 when none), when its namespace keeps history. */
  offset?: number;
  /** Present after a subscribe with `since`: false means publications were missed (reload your state). */
  recovered?: boolean;
  /** False for the first reply, true when the client subscribed again (after a reconnect or with `since`). */
  resubscribed: boolean;
}

/**
 * A publication came with a later offset than the next one expected (offsets grow by exactly 1
 * within an epoch): those in between were missed. The later one is delivered right after this event.
 */
export interface GapInfo {
  channel: string;
  epoch: string | undefined;
  /** The offset that should have come next. */
  expected: number;
  /** The offset that came. */
  got: number;
}

/**
 * Why a subscription ended: `client` (unsubscribe()), `closed` (socket.close()), a refusal's error code, or the
 * server's reason (never `overflow`: after that one the client subscribes again with `since`).
 */
export interface UnsubscribedInfo {
  channel: string;
  reason: 'client' | 'closed' | 'forbidden' | 'unauthorized' | 'limit_exceeded' | 'invalid_data' | (string & {});
  /** The server's refusal, when there was one. */
  error?: SessionSocketError;
}

/** One user in a channel's presence: connections subscribed to it, on every node. */
export interface PresenceMember {
  userId: string;
  connections: number;
}

/** A push that belongs to a channel: a publication (with `offset` when the channel keeps history) or a presence event. */
export interface ChannelEnvelopeOf<K extends string, Data> {
  type: K;
  channel: string;
  offset?: number;
  data: Data;
}

/** The channel envelope a subscription's `message` listener receives. */
export type ChannelEnvelope<Publications extends PushMap = AnyPushes> = {
  [K in keyof Publications & string]: ChannelEnvelopeOf<K, Publications[K]>;
}[keyof Publications & string] | ChannelEnvelopeOf<'presence.join' | 'presence.leave', { userId: string }>;

/** The events of a subscription itself (reserved: a publication of one of these types reaches only `message`). */
export interface SubscriptionEvents<Publications extends PushMap = AnyPushes> {
  subscribed: (info: SubscribedInfo) => void;
  recovered: (info: SubscribedInfo) => void;
  gap: (info: GapInfo) => void;
  unsubscribed: (info: UnsubscribedInfo) => void;
  error: (error: SessionSocketError) => void;
  message: (envelope: ChannelEnvelope<Publications>) => void;
}

/** Presence events of a channel whose namespace enables presence. */
export interface PresenceEvents {
  'presence.join': (data: { userId: string }, envelope: ChannelEnvelopeOf<'presence.join', { userId: string }>) => void;
  'presence.leave': (data: { userId: string }, envelope: ChannelEnvelopeOf<'presence.leave', { userId: string }>) => void;
}

/** Publication types a subscription listener can name: those of the map that are not reserved. */
export type PublicationType<Publications extends PushMap> =
  Exclude<keyof Publications & string, keyof SubscriptionEvents | keyof PresenceEvents>;

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';

/**
 * A channel subscription (`socket.subscribe(channel)`). It is made again after every reconnect and
 * re-authentication (with `since` once the channel's history gave a position) until
 * `unsubscribe()`, the server's unsubscribe push, a refusal or `socket.close()` ends it.
 * @typeParam Publications - publication types of this channel → their data.
 */
export declare class Subscription<Publications extends PushMap = AnyPushes> {
  readonly channel: string;
  readonly state: SubscriptionState;
  /** The channel's epoch, once a reply gave one. */
  readonly epoch: string | undefined;
  /**
   * The last offset delivered (or the position a reply gave): a publication at or below it in this
   * epoch is a duplicate or out of order, and is dropped.
   */
  readonly offset: number | undefined;
  /** The last reply's `recovered`: `true`/`false` after a subscribe with `since`, else `undefined`. */
  readonly recovered: boolean | undefined;
  /** Resolves with the first reply; rejects when the subscription ends before it (never unhandled). */
  readonly ready: Promise<SubscribedInfo>;

  on<K extends keyof SubscriptionEvents>(name: K, listener: SubscriptionEvents<Publications>[K]): () => void;
  on<K extends keyof PresenceEvents>(name: K, listener: PresenceEvents[K]): () => void;
  on<Data = any>(type: LooseType<Publications>, listener: (data: Data, envelope: ChannelEnvelopeOf<string, Data>) => void): () => void;
  on<K extends PublicationType<Publications>>(type: K, listener: (data: Publications[K], envelope: ChannelEnvelopeOf<K, Publications[K]>) => void): () => void;
  once<K extends keyof SubscriptionEvents>(name: K, listener: SubscriptionEvents<Publications>[K]): () => void;
  once<K extends keyof PresenceEvents>(name: K, listener: PresenceEvents[K]): () => void;
  once<Data = any>(type: LooseType<Publications>, listener: (data: Data, envelope: ChannelEnvelopeOf<string, Data>) => void): () => void;
  once<K extends PublicationType<Publications>>(type: K, listener: (data: Publications[K], envelope: ChannelEnvelopeOf<K, Publications[K]>) => void): () => void;
  off(name: string, listener: (...args: any[]) => void): void;
  /** Who is in the channel, on every node (a subscriber of a namespace with presence; else `forbidden`). */
  presence(options?: { timeout?: number; signal?: AbortSignal }): Promise<PresenceMember[]>;
  /** Ends the subscription; resolves once the server answered (at once while disconnected). */
  unsubscribe(): Promise<void>;
}

/**
 * A connection to a SessionSockets endpoint. The type arguments are optional: without them every
 * type, data and reply is `any`; with them `request`, `send`, `on` and `once` accept only the
 * declared types and infer data and replies.
 * @typeParam Pushes - push types → their data (see {@link PushMap}).
 * @typeParam Requests - sent types → `{ request; reply }` (see {@link RequestSpec}).
 */
export declare class SessionSocket<Pushes extends PushMap = AnyPushes, Requests extends RequestMap<Requests> = AnyRequests> {
  constructor(url: string | URL, options?: SessionSocketOptions);
  readonly url: string;
  readonly state: SessionSocketState;
  readonly session: SessionInfo | null;
  readonly queued: number;

  connect(): Promise<void>;
  close(code?: number, reason?: string): Promise<void>;
  /** Without a `Requests` map: the reply typed by the call, as in `request<Reply>(type, data)`. */
  request<Reply = any>(type: LooseType<Requests>, data?: unknown, options?: RequestOptions): Promise<Reply>;
  /** Sends `{type, id, data}` and resolves with the `data` of the reply carrying the same id. */
  request<K extends keyof Requests & string>(
    type: K,
    ...args: RequestArgs<Requests[K]['request']>
  ): Promise<Requests[K]['reply']>;
  /** Fire-and-forget: sends `{type, data}` without an id. */
  send<K extends keyof Requests & string>(type: K, ...args: SendArgs<Requests[K]['request']>): void;
  setSessionId(sessionId: SessionIdProvider | undefined): void;
  /**
   * Subscribes to a channel (1-128 characters of `A-Z a-z 0-9 . _ : - / @`; anything else throws a
   * TypeError). The same subscription again while it lasts. Its publications reach its listeners,
   * not the socket's.
   */
  subscribe<Publications extends PushMap = AnyPushes>(channel: string, options?: SubscribeOptions): Subscription<Publications>;
  /** The subscriptions that last, by channel (a copy). */
  readonly subscriptions: ReadonlyMap<string, Subscription<any>>;

  on<K extends keyof LifecycleEvents>(name: K, listener: LifecycleEvents<Pushes>[K]): () => void;
  on<Data = any>(pushType: LooseType<Pushes>, listener: (data: Data, envelope: PushEnvelopeOf<string, Data>) => void): () => void;
  on<K extends PushType<Pushes>>(pushType: K, listener: (data: Pushes[K], envelope: PushEnvelopeOf<K, Pushes[K]>) => void): () => void;
  once<K extends keyof LifecycleEvents>(name: K, listener: LifecycleEvents<Pushes>[K]): () => void;
  once<Data = any>(pushType: LooseType<Pushes>, listener: (data: Data, envelope: PushEnvelopeOf<string, Data>) => void): () => void;
  once<K extends PushType<Pushes>>(pushType: K, listener: (data: Pushes[K], envelope: PushEnvelopeOf<K, Pushes[K]>) => void): () => void;
  off(name: string, listener: (...args: any[]) => void): void;
}

export default SessionSocket;
