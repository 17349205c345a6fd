// The chat page in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the sample on 127.0.0.1.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleServer } from '../support/sample-server.mjs';
import { launchChromium, skip } from '../support/chromium.mjs';

let server;
let chromium;
let browser;
const contexts = [];
const pageErrors = [];
const dialogs = [];

before(async () => {
  if (skip) return;
  server = await SampleServer.start();
  chromium = await launchChromium();
  browser = chromium.browser;
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
});

after(async () => {
  await chromium?.close();
  await server?.stop();
});

async function newContext() {
  const context = await browser.newContext({ baseURL: server.baseUrl });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  return context;
}

async function newPage(context) {
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  return page;
}

function statusOf(page) {
  return page.getAttribute('[data-testid="status"]', 'data-state');
}

async function waitForState(page, state, timeout = 10_000) {
  try {
    await page.waitForSelector(`[data-testid="status"][data-state="${state}"]`, { timeout });
  } catch (error) {
    const current = await statusOf(page).catch(() => '?');
    const text = await page.textContent('[data-testid="status"]').catch(() => '?');
    throw new Error(`status never became '${state}' within ${timeout} ms (it is '${current}': ${text})\n${server.log(20)}`, { cause: error });
  }
}

async function login(page, user) {
  await page.goto('/');
  await waitForState(page, 'logged-out');
  await page.fill('[data-testid="login-user"]', user);
  await page.click('[data-testid="login-submit"]');
  await waitForState(page, 'connected');
  assert.equal(await page.textContent('[data-testid="current-user"]'), user);
}

async function say(page, text) {
  await page.fill('[data-testid="chat-input"]', text);
  await page.click('[data-testid="chat-send"]');
}

/** Waits for a message with this text in the list; returns {from, text, html}. */
async function waitForMessage(page, text, timeout = 10_000) {
  const handle = await page.waitForFunction((expected) => {
    for (const item of document.querySelectorAll('[data-testid="message"]')) {
      const body = item.querySelector('[data-testid="message-text"]');
      if (body && body.textContent === expected) {
        return {
          from: item.querySelector('[data-testid="message-from"]').textContent,
          text: body.textContent,
          html: body.innerHTML,
          children: body.children.length,
        };
      }
    }
    return null;
  }, text, { timeout });
  return handle.jsonValue();
}

test('two users chat with each other', { skip }, async () => {
  const alicePage = await newPage(await newContext());
  const bobPage = await newPage(await newContext());
  await login(alicePage, 'alice');
  await login(bobPage, 'bob');

  await say(alicePage, 'Hello Bob');
  assert.deepEqual(
    { from: (await waitForMessage(bobPage, 'Hello Bob')).from },
    { from: 'alice' },
  );
  assert.equal((await waitForMessage(alicePage, 'Hello Bob')).from, 'alice', 'the sender sees it too');
  // the input is cleared once the server confirmed
  await alicePage.waitForFunction(() => document.querySelector('[data-testid="chat-input"]').value === '');

  await say(bobPage, 'Hi Alice');
  assert.equal((await waitForMessage(alicePage, 'Hi Alice')).from, 'bob');
  assert.deepEqual(pageErrors, []);
});

test('chat text with markup is shown as text, never run', { skip }, async () => {
  const sender = await newPage(await newContext());
  const reader = await newPage(await newContext());
  await login(sender, 'mallory');
  await login(reader, 'victim');
  const payload = '<img src=x onerror=alert(1)>';
  await say(sender, payload);
  const shown = await waitForMessage(reader, payload);
  assert.equal(shown.text, payload);
  assert.equal(shown.children, 0, 'no element was created from the text');
  assert.equal(shown.html, '&lt;img src=x onerror=alert(1)&gt;');
  assert.equal(await reader.locator('[data-testid="messages"] img').count(), 0);
  assert.equal(await sender.locator('[data-testid="messages"] img').count(), 0);
  // the user name is rendered as text too
  await say(sender, 'second');
  assert.equal((await waitForMessage(reader, 'second')).from, 'mallory');
  assert.deepEqual(dialogs, [], 'no alert() ran');
  assert.deepEqual(pageErrors, []);
});

test('logging out in one tab closes the socket in the other tab, which shows the revoked state', { skip }, async () => {
  const context = await newContext();
  const first = await newPage(context);
  await login(first, 'tabby');

  const second = await newPage(context);
  const sockets = [];
  second.on('websocket', (ws) => {
    const record = { ws, frames: [] };
    ws.on('framereceived', ({ payload }) => record.frames.push(String(payload)));
    sockets.push(record);
  });
  await second.goto('/');
  await waitForState(second, 'connected'); // the shared cookie logs this tab in
  assert.equal(await second.textContent('[data-testid="current-user"]'), 'tabby');
  assert.equal(sockets.length, 1);
  const { ws } = sockets[0];
  const closed = ws.isClosed() ? Promise.resolve() : ws.waitForEvent('close', { timeout: 5000 });

  await first.click('[data-testid="logout"]');
  await waitForState(first, 'logged-out');
  assert.equal(await first.isVisible('[data-testid="login-view"]'), true);

  await waitForState(second, 'revoked', 5000);
  assert.equal(await second.textContent('[data-testid="status"]'), 'Logged out elsewhere');
  assert.equal(await second.isVisible('[data-testid="revoked-view"]'), true);
  assert.equal(await second.isVisible('[data-testid="chat-view"]'), false);
  await closed;
  assert.ok(sockets[0].frames.some((f) => {
    try {
      const m = JSON.parse(f);
      return m.type === 'session' && m.data?.status === 'revoked';
    } catch {
      return false;
    }
  }), 'the revoked push arrived before the close');

  // a reload of the revoked tab finds no session: the login form
  await second.reload();
  await waitForState(second, 'logged-out');
  assert.deepEqual(pageErrors, []);
});

test('the page survives a server restart and can send again', { skip }, async () => {
  const page = await newPage(await newContext());
  await login(page, 'survivor');
  await say(page, 'before restart');
  await waitForMessage(page, 'before restart');

  await server.kill(); // the connection drops without a close frame
  await waitForState(page, 'reconnecting');
  await server.startProcess(); // same port, same database file
  await waitForState(page, 'connected', 30_000);
  assert.equal(await page.textContent('[data-testid="current-user"]'), 'survivor');

  await say(page, 'after restart');
  assert.equal((await waitForMessage(page, 'after restart')).from, 'survivor');
  assert.equal(await page.textContent('[data-testid="chat-error"]'), '');
  assert.deepEqual(pageErrors, []);
});
