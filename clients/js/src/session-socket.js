// SessionSockets JavaScript client — wire protocol version 1 (see docs/protocol.md).
// A dependency-free ES module for browsers and for Node (with an injected WebSocket, e.g. `ws`).
// Types: session-socket.d.ts beside this file.

/** Connection states, in the order a connection usually goes through them. */
export const States = Object.freeze({
  IDLE: 'idle', // constructed, connect() not called yet
  CONNECTING: 'connecting', // first attempt after connect(): opening the socket and authenticating
  OPEN: 'open', // connected (and authenticated when a sessionId is configured)
  RECONNECTING: 'reconnecting', // the connection dropped; waiting for the backoff or re-opening
  UNAUTHENTICATED: 'unauthenticated', // the session was revoked/expired/rejected: waits for a new token
  CLOSED: 'closed', // close() was called, or the server closed in a way that is not retried
});

const DEFAULTS = Object.freeze({
  WebSocket: undefined,
  protocols: undefined,
  sessionId: undefined,
  reconnect: true,
  initialDelay: 500,
  maxDelay: 20000,
  restartWindow: 5000,
  maxAttempts: Infinity,
  stableAfter: 5000,
  connectTimeout: 10000,
  requestTimeout: 10000,
  pingInterval: 20000,
  pingTimeout: 10000,
  closeTimeout: 3000,
  maxQueue: 100,
  resend: false,
  shouldReconnect: undefined,
  random: undefined,
});

/** Close codes after which the client reconnects (when the session is still usable). */
export const RETRYABLE_CLOSE_CODES = Object.freeze([1001, 1005, 1006, 1011, 1012, 1013, 1014]);

/** Close codes that say the server is going away or restarting: every client reconnects, so spread them out. */
const RESTART_CLOSE_CODES = Object.freeze([1001, 1012]);

/** Close reasons (with code 1008) that are retried: the server dropped this client for a transient reason. */
const RETRYABLE_POLICY_REASONS = Object.freeze(['send queue overflow']);

/** Close reasons (with code 1008) that mean the session is gone: no retry until a new token. */
const SESSION_CLOSE_REASONS = new Map([
  ['session revoked', 'revoked'],
  ['session expired', 'expired'],
  ['authentication timeout', 'unauthenticated'],
]);

const TYPE_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const CHANNEL_PATTERN = /^[A-Za-z0-9._:\-/@]{1,128}$/;
const SOCKET_CONNECTING = 0;
const SOCKET_OPEN = 1;
const INTERNAL_CLOSE_CODE = 4000; // what this client sends when it abandons a dead connection

/**
 * Error raised by the client. `code` is either a server error code from docs/protocol.md (Errors)
 * (`unknown_type`, `unauthorized`, `invalid_data`, …) or one of the client's own:
 * `timeout`, `queue_full`, `connection_closed`, `closed`, `session_ended`, `aborted`,
 * `session_provider_failed`, `invalid_reply`. Channel refusals are the server's `forbidden`,
 * `unauthorized`, `limit_exceeded`, `invalid_data`.
 */
export class SessionSocketError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {object} [details]
   */
  constructor(code, message, details = undefined) {
    super(message);
    this.name = 'SessionSocketError';
    this.code = code;
    if (details) Object.assign(this, details);
  }
}

function isAllowedCloseCode(code) {
  return Number.isInteger(code) && (code === 1000 || (code >= 3000 && code <= 4999));
}

function utf8Length(text) {
  if (typeof TextEncoder === 'function') return new TextEncoder().encode(text).length;
  return unescape(encodeURIComponent(text)).length;
}

function resolveUrl(url) {
  const text = String(url);
  if (/^wss?:\/\//i.test(text)) return text;
  const loc = globalThis.location;
  if (loc && typeof loc.href === 'string') {
    const resolved = new URL(text, loc.href);
    if (resolved.protocol === 'http:') resolved.protocol = 'ws:';
    else if (resolved.protocol === 'https:') resolved.protocol = 'wss:';
    return resolved.href;
  }
  const absolute = new URL(text); // throws on a relative URL without a page to resolve it against
  if (absolute.protocol === 'http:') absolute.protocol = 'ws:';
  else if (absolute.protocol === 'https:') absolute.protocol = 'wss:';
  return absolute.href;
}

function reportListenerError(error) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else if (typeof console !== 'undefined') console.error(error);
}

const noop = () => {};

/** Listeners by event name, shared by the socket and its subscriptions; one that throws is reported and skipped. */
class Listeners {
  constructor() {
    this._byName = new Map();
  }

  add(name, listener) {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this._byName.get(name);
    if (!set) {
      set = new Set();
      this._byName.set(name, set);
    }
    set.add(listener);
    return () => this.remove(name, listener);
  }

