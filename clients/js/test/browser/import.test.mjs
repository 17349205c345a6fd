// A bundler-free browser import of the module: `<script type="module">import … from '<path>'`, in
// headless Chromium, first from the path the sample serves (/lib/session-socket.js, as an app
// serves it from its own static files), then the file of the installed npm tarball.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launchChromium, skip } from '../support/chromium.mjs';
import { packAndInstall, packageDir } from '../support/package.mjs';
import { SampleServer } from '../support/sample-server.mjs';

let server;
let chromium;
const cleanups = [];

before(async () => {
  if (skip) return;
  server = await SampleServer.start();
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await server?.stop();
  for (const fn of cleanups) fn();
});

/**
 * The page: imports the module from `modulePath`, logs in (the sample sets the `sid` cookie, which
 * binds the WebSocket handshake, as on the chat page), connects to /ws and asks whoami.
 */
function importPage(modulePath, user) {
  return `<!doctype html>
<meta charset="utf-8">
<title>import check</title>
<script type="module">
  import { SessionSocket, States } from ${JSON.stringify(modulePath)};
  try {
    const response = await fetch('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: ${JSON.stringify(user)} }),
    });
    if (!response.ok) throw new Error('login: ' + response.status);
    const socket = new SessionSocket('/ws', { reconnect: false });
    const closes = [];
    socket.on('close', (info) => closes.push(info));
    await socket.connect().catch((error) => {
      throw new Error(error + ' ' + JSON.stringify(closes));
    });
    const me = await socket.request('whoami');
    window.result = { userId: me.userId, url: socket.url, open: socket.state === States.OPEN };
    await socket.close();
  } catch (error) {
    window.result = { error: String(error) };
  }
</script>`;
}

/**
 * Runs `html` as a page of the sample's origin; `files` maps URL paths to files the test serves there.
 * The document itself comes from the sample (its /healthz answer, then replaced by `html`): a
 * document the test fulfilled would not count as loaded from 127.0.0.1, and Chromium's local
 * network access checks would then block its WebSocket to 127.0.0.1.
 */
async function run(html, files = {}) {
  const context = await chromium.browser.newContext({ baseURL: server.baseUrl });
  context.setDefaultTimeout(10_000);
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    for (const [urlPath, file] of Object.entries(files)) {
      await page.route(`${server.baseUrl}${urlPath}`, (route) => route.fulfill({ contentType: 'text/javascript', path: file }));
    }
    await page.goto('/healthz');
    await page.setContent(html);
    const handle = await page.waitForFunction(() => window.result);
    const result = await handle.jsonValue();
    assert.deepEqual(pageErrors, []);
    return result;
  } finally {
    await context.close().catch(() => {});
  }
}

test('the sample serves the client\'s own file at /lib/session-socket.js', { skip }, async () => {
  const response = await fetch(`${server.baseUrl}/lib/session-socket.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /javascript/);
  assert.equal(await response.text(), readFileSync(path.join(packageDir, 'src', 'session-socket.js'), 'utf8'));
});

test('a page imports SessionSocket from /lib/session-socket.js without a bundler and asks whoami', { skip }, async () => {
  const result = await run(importPage('/lib/session-socket.js', 'carol'));
  assert.deepEqual(result, { userId: 'carol', url: `ws://127.0.0.1:${server.port}/ws`, open: true });
});

test('a page imports the file of the installed npm tarball without a bundler and asks whoami', { skip }, async () => {
  const { installed } = packAndInstall({ after: (fn) => cleanups.push(fn) });
  const modulePath = '/vendor/@sessionsockets/client/session-socket.js';
  const result = await run(importPage(modulePath, 'dave'), {
    [modulePath]: path.join(installed, 'src', 'session-socket.js'),
  });
  assert.deepEqual(result, { userId: 'dave', url: `ws://127.0.0.1:${server.port}/ws`, open: true });
});
