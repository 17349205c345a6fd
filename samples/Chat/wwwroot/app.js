// The chat page. Everything from the server or the user is rendered with textContent, never as HTML.
import { SessionSocket } from '/lib/session-socket.js';
import { createRooms } from '/rooms.js';

const DEFAULT_ROOM = 'lobby';

const el = {
  status: document.getElementById('status'),
  currentUser: document.getElementById('current-user'),
  reconnect: document.getElementById('reconnect'),
  logout: document.getElementById('logout'),
  loginView: document.getElementById('login-view'),
  loginForm: document.getElementById('login-form'),
  loginUser: document.getElementById('login-user'),
  loginError: document.getElementById('login-error'),
  revokedView: document.getElementById('revoked-view'),
  relogin: document.getElementById('relogin'),
  chatView: document.getElementById('chat-view'),
  rooms: document.getElementById('rooms'),
  joinForm: document.getElementById('join-form'),
  joinRoom: document.getElementById('join-room'),
  membersRoom: document.getElementById('members-room'),
  members: document.getElementById('members'),
  directMessages: document.getElementById('direct-messages'),
  directForm: document.getElementById('direct-form'),
  directTo: document.getElementById('direct-to'),
  directInput: document.getElementById('direct-input'),
  directError: document.getElementById('direct-error'),
  currentRoom: document.getElementById('current-room'),
  notice: document.getElementById('notice'),
  messages: document.getElementById('messages'),
  chatForm: document.getElementById('chat-form'),
  chatInput: document.getElementById('chat-input'),
  chatError: document.getElementById('chat-error'),
};

/** @type {SessionSocket | null} */
let socket = null;
/** @type {ReturnType<typeof createRooms> | null} */
let rooms = null;
let me = null;

const STATUS_TEXT = {
  'logged-out': 'Logged out',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  revoked: 'Logged out elsewhere',
  disconnected: 'Disconnected',
};

function setStatus(state, text = STATUS_TEXT[state]) {
  el.status.dataset.state = state;
  el.status.textContent = text;
  document.body.dataset.state = state;
  el.reconnect.hidden = state !== 'disconnected';
  el.logout.hidden = !(state === 'connected' || state === 'reconnecting' || state === 'disconnected');
}

function showView(view) {
  el.loginView.hidden = view !== 'login';
  el.revokedView.hidden = view !== 'revoked';
  el.chatView.hidden = view !== 'chat';
}

function forget() {
  me = null;
  rooms?.clear();
  rooms = null;
  el.currentUser.textContent = '';
  el.directMessages.replaceChildren();
  el.notice.hidden = true;
}

function showLoggedOut(message = '') {
  forget();
  setStatus('logged-out');
  showView('login');
  el.loginError.textContent = message;
  el.loginUser.focus();
}

function showRevoked() {
  forget();
  setStatus('revoked');
  showView('revoked');
}

function describeError(error) {
  switch (error?.code) {
    case 'queue_full': return 'Not connected: too many unsent messages. Try again when reconnected.';
    case 'timeout': return 'The message was not confirmed in time; it may not have been sent.';
    case 'connection_closed': return 'The connection dropped before the message was confirmed.';
    case 'session_ended':
    case 'unauthorized': return 'You are logged out.';
    case 'rate_limited': return 'Slow down: too many messages.';
    case 'forbidden': return `Not sent: ${error.message}`;
    case 'invalid_data': return `Not sent: ${error.message}`;
    default: return `Not sent: ${error?.message ?? error}`;
  }
}

/** "reconnected, nothing missed" when every subscription recovered, else "reloaded": some messages may be missing. */
function showRecovery(allRecovered) {
  el.notice.dataset.recovery = allRecovered ? 'recovered' : 'reloaded';
  el.notice.textContent = allRecovered
    ? 'Reconnected, nothing missed.'
    : 'Reconnected and reloaded: some messages may be missing.';
  el.notice.hidden = false;
}

/** After a reconnect, waits for every subscription's new reply and reports whether each one recovered. */
function awaitRecovery(s) {
  const pending = [...s.subscriptions.values()].map((subscription) => new Promise((resolve) => {
    const offs = [];
    const done = (recovered) => {
      for (const off of offs) off();
      resolve(recovered);
    };
    offs.push(subscription.once('subscribed', (info) => done(info.recovered === true)));
    offs.push(subscription.once('unsubscribed', () => done(true))); // a room that ended has nothing to recover
  }));
  Promise.all(pending).then((results) => {
    if (socket === s) showRecovery(results.every(Boolean));
  });
}