  once(name, listener) {
    const off = this.add(name, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  remove(name, listener) {
    this._byName.get(name)?.delete(listener);
  }

  /** Calls every listener of `name` with `args`; false when there was none. */
  emit(name, args) {
    const set = this._byName.get(name);
    if (!set || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        reportListenerError(error);
      }
    }
    return true;
  }
}

function encode(type, id, data) {
  const envelope = { type };
  if (id !== undefined) envelope.id = id;
  if (data !== undefined) envelope.data = data;
  return JSON.stringify(envelope);
}

/**
 * A WebSocket connection to a SessionSockets server, with authentication, reconnection,
 * request/reply correlation, pushes and a bounded offline queue.
 */
export class SessionSocket {
  /**
   * @param {string | URL} url `ws://`/`wss://` URL, or (in a browser) a path such as `/ws`.
   * @param {object} [options] see `SessionSocketOptions` in session-socket.d.ts
   */
  constructor(url, options = {}) {
    this.url = resolveUrl(url);
    const opts = { ...DEFAULTS };
    for (const [key, value] of Object.entries(options ?? {})) {
      if (value !== undefined) opts[key] = value;
    }
    opts.WebSocket ??= globalThis.WebSocket;
    if (typeof opts.WebSocket !== 'function') {
      throw new TypeError('No WebSocket implementation: pass options.WebSocket (e.g. the `ws` package in Node).');
    }
    for (const key of ['initialDelay', 'maxDelay', 'restartWindow', 'stableAfter', 'connectTimeout', 'requestTimeout',
      'pingInterval', 'pingTimeout', 'closeTimeout', 'maxQueue']) {
      if (typeof opts[key] !== 'number' || Number.isNaN(opts[key]) || opts[key] < 0) {
        throw new RangeError(`options.${key} must be a non-negative number.`);
      }
    }
    if (!(opts.maxAttempts >= 0)) throw new RangeError('options.maxAttempts must be a non-negative number.');
    this._opts = opts;
    this._random = typeof opts.random === 'function' ? opts.random : Math.random;

    this._state = States.IDLE;
    this._listeners = new Listeners();
    this._conn = null; // the current connection attempt, see _openSocket
    this._attempt = 0; // consecutive attempts without a stable connection
    this._retryTimer = null;
    this._queue = []; // entries waiting for an open connection
    this._pending = new Map(); // id -> request entry (queued or sent)
    this._nextId = 1;
    this._openedInRun = false;
    this._session = null; // last session info {status, userId?, expiresAt?}
    this._sessionEnded = null; // status that ended the session on the current connection
    this._subscriptions = new Map(); // channel -> Subscription the application holds
    this._closedByApp = false;
  }

  /** Current state, one of {@link States}. */
  get state() {
    return this._state;
  }

  /** Last session information reported by the server (`{status, userId?, expiresAt?}`), or null. */
  get session() {
    return this._session;
  }

  /** The subscriptions the application holds (subscribing or subscribed), by channel. */
  get subscriptions() {
    return new Map(this._subscriptions);
  }

