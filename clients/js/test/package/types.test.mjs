// The hand-written declarations (src/session-socket.d.ts) checked by the pinned TypeScript compiler:
// a typed usage example must compile, a file of misuse must fail exactly where it says, and a
// declaration loosened to `any` must make the checks fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageDir, tempDir, tsc } from '../support/package.mjs';

const USAGE = 'test/types';
const EXPECT_ERRORS = 'test/types/tsconfig.expect-errors.json';

test('tsc --noEmit: the typed usage example compiles against the declarations', () => {
  const { status, output } = tsc(USAGE);
  assert.equal(status, 0, output);
});

test('tsc --noEmit: every @ts-expect-error in expect-errors.ts meets an error', () => {
  const { status, output } = tsc(EXPECT_ERRORS);
  assert.equal(status, 0, output);
});

/** A copy of the package with `edit` (if any) applied to its declarations, the type examples beside it. */
function withDeclarations(t, edit = undefined) {
  const dir = tempDir(t, 'types');
  mkdirSync(path.join(dir, 'src'));
  const original = readFileSync(path.join(packageDir, 'src', 'session-socket.d.ts'), 'utf8');
  const edited = edit ? edit(original) : original;
  if (edit) assert.notEqual(edited, original, 'the edit must change the declarations');
  writeFileSync(path.join(dir, 'src', 'session-socket.d.ts'), edited);
  cpSync(path.join(packageDir, 'src', 'session-socket.js'), path.join(dir, 'src', 'session-socket.js'));
  cpSync(path.join(packageDir, 'package.json'), path.join(dir, 'package.json'));
  cpSync(path.join(packageDir, 'test', 'types'), path.join(dir, 'test', 'types'), { recursive: true });
  symlinkSync(path.join(packageDir, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

const UNUSED_EXPECTATION = /TS2578/; // Unused '@ts-expect-error' directive

const loosened = [
  { what: 'request replies', from: "): Promise<Requests[K]['reply']>;", to: '): Promise<any>;', usageFails: true },
  { what: 'push data', from: /listener: \(data: Pushes\[K\], /g, to: 'listener: (data: any, ', usageFails: true },
  { what: 'request data', from: "...args: RequestArgs<Requests[K]['request']>", to: '...args: any[]', usageFails: false },
  { what: 'constructor options', from: 'options?: SessionSocketOptions);', to: 'options?: any);', usageFails: false },
];

for (const { what, from, to, usageFails } of loosened) {
  test(`a declaration loosened to any (${what}) fails the expect-error check`, (t) => {
    const dir = withDeclarations(t, (d) => d.replace(from, to));
    const errors = tsc(EXPECT_ERRORS, dir);
    assert.notEqual(errors.status, 0, errors.output);
    assert.match(errors.output, UNUSED_EXPECTATION);
    if (usageFails) {
      const usage = tsc(USAGE, dir);
      assert.notEqual(usage.status, 0, 'the exact-type assertions of usage.ts catch it too');
    }
  });
}

test('declarations that disagree with the usage example fail the usage check', (t) => {
  const dir = withDeclarations(t, (d) => d.replace('  readonly queued: number;\n', ''));
  const { status, output } = tsc(USAGE, dir);
  assert.notEqual(status, 0);
  assert.match(output, /usage\.ts\(\d+,\d+\): error TS2339: Property 'queued' does not exist/);
});

test('the TypeScript example of the README compiles', (t) => {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 0, 'the README has a ```ts example');
  const dir = withDeclarations(t);
  const types = path.join(dir, 'test', 'types');
  blocks.forEach((code, i) => writeFileSync(path.join(types, `readme-${i}.ts`), `${code}\nexport {};\n`));
  writeFileSync(path.join(types, 'tsconfig.readme.json'), JSON.stringify({
    extends: './tsconfig.json',
    files: blocks.map((_, i) => `readme-${i}.ts`),
  }));
  const { status, output } = tsc('test/types/tsconfig.readme.json', dir);
  assert.equal(status, 0, output);
});
