// clients/js/README.md followed literally in a fresh Node project: the install it names (`npm install` of
// the package, from the packed tarball, and `ws`), the import it shows, and its whole Node script run
// against the real sample, the server address being the only thing changed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { packAndInstall, packageDir, packageName, run } from '../support/package.mjs';
import { SampleServer } from '../support/sample-server.mjs';

const execFileAsync = promisify(execFile);
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

/** The first fenced block of `language` after `heading` (or from the top). */
function block(language, heading) {
  const from = heading ? readme.indexOf(`\n${heading}\n`) : 0;
  assert.ok(from >= 0, `README has the heading ${heading}`);
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(readme.slice(from));
  assert.ok(match, `README has a ${language} block${heading ? ` under ${heading}` : ''}`);
  return match[1];
}

let packed;
let server;
const cleanups = [];
before(async () => {
  packed = packAndInstall({ after: (fn) => cleanups.push(fn) });
  server = await SampleServer.start();
});
after(async () => {
  await server?.stop();
  for (const fn of cleanups) fn();
});

test('the README installs the package by the name in package.json', () => {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const install = block('bash');
  assert.equal(manifest.name, packageName);
  assert.match(install, new RegExp(`^npm install ${packageName.replace('/', '\\/')}$`, 'm'));
  assert.match(install, /^npm install ws\b/m);
  assert.doesNotMatch(readme, /shared\/PROTOCOL\.md|['"`]\/token['"`]/, 'no link to a missing page, no fetch of an undefined /token');
});

test('the README\'s Node script, run as shown in a fresh project, logs in to the sample and gets whoami', async () => {
  // `npm install ws`, as the README says (from the npm cache when it holds it).
  run('npm', ['install', 'ws', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: packed.app });
  const script = block('js', '### Node');
  assert.match(script, /^import \{ SessionSocket \} from '@sessionsockets\/client';$/m, 'imported by the package name');
  assert.ok(script.includes('127.0.0.1:5000'), 'the README names its server address');
  const file = path.join(packed.app, 'whoami.mjs');
  writeFileSync(file, script.replaceAll('127.0.0.1:5000', `127.0.0.1:${server.port}`));

  const { stdout } = await execFileAsync(process.execPath, [file], { cwd: packed.app, timeout: 60_000 });

  assert.match(stdout, /userId: 'alice'/, `${stdout}\n${server.log()}`);
  assert.match(stdout, /expiresAt: '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z'/, stdout);
});
