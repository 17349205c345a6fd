// The page's rooms: one channel subscription `room:<name>` each, its messages, and its members from
// presence; and the direct messages of the user's own channel. Rendered with textContent only.

const MAX_MESSAGES = 500;
const MAX_DIRECT = 200;
const ROOM_NAME = /^[A-Za-z0-9_-]{1,32}$/;

function formatTime(at) {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at ?? '') : date.toLocaleTimeString();
}

function messageItem({ from, text, at }, mine) {
  const item = document.createElement('li');
  item.className = 'message';
  item.dataset.testid = 'message';
  if (mine) item.classList.add('mine');

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
  return item;
}

function missedItem() {
  const item = document.createElement('li');
  item.className = 'message missed';
  item.dataset.testid = 'missed';
  item.textContent = 'Some messages could not be recovered here.';
  return item;
}

/**
 * @param {import('/lib/session-socket.js').SessionSocket} socket
 * @param {Record<string, HTMLElement>} el the page's elements
 * @param {() => string | null} me the current user id
 * @param {(text: string) => void} showError
 */
export function createRooms(socket, el, me, showError) {
  /** name -> {name, subscription, entries: Array<{kind, data}>, members: Map<userId, connections>} */
  const rooms = new Map();
  let current = null;
  let ended = false;

  function render(entry) {
    if (entry.kind === 'missed') return missedItem();
    const item = messageItem(entry.data, entry.data.from === me());
    if (entry.kind === 'broadcast') item.classList.add('broadcast');
    return item;
  }

  function add(room, entry) {
    room.entries.push(entry);
    if (room.entries.length > MAX_MESSAGES) room.entries.splice(0, room.entries.length - MAX_MESSAGES);
    if (room.name !== current) return;
    const list = el.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(render(entry));
    while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
    if (atBottom || entry.data?.from === me()) list.scrollTop = list.scrollHeight;
  }

  function renderRooms() {
    const items = [...rooms.keys()].sort().map((name) => {
      const item = document.createElement('li');
      item.dataset.testid = 'room';
      item.dataset.room = name;
      if (name === current) item.classList.add('current');
      const select = document.createElement('button');
      select.type = 'button';
      select.className = 'select';
      select.dataset.testid = 'room-select';
      select.textContent = name;
      select.addEventListener('click', () => selectRoom(name));
      const leave = document.createElement('button');
      leave.type = 'button';
      leave.className = 'leave';
      leave.dataset.testid = 'room-leave';
      leave.textContent = 'Leave';
      leave.title = `Leave ${name}`;
      leave.addEventListener('click', () => leaveRoom(name));
      item.append(select, leave);
      return item;
    });
    el.rooms.replaceChildren(...items);
  }

  function renderMembers() {
    const room = current === null ? undefined : rooms.get(current);
    el.membersRoom.textContent = current ?? '';
    const items = room ? [...room.members.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([userId, connections]) => {
      const item = document.createElement('li');
      item.dataset.testid = 'member';
      item.dataset.user = userId;
      item.textContent = userId;
      if (connections > 1) {
        const count = document.createElement('span');
        count.className = 'count';
        count.textContent = `×${connections}`;
        item.append(count);
      }
      return item;
    }) : [];
    el.members.replaceChildren(...items);
  }

  function renderConversation() {
    const room = current === null ? undefined : rooms.get(current);
    el.currentRoom.textContent = current ?? 'Everyone';
    el.chatInput.placeholder = current ? `Write to ${current}…` : 'Write to everyone…';
    el.messages.replaceChildren(...(room ? room.entries.map(render) : []));
    el.messages.scrollTop = el.messages.scrollHeight;
  }

  function selectRoom(name) {
    if (!rooms.has(name)) return;
    current = name;
    renderRooms();
    renderMembers();
    renderConversation();
  }

  /** Who is in the room now, from the server: after every (re)subscribe, since joins and leaves may have been missed. */
  async function refreshMembers(room) {
    try {
      const members = await room.subscription.presence();
      if (rooms.get(room.name) !== room) return;
      room.members = new Map(members.map((m) => [m.userId, m.connections]));
      if (room.name === current) renderMembers();
    } catch (error) {
      if (error?.code !== 'connection_closed' && error?.code !== 'unsubscribed') showError(`Members of ${room.name}: ${error?.message ?? error}`);
    }
  }

  /** Joins (or shows) a room; the subscription's first reply, or null when the name is not valid. */
  function join(name) {
    if (ended) return null;
    if (!ROOM_NAME.test(name)) {
      showError('A room name is 1 to 32 letters, digits, _ or -.');
      return null;
    }
    if (rooms.has(name)) {
      selectRoom(name);
      return rooms.get(name).subscription.ready;
    }
    const subscription = socket.subscribe(`room:${name}`);
    const room = { name, subscription, entries: [], members: new Map() };
    rooms.set(name, room);
    subscription.on('chat.message', (data) => add(room, { kind: 'message', data: data ?? {} }));
    subscription.on('presence.join', ({ userId }) => {
      room.members.set(userId, Math.max(1, room.members.get(userId) ?? 0));
      if (room.name === current) renderMembers();
    });
    subscription.on('presence.leave', ({ userId }) => {
      room.members.delete(userId);
      if (room.name === current) renderMembers();
    });
    subscription.on('subscribed', (info) => {
      if (info.resubscribed && info.recovered !== true && room.entries.length > 0) add(room, { kind: 'missed' });
      refreshMembers(room);
    });
    subscription.on('gap', () => add(room, { kind: 'missed' }));
    subscription.on('unsubscribed', ({ reason, error }) => {
      if (rooms.get(name) !== room) return;
      rooms.delete(name);
      if (error) showError(`Could not join ${name}: ${error.message}`);
      else if (reason !== 'client' && reason !== 'closed') showError(`You left ${name} (${reason}).`);
      if (current === name) current = rooms.size > 0 ? [...rooms.keys()].sort()[0] : null;
      renderRooms();
      renderMembers();
      renderConversation();
    });
    selectRoom(name);
    return subscription.ready;
  }

  function leaveRoom(name) {
    const room = rooms.get(name);
    room?.subscription.unsubscribe();
  }

  function addDirect({ from, to, text, at }, mine) {
    const item = document.createElement('li');
    item.dataset.testid = 'direct-message';
    if (mine) item.classList.add('mine');
    const who = document.createElement('span');
    who.className = 'from';
    who.dataset.testid = 'direct-from';
    who.textContent = mine ? `to ${String(to ?? '')}` : String(from ?? '');
    const body = document.createElement('span');
    body.dataset.testid = 'direct-text';
    body.textContent = String(text ?? '');
    const when = document.createElement('time');
    if (typeof at === 'string') when.dateTime = at;
    item.title = formatTime(at);
    item.append(who, body, when);
    el.directMessages.append(item);
    while (el.directMessages.children.length > MAX_DIRECT) el.directMessages.firstElementChild.remove();
    el.directMessages.scrollTop = el.directMessages.scrollHeight;
  }

  function addBroadcast(data) {
    const room = current === null ? undefined : rooms.get(current);
    if (room) add(room, { kind: 'broadcast', data });
    else el.messages.append(messageItem(data, data.from === me()));
  }

  function clear() {
    ended = true;
    rooms.clear();
    current = null;
    el.rooms.replaceChildren();
    el.members.replaceChildren();
    el.messages.replaceChildren();
    el.membersRoom.textContent = '';
    el.currentRoom.textContent = '';
  }

  return {
    join,
    addDirect,
    addBroadcast,
    clear,
    get current() {
      return current;
    },
    get size() {
      return rooms.size;
    },
  };
}