  /** Number of messages waiting in the outgoing queue. */
  get queued() {
    return this._queue.length;
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /**
   * Starts connecting (or, while waiting for a reconnection, retries immediately). Resolves when
   * the connection is open (and authenticated), rejects when it ends closed or unauthenticated.
   * The returned promise never causes an unhandled rejection when ignored.
   * @returns {Promise<void>}
   */
  connect() {
    const promise = new Promise((resolve, reject) => {
      if (this._state === States.OPEN) {
        resolve();
        return;
      }
      const offState = this.on('state', (state) => {
        if (state === States.OPEN) {
          offState();
          resolve();
        } else if (state === States.CLOSED || state === States.UNAUTHENTICATED) {
          offState();
          const code = state === States.CLOSED ? 'closed' : 'session_ended';
          reject(new SessionSocketError(code, `Connection ended in state '${state}'.`, { state }));
        }
      });
    });
    promise.catch(noop);

    switch (this._state) {
      case States.IDLE:
      case States.CLOSED:
      case States.UNAUTHENTICATED:
        this._closedByApp = false;
        this._attempt = 0;
        this._openedInRun = false;
        this._sessionEnded = null;
        this._setState(States.CONNECTING);
        this._openSocket();
        break;
      case States.RECONNECTING:
        if (this._retryTimer !== null) {
          this._clearRetry();
          this._openSocket();
        }
        break;
      default:
        break; // CONNECTING or OPEN: already on its way
    }
    return promise;
  }

  /**
   * Closes the connection for good (no reconnection). Queued and pending messages are rejected
   * with code `closed`. Only 1000 or 3000–4999 may be sent, as in browsers.
   * @param {number} [code=1000]
   * @param {string} [reason='']
   * @returns {Promise<void>} resolves once the socket has closed (bounded by `closeTimeout`).
   */
  close(code = 1000, reason = '') {
    if (!isAllowedCloseCode(code)) {
      throw new RangeError(`Close code ${code} is not allowed: use 1000 or 3000-4999.`);
    }
    reason = String(reason ?? '');
    if (utf8Length(reason) > 123) throw new RangeError('Close reason must be at most 123 UTF-8 bytes.');

    this._clearRetry();
    const conn = this._conn;
    this._closedByApp = true;
    this._setState(States.CLOSED);
    this._rejectAll('closed', 'The connection was closed by the application.');
    for (const subscription of [...this._subscriptions.values()]) subscription._end('closed');
    if (!conn) return Promise.resolve();
    if (conn.closing) return conn.closing;

    conn.closing = new Promise((resolve) => {
      conn.onClosed = resolve;
      this._stopConnectionTimers(conn);
      const ws = conn.ws;
      if (ws && (ws.readyState === SOCKET_OPEN || ws.readyState === SOCKET_CONNECTING)) {
        try {
          ws.close(code, reason);
        } catch {
          // the socket is already failing; the bound below still settles the promise
        }
        if (!conn.finished) {
          conn.closeTimer = setTimeout(() => this._finishClose(conn, code, reason, false), this._opts.closeTimeout);
        }
      } else {
        this._finishClose(conn, code, reason, false);
      }
    });
    return conn.closing;
  }

  /**
   * Sends a request and resolves with the reply's `data` (the reply carries the same `id`).
   * Rejects with a {@link SessionSocketError}: the server's `code`/`message` for an error reply,
   * `timeout`, `queue_full`, `connection_closed`, `closed`, `session_ended` or `aborted`.
   * @param {string} type
   * @param {unknown} [data]
   * @param {{timeout?: number, resend?: boolean, signal?: AbortSignal}} [options]
   * @returns {Promise<any>}
   */
  request(type, data = undefined, options = {}) {
    const timeout = options.timeout ?? this._opts.requestTimeout;
    const resend = options.resend ?? this._opts.resend;
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      if (!TYPE_PATTERN.test(String(type))) {
        throw new TypeError(`Invalid message type '${type}': 1-64 characters of A-Z a-z 0-9 . _ : -`);
      }
      this._assertAccepting();
      if (signal?.aborted) throw new SessionSocketError('aborted', 'The request was aborted.');

      const entry = {
        id: String(this._nextId++),
        type,
        text: '',
        resend: Boolean(resend),
        internal: false,
        conn: null,
        timer: null,
        resolve,
        reject,
        cleanup: noop,
      };
      entry.text = encode(type, entry.id, data); // throws (rejects) for data JSON cannot carry
      if (this._canTransmit()) {
        this._pending.set(entry.id, entry);
        try {
          this._transmit(this._conn, entry);
        } catch (error) {
          this._settle(entry, error);
          return;
        }
      } else {
        this._enqueue(entry);
        this._pending.set(entry.id, entry);
      }
      if (timeout > 0 && Number.isFinite(timeout)) {
        entry.timer = setTimeout(() => {
          this._settle(entry, new SessionSocketError('timeout', `No reply to '${type}' within ${timeout} ms.`));
        }, timeout);
      }
      if (signal) {
        const onAbort = () => this._settle(entry, new SessionSocketError('aborted', 'The request was aborted.'));
        signal.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
    });
  }

  /**
   * Sends a message without waiting for a reply (no `id`; an error the server reports for it
   * arrives as an `error` event). Queued while disconnected.
   * @param {string} type
   * @param {unknown} [data]
   * @throws {SessionSocketError} `queue_full`, `closed` or `session_ended`.
   */
  send(type, data = undefined) {
    if (!TYPE_PATTERN.test(String(type))) {
      throw new TypeError(`Invalid message type '${type}': 1-64 characters of A-Z a-z 0-9 . _ : -`);
    }
    this._assertAccepting();
    const entry = { id: undefined, type, text: encode(type, undefined, data) };
    if (this._canTransmit()) this._transmit(this._conn, entry);
    else this._enqueue(entry);
  }

  /**
   * Subscribes to a push type (any message type the server pushes) or to a lifecycle event:
   * `open`, `close`, `session`, `state`, `error`, `message`. Returns an unsubscribe function.
   * @param {string} name
   * @param {Function} listener
   * @returns {() => void}
   */
  on(name, listener) {
    return this._listeners.add(name, listener);
  }

  /** Like {@link on}, for one call only. */
  once(name, listener) {
    return this._listeners.once(name, listener);
  }

  /** Removes a listener added with {@link on}. */
  off(name, listener) {
    this._listeners.remove(name, listener);
  }

  /**
   * Subscribes to a channel (docs/protocol.md, Channels) and returns its {@link Subscription}: the
   * same object again while the channel is subscribed. The `subscribe` message goes out as soon as
   * the connection is open (and authenticated), before queued messages, and again after every
   * reconnection and re-authentication, with `since` (the last epoch and offset seen) once the
   * channel's history gave one. Publications (pushes carrying this `channel`) reach the
   * subscription's listeners, not the socket's.
   * @param {string} channel 1-128 characters of `A-Z a-z 0-9 . _ : - / @`.
   * @param {{since?: {epoch: string, offset: number}}} [options] where a previous subscription stopped.
   * @returns {Subscription}
   */
  subscribe(channel, options = {}) {
    channel = String(channel);
    if (!CHANNEL_PATTERN.test(channel)) {
      throw new TypeError(`Invalid channel '${channel}': 1-128 characters of A-Z a-z 0-9 . _ : - / @`);
    }
    if (this._state === States.CLOSED && this._conn === null && this._closedByApp) {
      throw new SessionSocketError('closed', 'The socket was closed: call connect() first.');
    }
    const existing = this._subscriptions.get(channel);
    if (existing) return existing;
    const since = options?.since;
    if (since !== undefined && (typeof since?.epoch !== 'string' || !Number.isInteger(since?.offset) || since.offset < 0)) {
      throw new TypeError('options.since must be {epoch: string, offset: non-negative integer}.');
    }
    const subscription = new Subscription(this, channel, since);
    this._subscriptions.set(channel, subscription);
    if (this._canTransmit() && this._conn.ready) this._sendSubscribe(this._conn, subscription);
    return subscription;
  }