/** Opens the socket; the `sid` cookie (HttpOnly) binds it at the handshake. */
function startSocket() {
  const previous = socket;
  socket = null;
  previous?.close().catch(() => {});
  rooms?.clear();

  const s = new SessionSocket('/ws', { maxDelay: 10000 });
  socket = s;
  const current = () => socket === s;
  rooms = createRooms(s, el, () => me, (text) => { el.chatError.textContent = text; });
  const myRooms = rooms;
  let userFeed = null;

  s.on('state', (state) => {
    if (!current()) return;
    if (state === 'connecting') setStatus('connecting');
    else if (state === 'reconnecting') setStatus('reconnecting');
  });

  s.on('open', async ({ reconnected }) => {
    if (!current()) return;
    if (reconnected) awaitRecovery(s);
    const first = userFeed === null;
    // the default room's subscribe goes out before whoami: the server answers in order, so once the page shows
    // "connected" the room is joined
    const lobby = first ? myRooms.join(DEFAULT_ROOM) : null;
    try {
      const who = await s.request('whoami');
      if (!current()) return;
      me = who.userId;
      el.currentUser.textContent = who.userId;
      if (first) {
        // direct messages: only this user may subscribe to its own channel
        userFeed = s.subscribe(`user:${who.userId}`);
        userFeed.on('chat.message', (data) => myRooms.addDirect(data ?? {}, false));
        await Promise.all([userFeed.ready, lobby].map((p) => p?.catch(() => {})));
        if (!current()) return;
      }
      setStatus('connected', `Connected as ${who.userId}`);
      showView('chat');
      el.chatError.textContent = '';
    } catch (error) {
      if (!current()) return;
      if (error.code === 'unauthorized') {
        // no (or no longer a) valid session cookie
        socket = null;
        await s.close();
        showLoggedOut();
      } else if (error.code !== 'connection_closed') {
        el.chatError.textContent = describeError(error);
      }
    }
  });

  s.on('session', (session) => {
    if (!current()) return;
    if (session.status === 'revoked') showRevoked();
    else if (session.status === 'expired') showLoggedOut('Your session expired. Please log in again.');
    else if (session.status === 'unauthenticated') showLoggedOut();
  });

  s.on('close', (info) => {
    if (!current()) return;
    if (!info.willRetry && s.state === 'closed') setStatus('disconnected', `Disconnected (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
  });

  // the broadcast (chat.send without a room) has no channel: it reaches the socket, and shows in the current room
  s.on('chat.message', (data) => {
    if (current()) myRooms.addBroadcast(data ?? {});
  });

  setStatus('connecting');
  s.connect();
}

el.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  el.loginError.textContent = '';
  const user = el.loginUser.value.trim();
  try {
    const response = await fetch('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user }),
      credentials: 'same-origin',
    });
    if (!response.ok) {
      let detail = '';
      try {
        const body = await response.json();
        detail = body?.message ?? body?.error ?? body?.title ?? '';
      } catch {
        // not JSON
      }
      el.loginError.textContent = `Login failed${detail ? `: ${detail}` : ` (${response.status})`}`;
      return;
    }
    forget();
    startSocket();
  } catch (error) {
    el.loginError.textContent = `Login failed: ${error.message}`;
  }
});

el.chatForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = el.chatInput.value;
  if (!text.trim() || !socket || !rooms) return;
  el.chatError.textContent = '';
  const room = rooms.current;
  try {
    // to the current room (the server checks that this connection joined it); with no room joined, to everyone
    await socket.request('chat.send', room ? { text, room } : { text });
    if (el.chatInput.value === text) el.chatInput.value = '';
  } catch (error) {
    el.chatError.textContent = describeError(error);
  }
});

el.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = el.joinRoom.value.trim();
  if (!rooms || !name) return;
  el.chatError.textContent = '';
  if (rooms.join(name)) el.joinRoom.value = '';
});

el.directForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const to = el.directTo.value.trim();
  const text = el.directInput.value;
  if (!to || !text.trim() || !socket || !rooms) return;
  el.directError.textContent = '';
  const myRooms = rooms;
  try {
    await socket.request('chat.direct', { to, text });
    // the server publishes to the recipient's channel only: show our own copy
    if (to !== me) myRooms.addDirect({ from: me, to, text, at: new Date().toISOString() }, true);
    if (el.directInput.value === text) el.directInput.value = '';
  } catch (error) {
    el.directError.textContent = describeError(error);
  }
});

el.logout.addEventListener('click', async () => {
  const s = socket;
  socket = null;
  await s?.close().catch(() => {});
  try {
    await fetch('/logout', { method: 'POST', credentials: 'same-origin' });
  } catch {
    // the cookie may outlive this failure; the next page load asks the server again
  }
  showLoggedOut();
});

el.reconnect.addEventListener('click', () => {
  if (socket) socket.connect();
  else startSocket();
});

el.relogin.addEventListener('click', () => {
  showLoggedOut();
});

// On load: a socket with the cookie (if any) tells whether we are still logged in.
startSocket();
