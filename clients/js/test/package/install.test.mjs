// The package as a user installs it: `npm pack`, `npm install <tarball>` into a fresh ESM project,
// `import { SessionSocket } from '@sessionsockets/client'`, against a fake socket and the real sample.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { packAndInstall, packageDir, packageName, tsc } from '../support/package.mjs';
import { repoRoot, SampleServer } from '../support/sample-server.mjs';

const execFileAsync = promisify(execFile);

let packed;
const cleanups = [];
before(() => {
  packed = packAndInstall({ after: (fn) => cleanups.push(fn) });
});
after(() => {
  for (const fn of cleanups) fn();
});

/** Runs `source` as an ES module inside the fresh project; resolves with what it printed as JSON. */
async function runInApp(name, source, env = {}) {
  const file = path.join(packed.app, name);
  writeFileSync(file, source);
  const { stdout } = await execFileAsync(process.execPath, [file], {
    cwd: packed.app,
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

test('npm pack ships the module, its declarations, the license, the readme and the manifest only', () => {
  assert.deepEqual(packed.files, [
    'LICENSE',
    'README.md',
    'package.json',
    'src/session-socket.d.ts',
    'src/session-socket.js',
  ]);
});

test('the packed LICENSE is the repository\'s MIT license', () => {
  const shipped = readFileSync(path.join(packed.installed, 'LICENSE'), 'utf8');
  assert.equal(shipped, readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'));
  assert.match(shipped, /^MIT License/);
});

test('the installed manifest is complete for publishing and has no runtime dependencies', () => {
  const manifest = JSON.parse(readFileSync(path.join(packed.installed, 'package.json'), 'utf8'));
  assert.equal(manifest.name, packageName);
  assert.equal(manifest.license, 'MIT');
  assert.equal(manifest.type, 'module');
  assert.deepEqual(manifest.publishConfig, { access: 'public' });
  assert.equal(manifest.repository.type, 'git');
  assert.equal(manifest.repository.directory, 'clients/js');
  assert.ok(manifest.keywords.includes('websocket'));
  assert.ok(manifest.homepage && manifest.bugs?.url, 'homepage and bugs');
  assert.deepEqual(Object.keys(manifest.exports['.']), ['types', 'default'], 'types first');
  for (const target of Object.values(manifest.exports['.'])) {
    assert.ok(existsSync(path.join(packed.installed, target)), `${target} is in the package`);
  }
  assert.equal(manifest.dependencies, undefined);
  assert.equal(manifest.peerDependencies, undefined);
});

test('the installed copy is the source file, not a link back into the repository', () => {
  const installed = path.join(packed.installed, 'src', 'session-socket.js');
  assert.notEqual(realpathSync(installed), realpathSync(path.join(packageDir, 'src', 'session-socket.js')));
  assert.equal(readFileSync(installed, 'utf8'), readFileSync(path.join(packageDir, 'src', 'session-socket.js'), 'utf8'));
});

test('a fresh ESM project imports SessionSocket by the package name and connects through a given WebSocket', async () => {
  const result = await runInApp('fake.mjs', `
    import * as client from '${packageName}';
    import DefaultExport, { SessionSocket, States } from '${packageName}';
    const created = [];
    class FakeWebSocket {
      constructor(url) { this.url = url; this.readyState = 0; created.push(this); }
      send(text) { this.sent = text; }
      close() {}
    }
    const socket = new SessionSocket('ws://127.0.0.1:9/ws', { WebSocket: FakeWebSocket });
    const connected = socket.connect();
    const whileConnecting = socket.state;
    created[0].readyState = 1;
    created[0].onopen({});
    await connected;
    console.log(JSON.stringify({
      exports: Object.keys(client).sort(),
      isDefault: DefaultExport === SessionSocket,
      resolved: import.meta.resolve('${packageName}'),
      whileConnecting,
      state: socket.state,
      open: socket.state === States.OPEN,
      url: created[0].url,
    }));
    await socket.close();
  `);
  assert.deepEqual(result.exports, ['RETRYABLE_CLOSE_CODES', 'SessionSocket', 'SessionSocketError', 'States', 'Subscription', 'default']);
  assert.equal(result.isDefault, true);
  assert.equal(result.resolved, pathToFileURL(path.join(packed.installed, 'src', 'session-socket.js')).href);
  assert.equal(result.whileConnecting, 'connecting');
  assert.equal(result.state, 'open');
  assert.equal(result.open, true);
  assert.equal(result.url, 'ws://127.0.0.1:9/ws');
});

test('the installed package asks the real sample whoami over ws', async (t) => {
  const server = await SampleServer.start();
  t.after(() => server.stop());
  const { sessionId } = await server.login('alice');
  const result = await runInApp('whoami.mjs', `
    import { SessionSocket } from '${packageName}';
    const { default: WebSocket } = await import(process.env.WS_MODULE);
    const socket = new SessionSocket(process.env.SERVER_URL, { WebSocket, sessionId: process.env.SESSION_ID, reconnect: false });
    await socket.connect();
    const me = await socket.request('whoami', undefined, { timeout: 10000 });
    await socket.close();
    console.log(JSON.stringify({ me, session: socket.session }));
  `, {
    WS_MODULE: pathToFileURL(path.join(packageDir, 'node_modules', 'ws', 'wrapper.mjs')).href,
    SERVER_URL: server.wsUrl,
    SESSION_ID: sessionId,
  });
  assert.equal(result.me.userId, 'alice', server.log(20));
  assert.equal(typeof result.me.connectionId, 'string');
  assert.equal(result.session.status, 'valid');
  assert.equal(result.session.userId, 'alice');
});

test('TypeScript in the fresh project finds the declarations through the package exports', () => {
  writeFileSync(path.join(packed.app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true },
    files: ['check.ts'],
  }));
  writeFileSync(path.join(packed.app, 'check.ts'), `
    import { SessionSocket } from '${packageName}';
    type Requests = { whoami: { request: void; reply: { userId: string } } };
    const socket = new SessionSocket<{ 'chat.message': { text: string } }, Requests>('/ws');
    export const userId: Promise<string> = socket.request('whoami').then((me) => me.userId);
    socket.on('chat.message', (data) => data.text.toUpperCase());
    // @ts-expect-error typed, not any: the map has no such request
    socket.request('nope');
  `);
  const { status, output } = tsc(packed.app, packed.app);
  assert.equal(status, 0, output);
});