  /**
   * Replaces `options.sessionId` (a token or an async function returning one). When the client
   * is waiting for a new session (state `unauthenticated`), it reconnects with it at once;
   * otherwise the new value is used from the next (re)connection on.
   * @param {string | (() => string | Promise<string>) | undefined} sessionId
   */
  setSessionId(sessionId) {
    this._opts.sessionId = sessionId;
    if (this._state === States.UNAUTHENTICATED) this.connect();
  }

  // ---------------------------------------------------------------------------------------------
  // Channels

  _sendSubscribe(conn, subscription) {
    const data = { channel: subscription.channel };
    const since = subscription._since();
    if (since) data.since = since;
    subscription._attempts += 1;
    const attempt = subscription._attempts;
    this._internalRequest(conn, 'subscribe', data).then(
      (reply) => {
        if (subscription._attempts === attempt) subscription._subscribed(reply, since !== undefined);
      },
      (error) => {
        if (subscription._attempts !== attempt || QUIET_SUBSCRIBE_ERRORS.has(error.code)) return; // sent again on the next open
        if (error.serverError && !RETRIED_SUBSCRIBE_ERRORS.has(error.code)) subscription._end(error.code, error);
        else subscription._emitError(error); // timeout, rate_limited, unavailable: tried again on the next open
      },
    );
  }

  _unsubscribe(subscription) {
    if (this._subscriptions.get(subscription.channel) === subscription) this._subscriptions.delete(subscription.channel);
    subscription._attempts += 1; // a subscribe reply still on its way changes nothing now
    const conn = this._conn;
    if (!this._canTransmit() || !conn.ready) return Promise.resolve(); // the server forgets it with the connection
    return this._internalRequest(conn, 'unsubscribe', { channel: subscription.channel }).then(noop, noop);
  }

