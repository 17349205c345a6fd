// Runs the real sample (samples/Chat) on 127.0.0.1 for integration and browser tests.
//   SESSIONSOCKETS_SAMPLE_DLL=/abs/Chat.dll  use this build; otherwise `dotnet build` it once.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../../..');
const HOST = '127.0.0.1';

let builtDll = null;

/** Absolute path of a built Chat.dll (env SESSIONSOCKETS_SAMPLE_DLL, or built here once per process). */
export function sampleDll() {
  const fromEnv = process.env.SESSIONSOCKETS_SAMPLE_DLL;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`SESSIONSOCKETS_SAMPLE_DLL=${fromEnv} does not exist`);
    return fromEnv;
  }
  if (builtDll) return builtDll;
  const project = path.join(repoRoot, 'samples', 'Chat');
  if (!existsSync(project)) throw new Error(`The sample is missing: ${project}`);
  const key = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  const out = path.join(os.tmpdir(), `sessionsockets-chat-${key}`);
  const result = spawnSync('dotnet', ['build', project, '-c', 'Release', '-o', out, '-nologo', '-v', 'q'], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  if (result.status !== 0) {
    throw new Error(`dotnet build of the sample failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  builtDll = path.join(out, 'Chat.dll');
  return builtDll;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A sample server process. Use `SampleServer.start()`, and `stop()` in teardown. */
export class SampleServer {
  /**
   * @param {{port?: number, dir?: string, args?: string[]}} [options]
   *   `dir` is the working directory holding the SQLite file; reuse it (and `port`) to restart.
   */
  static async start(options = {}) {
    const server = new SampleServer(options);
    await server.startProcess();
    return server;
  }

  constructor({ port, dir, args = [] } = {}) {
    this.port = port;
    this.ownsDir = !dir;
    this.dir = dir ?? mkdtempSync(path.join(os.tmpdir(), 'sessionsockets-js-'));
    this.dbPath = path.join(this.dir, 'sessions.db');
    this.args = args;
    this.process = null;
    this.output = [];
  }

  get baseUrl() {
    return `http://${HOST}:${this.port}`;
  }

  get wsUrl() {
    return `ws://${HOST}:${this.port}/ws`;
  }

  /** Last lines the server printed (for failure messages). */
  log(lines = 40) {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  async startProcess() {
    if (this.process) throw new Error('already running');
    this.port ??= await freePort();
    const dll = sampleDll();
    const child = spawn('dotnet', [
      dll,
      '--urls', this.baseUrl,
      '--ConnectionStrings:Sessions', `Data Source=${this.dbPath}`,
      ...this.args,
    ], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', ASPNETCORE_ENVIRONMENT: 'Production' },
    });
    this.process = child;
    const keep = (chunk) => {
      this.output.push(chunk.toString());
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let exitedEarly = null;
    this.exited.then((r) => { exitedEarly = r; });

    // readiness: poll /healthz, bounded (150 x 100 ms)
    for (let i = 0; i < 150; i++) {
      if (exitedEarly) break;
      try {
        const response = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return this;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const reason = exitedEarly ? `exited (${exitedEarly.code ?? exitedEarly.signal})` : 'not healthy after 15 s';
    await this.kill();
    throw new Error(`The sample ${reason} on ${this.baseUrl}.\n${this.log()}`);
  }

  /** Stops gracefully (SIGTERM: connections get 1001), bounded, then SIGKILL. */
  async stop({ removeFiles = true } = {}) {
    await this.signal('SIGTERM', 10_000);
    if (removeFiles && this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kills at once (connections just drop: 1006). */
  async kill() {
    await this.signal('SIGKILL', 10_000);
  }

  async signal(name, boundMs) {
    const child = this.process;
    if (!child) return;
    this.process = null;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(name);
      let handle;
      const timer = new Promise((resolve) => { handle = setTimeout(resolve, boundMs, 'timeout'); });
      const outcome = await Promise.race([this.exited, timer]);
      clearTimeout(handle);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
  }

  /** Same port, same database file: a restart as a deployment would do it. */
  async restart({ graceful = true } = {}) {
    if (graceful) await this.signal('SIGTERM', 10_000);
    else await this.kill();
    await this.startProcess();
  }

  /** POST /login → {sessionId, userId, expiresAt, cookie} */
  async login(user) {
    const response = await fetch(`${this.baseUrl}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    const body = await response.json().catch(() => null);
    if (response.status !== 200) {
      const error = new Error(`login ${user} → ${response.status} ${JSON.stringify(body)}`);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    const setCookie = response.headers.getSetCookie?.() ?? [response.headers.get('set-cookie')];
    const sid = setCookie.find((c) => c && /^sid=/.test(c));
    return { ...body, setCookie: sid ?? null, cookie: sid ? sid.split(';')[0] : null };
  }

  /** POST /logout with a bearer token → status */
  async logout(token) {
    const response = await fetch(`${this.baseUrl}/logout`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    return response.status;
  }
}

/**
 * A `ws` WebSocket class for SessionSocket, counting the sockets it creates; with `headers`
 * (e.g. a Cookie) sent on every handshake.
 */
export function nodeWebSocket(headers = undefined) {
  class NodeWebSocket extends WebSocket {
    static created = 0;
    constructor(url, protocols) {
      super(url, protocols, headers ? { headers } : undefined);
      NodeWebSocket.created += 1;
    }
  }
  return NodeWebSocket;
}

/** Resolves with the first event `name` for which `predicate` holds; rejects after `ms`. */
export function nextEvent(socket, name, predicate = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${name}' event within ${ms} ms (state ${socket.state})`));
    }, ms);
    const off = socket.on(name, (...args) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args[0]);
    });
  });
}
