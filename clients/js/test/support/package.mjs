// The package as a user gets it: `npm pack`, then `npm install` of the tarball into a fresh project.
// Also runs the pinned TypeScript compiler (a devDependency) for the declaration checks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** clients/js */
export const packageDir = path.resolve(here, '../..');
export const packageName = '@sessionsockets/client';
const tscPath = path.join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs a command bounded in time; throws with its output when it exits non-zero (unless `check: false`). */
export function run(command, args, { cwd, check = true, env = {} } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...env },
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}\n${output}`);
  if (check && result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal} in ${cwd}:\n${output}`);
  }
  return { status: result.status, stdout: result.stdout, output };
}

/** `tsc --noEmit -p <project>` with the pinned compiler; resolves to {status, output}, never throws on type errors. */
export function tsc(project, cwd = packageDir) {
  return run(process.execPath, [tscPath, '--noEmit', '--pretty', 'false', '-p', project], { cwd, check: false });
}

/** A temporary directory, removed after the test (or the suite, for a `before` hook's context). */
export function tempDir(t, prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `sessionsockets-js-${prefix}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `npm pack` into `dir`: the tarball's path and the paths it holds (relative to the package root). */
export function pack(dir) {
  const { stdout } = run('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], { cwd: packageDir });
  const [info] = JSON.parse(stdout);
  return { tarball: path.join(dir, info.filename), files: info.files.map((f) => f.path).sort(), info };
}

/**
 * A fresh Node project (`npm init -y`, `"type": "module"`) in `dir` with the tarball installed from
 * disk. `--offline`: the package has no runtime dependencies, so the install needs no registry.
 */
export function installFresh(dir, tarball) {
  const app = path.join(dir, 'app');
  mkdirSync(app);
  run('npm', ['init', '-y', '--loglevel=error'], { cwd: app });
  const manifestPath = path.join(app, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, type: 'module' }, null, 2));
  run('npm', ['install', tarball, '--no-audit', '--no-fund', '--offline', '--loglevel=error'], { cwd: app });
  return { app, installed: path.join(app, 'node_modules', ...packageName.split('/')) };
}

/** Packs and installs into a fresh project under a temporary directory owned by `t`. */
export function packAndInstall(t) {
  const dir = tempDir(t, 'package');
  const packed = pack(dir);
  return { ...packed, ...installFresh(dir, packed.tarball) };
}