  _forget(subscription) {
    if (this._subscriptions.get(subscription.channel) === subscription) this._subscriptions.delete(subscription.channel);
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  _emit(name, ...args) {
    return this._listeners.emit(name, args);
  }

  _setState(state) {
    if (this._state === state) return;
    const previous = this._state;
    this._state = state;
    this._emit('state', state, previous);
  }

  // ---------------------------------------------------------------------------------------------
  // Outgoing messages

  _assertAccepting() {
    if (this._state === States.IDLE || this._state === States.CLOSED) {
      throw new SessionSocketError('closed', 'The socket is not connected: call connect() first.');
    }
    if (this._state === States.UNAUTHENTICATED || (this._sessionEnded && this._state === States.OPEN)) {
      throw new SessionSocketError('session_ended',
        'The session has ended: supply a new session (setSessionId or connect()) first.',
        { status: this._sessionEnded ?? this._session?.status });
    }
  }

  _canTransmit() {
    return this._state === States.OPEN && this._conn !== null && this._conn.ws.readyState === SOCKET_OPEN;
  }

  _enqueue(entry) {
    if (this._queue.length >= this._opts.maxQueue) {
      throw new SessionSocketError('queue_full',
        `The outgoing queue is full (${this._opts.maxQueue} messages) while disconnected.`);
    }
    this._queue.push(entry);
  }

  _transmit(conn, entry) {
    if (entry.resolve) entry.conn = conn;
    conn.ws.send(entry.text);
  }

  _flushQueue(conn) {
    while (this._queue.length > 0 && this._conn === conn && conn.ws.readyState === SOCKET_OPEN) {
      const entry = this._queue.shift();
      try {
        this._transmit(conn, entry);
      } catch (error) {
        if (entry.resolve) this._settle(entry, error);
      }
    }
  }

  /** Resolves (value) or rejects (Error) a request entry exactly once and forgets it. */
  _settle(entry, errorOrNull, value = undefined) {
    if (this._pending.get(entry.id) !== entry) return;
    this._pending.delete(entry.id);
    clearTimeout(entry.timer);
    entry.cleanup();
    const index = this._queue.indexOf(entry);
    if (index >= 0) this._queue.splice(index, 1);
    if (errorOrNull) entry.reject(errorOrNull);
    else entry.resolve(value);
  }

  _rejectAll(code, message) {
    const queued = this._queue.splice(0);
    for (const entry of queued) {
      if (entry.resolve) this._settle(entry, new SessionSocketError(code, message));
    }
    for (const entry of [...this._pending.values()]) {
      this._settle(entry, new SessionSocketError(code, message));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  _openSocket() {
    const conn = {
      ws: null,
      ready: false,
      connectTimer: null,
      pingTimer: null,
      pingWatch: null,
      stableTimer: null,
      endTimer: null,
      closeTimer: null,
      onClosed: null,
      closing: null,
      finished: false,
    };
    this._conn = conn;
    this._sessionEnded = null;
    let ws;
    try {
      ws = this._opts.protocols === undefined
        ? new this._opts.WebSocket(this.url)
        : new this._opts.WebSocket(this.url, this._opts.protocols);
    } catch (error) {
      this._emit('error', new SessionSocketError('connect_failed', `Cannot create the WebSocket: ${error?.message ?? error}`, { cause: error }));
      conn.finished = true;
      this._afterClose(conn, 1006, 'connect failed', false);
      return;
    }
    conn.ws = ws;
    ws.onopen = () => {
      this._onSocketOpen(conn).catch((error) => {
        this._emit('error', new SessionSocketError('connect_failed', `Opening the connection failed: ${error?.message ?? error}`, { cause: error }));
        this._abandon(conn, 'open failed');
      });
    };
    ws.onmessage = (event) => this._onSocketMessage(conn, event);
    ws.onclose = (event) => this._finishClose(conn, event?.code ?? 1005, event?.reason ?? '', event?.wasClean ?? false);
    ws.onerror = noop; // a close event follows every error
    if (this._opts.connectTimeout > 0) {
      conn.connectTimer = setTimeout(() => this._abandon(conn, 'connect timeout'), this._opts.connectTimeout);
    }
  }

  async _onSocketOpen(conn) {
    if (this._conn !== conn) return;
    const provider = this._opts.sessionId;
    if (provider === undefined || provider === null) {
      this._ready(conn);
      return;
    }

    let token;
    try {
      token = typeof provider === 'function' ? await provider() : provider;
    } catch (error) {
      if (this._conn !== conn) return;
      this._emit('error', new SessionSocketError('session_provider_failed',
        `options.sessionId failed: ${error?.message ?? error}`, { cause: error }));
      this._abandon(conn, 'session provider failed');
      return;
    }
    if (this._conn !== conn || conn.ws.readyState !== SOCKET_OPEN) return;

    let reply;
    try {
      reply = await this._internalRequest(conn, 'session', { sessionId: token });
    } catch (error) {
      if (this._conn !== conn) return;
      if (error.code !== 'connection_closed') this._abandon(conn, `session request failed: ${error.code}`);
      return;
    }
    if (this._conn !== conn) return;
    const status = reply && typeof reply.status === 'string' ? reply.status : 'invalid_reply';
    this._reportSession(reply && typeof reply === 'object' ? reply : { status });
    if (status === 'valid') {
      this._ready(conn);
    } else if (status === 'unavailable' || status === 'invalid_reply') {
      this._abandon(conn, `session ${status}`); // the store could not decide: try again later
    } else {
      // expired, invalid, empty: retrying with the same token cannot help
      this._sessionEnded = status;
      this._closeSocket(conn, 1000, `session ${status}`);
      this._finishClose(conn, 1000, `session ${status}`, true);
    }
  }

  _internalRequest(conn, type, data) {
    return new Promise((resolve, reject) => {
      const id = String(this._nextId++);
      const entry = {
        id, type, text: encode(type, id, data), resend: false, internal: true,
        conn: null, timer: null, resolve, reject, cleanup: noop,
      };
      this._pending.set(entry.id, entry);
      entry.timer = setTimeout(() => {
        this._settle(entry, new SessionSocketError('timeout', `No reply to '${type}'.`));
      }, this._opts.requestTimeout > 0 ? this._opts.requestTimeout : DEFAULTS.requestTimeout);
      try {
        this._transmit(conn, entry);
      } catch (error) {
        this._settle(entry, error);
      }
    });
  }

  _ready(conn) {
    conn.ready = true;
    clearTimeout(conn.connectTimer);
    conn.connectTimer = null;
    const reconnected = this._openedInRun;
    this._openedInRun = true;
    // subscriptions first: a queued message may need one (the server handles messages in order)
    for (const subscription of [...this._subscriptions.values()]) this._sendSubscribe(conn, subscription);
    if (this._conn !== conn) return;
    this._flushQueue(conn);
    if (this._conn !== conn) return;
    this._setState(States.OPEN);
    if (this._conn !== conn) return;
    if (this._opts.stableAfter >= 0) {
      conn.stableTimer = setTimeout(() => {
        conn.stableTimer = null;
        this._attempt = 0;
      }, this._opts.stableAfter);
    }
    this._schedulePing(conn);
    this._emit('open', { reconnected, session: this._session });
  }

  _schedulePing(conn) {
    if (!(this._opts.pingInterval > 0)) return;
    clearTimeout(conn.pingTimer);
    conn.pingTimer = setTimeout(() => {
      conn.pingTimer = null;
      if (this._conn !== conn || conn.ws.readyState !== SOCKET_OPEN) return;
      try {
        conn.ws.send(JSON.stringify({ type: 'ping', id: String(this._nextId++) }));
      } catch {
        // a failing socket: the watchdog below ends it
      }
      conn.pingWatch = setTimeout(() => this._abandon(conn, 'ping timeout'), this._opts.pingTimeout);
    }, this._opts.pingInterval);
  }

  _onSocketMessage(conn, event) {
    if (this._conn !== conn) return;
    if (conn.pingWatch !== null) {
      // any message proves the server is alive; the next ping goes out an interval from now
      clearTimeout(conn.pingWatch);
      conn.pingWatch = null;
      this._schedulePing(conn);
    }
    const raw = event?.data;
    if (typeof raw !== 'string') {
      this._emit('error', new SessionSocketError('invalid_reply', 'Received a binary message; the protocol is text only.'));
      return;
    }
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      this._emit('error', new SessionSocketError('invalid_reply', 'Received a message that is not JSON.'));
      return;
    }
    if (!message || typeof message !== 'object' || Array.isArray(message) || typeof message.type !== 'string') {
      this._emit('error', new SessionSocketError('invalid_reply', 'Received a message without a type.'));
      return;
    }

    const { type, id, data } = message;
    if (id !== undefined && id !== null) {
      const entry = this._pending.get(String(id));
      if (!entry || entry.conn !== conn) return; // a ping reply, or a reply that came too late
      if (type === 'error') {
        const code = typeof data?.code === 'string' ? data.code : 'error';
        const text = typeof data?.message === 'string' ? data.message : `The server answered '${entry.type}' with an error.`;
        this._settle(entry, new SessionSocketError(code, text, { serverError: true, type: entry.type }));
      } else {
        this._settle(entry, null, data);
      }
      return;
    }

    if (typeof message.channel === 'string') {
      // a publication or a presence event: it belongs to the channel's subscription
      this._emit('message', message);
      this._subscriptions.get(message.channel)?._deliver(message);
      return;
    }
    if (type === 'unsubscribe') {
      // the server ended a subscription itself
      this._emit('message', message);
      const channel = typeof data?.channel === 'string' ? data.channel : undefined;
      const subscription = channel === undefined ? undefined : this._subscriptions.get(channel);
      const reason = typeof data?.reason === 'string' ? data.reason : 'server';
      if (subscription && reason === RESUBSCRIBE_REASON) {
        // too much was held back while the missed publications went out: subscribe again from the last one delivered
        if (conn.ready) this._sendSubscribe(conn, subscription);
        return;
      }
      subscription?._end(reason);
      return;
    }
    if (type === 'session') {
      const status = typeof data?.status === 'string' ? data.status : 'unknown';
      if (status === 'revoked' || status === 'expired') {
        this._sessionEnded = status;
        // the server closes right after this push; do not hang on to a socket it forgot
        if (conn.endTimer === null && this._opts.closeTimeout > 0) {
          conn.endTimer = setTimeout(() => this._abandon(conn, `session ${status}`), this._opts.closeTimeout);
        }
      }
      this._reportSession(data && typeof data === 'object' ? data : { status });
      this._emit('message', message);
      return;
    }
    if (type === 'error') {
      const code = typeof data?.code === 'string' ? data.code : 'error';
      const text = typeof data?.message === 'string' ? data.message : 'The server reported an error.';
      this._emit('error', new SessionSocketError(code, text, { serverError: true }));
      this._emit('message', message);
      return;
    }
    this._emit('message', message);
    if (!RESERVED_EVENTS.has(type)) this._emit(type, data, message);
  }

  _reportSession(info) {
    const session = { status: info.status };
    if (info.userId !== undefined) session.userId = info.userId;
    if (info.expiresAt !== undefined) session.expiresAt = info.expiresAt;
    this._session = session;
    this._emit('session', session);
  }

  /** Stops using a connection that is dead or useless, without waiting for its close handshake. */
  _abandon(conn, reason) {
    if (this._conn !== conn || conn.finished) return;
    this._closeSocket(conn, INTERNAL_CLOSE_CODE, reason);
    this._finishClose(conn, 1006, reason, false);
  }

  _closeSocket(conn, code, reason) {
    const ws = conn.ws;
    if (!ws) return;
    if (ws.readyState === SOCKET_OPEN || ws.readyState === SOCKET_CONNECTING) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  _stopConnectionTimers(conn) {
    for (const key of ['connectTimer', 'pingTimer', 'pingWatch', 'stableTimer', 'endTimer']) {
      clearTimeout(conn[key]);
      conn[key] = null;
    }
  }

  _finishClose(conn, code, reason, wasClean) {
    if (conn.finished) return;
    conn.finished = true;
    this._stopConnectionTimers(conn);
    clearTimeout(conn.closeTimer);
    if (conn.ws) {
      conn.ws.onopen = null;
      conn.ws.onmessage = null;
      conn.ws.onclose = null;
      conn.ws.onerror = noop;
    }
    if (this._conn !== conn) return;
    this._afterClose(conn, code, reason, wasClean);
  }

  _afterClose(conn, code, reason, wasClean) {
    this._conn = null;
    const event = { code, reason, wasClean, willRetry: false };

    if (this._state === States.CLOSED) {
      // close() was called: everything was rejected already
      this._emit('close', event);
      conn.onClosed?.();
      return;
    }

    // requests sent on this connection: fail fast, or go back to the queue when resend was asked
    const resend = [];
    for (const entry of [...this._pending.values()]) {
      if (entry.conn !== conn) continue;
      if (entry.resend && !entry.internal) {
        entry.conn = null;
        resend.push(entry);
      } else {
        this._settle(entry, new SessionSocketError('connection_closed',
          `The connection closed (${code}${reason ? ` ${reason}` : ''}) before '${entry.type}' was answered.`,
          { closeCode: code, closeReason: reason }));
      }
    }
    this._queue.unshift(...resend);

    let ended = this._sessionEnded;
    if (!ended && code === 1008 && SESSION_CLOSE_REASONS.has(reason)) {
      ended = SESSION_CLOSE_REASONS.get(reason);
      if (this._session?.status !== ended) this._reportSession({ status: ended });
    }
    if (ended) {
      this._setState(States.UNAUTHENTICATED);
      this._rejectAll('session_ended', `The session ended (${ended}); queued messages were dropped.`);
      this._emit('close', event);
      return;
    }

    const retry = this._opts.reconnect
      && this._attempt < this._opts.maxAttempts
      && (typeof this._opts.shouldReconnect === 'function'
        ? Boolean(this._opts.shouldReconnect(event))
        : RETRYABLE_CLOSE_CODES.includes(code) || (code === 1008 && RETRYABLE_POLICY_REASONS.includes(reason)));
    if (!retry) {
      this._setState(States.CLOSED);
      this._rejectAll('connection_closed', `The connection closed (${code}${reason ? ` ${reason}` : ''}) and will not be retried.`);
      this._emit('close', event);
      return;
    }

    const delay = this._nextDelay(RESTART_CLOSE_CODES.includes(code));
    this._attempt += 1;
    event.willRetry = true;
    event.delay = delay;
    event.attempt = this._attempt;
    this._setState(this._openedInRun ? States.RECONNECTING : States.CONNECTING);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._openSocket();
    }, delay);
    this._emit('close', event);
  }

  /**
   * Full jitter: uniform in [0, min(maxDelay, initialDelay * 2^attempt)). After a restart close (1001, 1012) the
   * ceiling is at least restartWindow, so the clients of a node that shut down do not all come back at once.
   */
  _nextDelay(restart = false) {
    let ceiling = Math.min(this._opts.maxDelay, this._opts.initialDelay * 2 ** Math.min(this._attempt, 52));
    if (restart) ceiling = Math.max(ceiling, this._opts.restartWindow);
    const r = Math.min(Math.max(Number(this._random()) || 0, 0), 1);
    return Math.floor(r * ceiling);
  }

  _clearRetry() {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }
}

const RESERVED_EVENTS = new Set(['open', 'close', 'session', 'state', 'error', 'message']);

/** Subscribe refusals that may succeed later on the same terms: the subscription is kept and tried again on the next open. */
const RETRIED_SUBSCRIBE_ERRORS = new Set(['rate_limited', 'unavailable', 'handler_error']);

/** The connection (or the session) ended before the subscribe reply: nothing to report, it goes out again on the next open. */
const QUIET_SUBSCRIBE_ERRORS = new Set(['connection_closed', 'session_ended', 'closed']);

/** The reason of a server `unsubscribe` push after which the client subscribes again (with since) instead of ending. */
const RESUBSCRIBE_REASON = 'overflow';

/** Events of a subscription itself; a publication of one of these types reaches only `message` listeners. */
const SUBSCRIPTION_EVENTS = new Set(['subscribed', 'recovered', 'gap', 'unsubscribed', 'error', 'message']);

/**
 * One channel subscription of a {@link SessionSocket}, made by `socket.subscribe(channel)`.
 * States: `subscribing` (until the server's reply), `subscribed`, `unsubscribed` (for good: by
 * `unsubscribe()`, by the server, by a refusal, or by `socket.close()`).
 * Events: a publication's type (`on('chat.message', (data, envelope) => …)`), `presence.join` and
 * `presence.leave`, and `subscribed` (every reply, after each (re)subscribe), `recovered` (the reply
 * to a subscribe with `since`: `{recovered: false}` means publications were missed, reload),
 * `gap` (`{channel, epoch, expected, got}`: a publication came with a later offset than the next one;
 * those in between were missed), `unsubscribed` (`{reason, error?}`), `error`, `message` (every
 * envelope of the channel that reaches the application).
 * Publications with an `offset` reach the application at most once and in offset order: one at or
 * below the last offset seen in this epoch (a duplicate, or one out of order) is dropped.
 */
export class Subscription {
  constructor(socket, channel, since) {
    this._socket = socket;
    this.channel = channel;
    this._state = 'subscribing';
    this._listeners = new Listeners();
    this._attempts = 0;
    this.epoch = since?.epoch;
    this.offset = since?.offset;
    this.recovered = undefined; // the last reply's `recovered`: after a subscribe with since, else undefined
    this._ready = new Promise((resolve, reject) => {
      this._resolveReady = resolve;
      this._rejectReady = reject;
    });
    this._ready.catch(noop);
  }

