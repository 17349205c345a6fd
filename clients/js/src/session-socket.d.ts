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

/** A minimal WebSocket constructor: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  onerror: ((event: unknown) => void) | null;
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

/** Server statuses (PROTOCOL.md §5, §6) plus `unauthenticated` (closed with `authentication timeout`). */
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

export type ErrorCode =
  | 'invalid_json' | 'invalid_message' | 'unknown_type' | 'unauthorized' | 'invalid_data'
  | 'rate_limited' | 'unavailable' | 'handler_error'
  | 'timeout' | 'queue_full' | 'connection_closed' | 'closed' | 'session_ended' | 'aborted'
  | 'session_provider_failed' | 'invalid_reply' | 'connect_failed'
  | (string & {});

export declare class SessionSocketError extends Error {
  constructor(code: string, message: string, details?: object);
  readonly name: 'SessionSocketError';
  readonly code: ErrorCode;
  /** True when the error came from the server (PROTOCOL.md §4). */
  readonly serverError?: boolean;
  /** The request type the error answers. */
  readonly type?: string;
  /** For `connection_closed`: the close code and reason. */
  readonly closeCode?: number;
  readonly closeReason?: string;
}

export interface LifecycleEvents {
  open: (info: OpenInfo) => void;
  close: (info: CloseInfo) => void;
  session: (session: SessionInfo) => void;
  state: (state: SessionSocketState, previous: SessionSocketState) => void;
  error: (error: SessionSocketError) => void;
  message: (envelope: Envelope) => void;
}

export declare class SessionSocket {
  constructor(url: string | URL, options?: SessionSocketOptions);
  readonly url: string;
  readonly state: SessionSocketState;
  readonly session: SessionInfo | null;
  readonly queued: number;

  connect(): Promise<void>;
  close(code?: number, reason?: string): Promise<void>;
  request<T = any>(type: string, data?: unknown, options?: RequestOptions): Promise<T>;
  send(type: string, data?: unknown): void;
  setSessionId(sessionId: SessionIdProvider | undefined): void;

  on<K extends keyof LifecycleEvents>(name: K, listener: LifecycleEvents[K]): () => void;
  on<T = any>(pushType: string, listener: (data: T, envelope: Envelope) => void): () => void;
  once<K extends keyof LifecycleEvents>(name: K, listener: LifecycleEvents[K]): () => void;
  once<T = any>(pushType: string, listener: (data: T, envelope: Envelope) => void): () => void;
  off(name: string, listener: (...args: any[]) => void): void;
}

export default SessionSocket;
