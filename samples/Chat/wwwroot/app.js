// The chat page. Everything from the server or the user is rendered with textContent, never as HTML.
import { SessionSocket } from '/lib/session-socket.js';

const MAX_MESSAGES = 500;

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
  messages: document.getElementById('messages'),
  chatForm: document.getElementById('chat-form'),
  chatInput: document.getElementById('chat-input'),
  chatError: document.getElementById('chat-error'),
};

/** @type {SessionSocket | null} */
let socket = null;
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

function showLoggedOut(message = '') {
  me = null;
  el.currentUser.textContent = '';
  setStatus('logged-out');
  showView('login');
  el.loginError.textContent = message;
  el.loginUser.focus();
}

function showRevoked() {
  me = null;
  el.currentUser.textContent = '';
  setStatus('revoked');
  showView('revoked');
}

function formatTime(at) {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at ?? '') : date.toLocaleTimeString();
}

function appendMessage({ from, text, at }) {
  const item = document.createElement('li');
  item.className = 'message';
  item.dataset.testid = 'message';
  if (from === me) item.classList.add('mine');

  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'from';
  who.dataset.testid = 'message-from';
  who.textContent = String(from ?? '');
  const when = document.createElement('time');
  when.className = 'at';
  when.dataset.testid = 'message-at';
  if (typeof at === 'string') when.dateTime = at;
  when.textContent = formatTime(at);
  meta.append(who, when);

  const body = document.createElement('p');
  body.className = 'text';
  body.dataset.testid = 'message-text';
  body.textContent = String(text ?? '');

  item.append(meta, body);
  const atBottom = el.messages.scrollHeight - el.messages.scrollTop - el.messages.clientHeight < 40;
  el.messages.append(item);
  while (el.messages.children.length > MAX_MESSAGES) el.messages.firstElementChild.remove();
  if (atBottom || from === me) el.messages.scrollTop = el.messages.scrollHeight;
}

function describeError(error) {
  switch (error?.code) {
    case 'queue_full': return 'Not connected: too many unsent messages. Try again when reconnected.';
    case 'timeout': return 'The message was not confirmed in time; it may not have been sent.';
    case 'connection_closed': return 'The connection dropped before the message was confirmed.';
    case 'session_ended':
    case 'unauthorized': return 'You are logged out.';
    case 'rate_limited': return 'Slow down: too many messages.';
    case 'invalid_data': return `Not sent: ${error.message}`;
    default: return `Not sent: ${error?.message ?? error}`;
  }
}

/** Opens the socket; the `sid` cookie (HttpOnly) binds it at the handshake. */
function startSocket() {
  const previous = socket;
  socket = null;
  previous?.close().catch(() => {});

  const s = new SessionSocket('/ws', { maxDelay: 10000 });
  socket = s;
  const current = () => socket === s;

  s.on('state', (state) => {
    if (!current()) return;
    if (state === 'connecting') setStatus('connecting');
    else if (state === 'reconnecting') setStatus('reconnecting');
  });

  s.on('open', async () => {
    if (!current()) return;
    try {
      const who = await s.request('whoami');
      if (!current()) return;
      me = who.userId;
      el.currentUser.textContent = who.userId;
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

  s.on('chat.message', (data) => {
    if (current()) appendMessage(data ?? {});
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
    el.messages.replaceChildren();
    startSocket();
  } catch (error) {
    el.loginError.textContent = `Login failed: ${error.message}`;
  }
});

el.chatForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = el.chatInput.value;
  if (!text.trim() || !socket) return;
  el.chatError.textContent = '';
  try {
    await socket.request('chat.send', { text });
    if (el.chatInput.value === text) el.chatInput.value = '';
  } catch (error) {
    el.chatError.textContent = describeError(error);
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
  el.messages.replaceChildren();
  showLoggedOut();
});

el.reconnect.addEventListener('click', () => {
  if (socket) socket.connect();
  else startSocket();
});

el.relogin.addEventListener('click', () => {
  el.messages.replaceChildren();
  showLoggedOut();
});

// On load: a socket with the cookie (if any) tells whether we are still logged in.
startSocket();