  /** `subscribing`, `subscribed` or `unsubscribed`. */
  get state() {
    return this._state;
  }

  /** Resolves with the first subscribe reply's data; rejects when the subscription ends before it. */
  get ready() {
    return this._ready;
  }

  /** Adds a listener (see the class for the names); returns a function that removes it. */
  on(name, listener) {
    return this._listeners.add(name, listener);
  }

  /** Like {@link on}, for one call only. */
  once(name, listener) {
    return this._listeners.once(name, listener);
  }

  /** Removes a listener added with {@link on}. */
  off(name, listener) {
    this._listeners.remove(name, listener);
  }

  /**
   * Asks the server who is in the channel (a namespace with presence): resolves with
   * `[{userId, connections}]`, every user with a subscribed connection on any node.
   * @param {{timeout?: number, signal?: AbortSignal}} [options]
   * @returns {Promise<Array<{userId: string, connections: number}>>}
   */
  async presence(options = {}) {
    if (this._state === 'unsubscribed') {
      throw new SessionSocketError('unsubscribed', `The subscription to '${this.channel}' has ended.`);
    }
    const reply = await this._socket.request('presence', { channel: this.channel }, { timeout: options.timeout, signal: options.signal });
    return Array.isArray(reply?.members) ? reply.members : [];
  }

  /**
   * Ends the subscription: no publication reaches it from now on, and the server is told when
   * connected. Resolves when the server answered (or at once when disconnected).
   * @returns {Promise<void>}
   */
  unsubscribe() {
    if (this._state === 'unsubscribed') return Promise.resolve();
    const sent = this._socket._unsubscribe(this);
    this._end('client');
    return sent;
  }

  _since() {
    return typeof this.epoch === 'string' && Number.isInteger(this.offset) ? { epoch: this.epoch, offset: this.offset } : undefined;
  }

  _subscribed(reply, withSince) {
    if (this._state === 'unsubscribed') return;
    const data = reply && typeof reply === 'object' ? reply : {};
    const epochChanged = typeof data.epoch === 'string' && data.epoch !== this.epoch;
    if (typeof data.epoch === 'string') this.epoch = data.epoch;
    // the reply's offset is the channel's newest; after a recovery the missed publications follow it, so keep ours.
    // Within one epoch the position never goes back: what was delivered once is never delivered again.
    if (Number.isInteger(data.offset) && data.offset >= 0) {
      if (epochChanged || !Number.isInteger(this.offset)) this.offset = data.offset;
      else if (data.recovered !== true) this.offset = Math.max(this.offset, data.offset);
    }
    this.recovered = withSince && typeof data.recovered === 'boolean' ? data.recovered : undefined;
    const first = this._state === 'subscribing';
    this._state = 'subscribed';
    const info = { channel: this.channel, resubscribed: withSince || !first };
    if (typeof data.epoch === 'string') info.epoch = data.epoch;
    if (Number.isInteger(data.offset)) info.offset = data.offset;
    if (typeof data.recovered === 'boolean') info.recovered = data.recovered;
    if (first) this._resolveReady(info);
    this._emit('subscribed', info);
    if (withSince && typeof data.recovered === 'boolean') this._emit('recovered', info);
  }

  _deliver(message) {
    if (this._state === 'unsubscribed') return;
    if (Number.isInteger(message.offset)) {
      const last = this.offset;
      // at most once and in order: a publication at or below the last offset seen (in this epoch) is dropped
      if (Number.isInteger(last) && message.offset <= last) return;
      this.offset = message.offset;
      if (Number.isInteger(last) && message.offset > last + 1) {
        // offsets grow by exactly 1 within an epoch: the ones in between never came
        this._emit('gap', { channel: this.channel, epoch: this.epoch, expected: last + 1, got: message.offset });
        if (this._state === 'unsubscribed') return;
      }
    }
    this._emit('message', message);
    if (!SUBSCRIPTION_EVENTS.has(message.type)) this._emit(message.type, message.data, message);
  }

  _end(reason, error = undefined) {
    if (this._state === 'unsubscribed') return;
    this._state = 'unsubscribed';
    this._socket._forget(this);
    const info = { channel: this.channel, reason };
    if (error) info.error = error;
    this._rejectReady(error ?? new SessionSocketError('unsubscribed', `The subscription to '${this.channel}' ended (${reason}).`, { reason }));
    if (error) this._emit('error', error);
    this._emit('unsubscribed', info);
  }

  _emitError(error) {
    this._emit('error', error);
  }

  _emit(name, ...args) {
    this._listeners.emit(name, args);
  }
}

export default SessionSocket;
