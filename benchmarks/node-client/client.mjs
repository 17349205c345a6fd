// A second client for the load figures (issue 18): node + ws, one process, bounded connect concurrency.
//   node client.mjs --mode hold --url http://127.0.0.1:5290 --connections 10000 --duration 15 [--auth cookie|none]
//       [--server-pid PID] [--settle 3] [--concurrency 64] [--probe CMD]
//   node client.mjs --mode echo --connections 64 --duration 8 --warmup 2 [--payload 32] [--server-pid PID]
// Sessions come from POST /login (N of them, 100 users), the token goes as the sid cookie on the upgrade request.
// Prints the load tool's key=value lines (see benchmarks/SessionSockets.LoadTest/LoadResult.cs). Exit 0 when there
// were no errors, mismatches or connect failures; 1 otherwise; 2 for bad arguments.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';

const defaults = { mode: 'hold', url: 'http://127.0.0.1:5080', path: '/ws', connections: '64', duration: '10', warmup: '2',
  settle: '3', auth: 'cookie', 'server-pid': '0', concurrency: '64', payload: '32', sessions: '0', probe: '' };
const opts = { ...defaults };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i]?.replace(/^--/, '');
  if (!argv[i]?.startsWith('--') || !(key in defaults) || argv[i + 1] === undefined) {
    console.error(`expected --name value with a name of: ${Object.keys(defaults).join(', ')}`);
    process.exit(2);
  }
  opts[key] = argv[i + 1];
}
const num = (k, min, max) => {
  const n = Number(opts[k]);
  if (!Number.isFinite(n) || n < min || n > max) { console.error(`--${k} is ${min}..${max}`); process.exit(2); }
  return n;
};
const mode = opts.mode;
if (mode !== 'hold' && mode !== 'echo') { console.error('--mode is hold or echo'); process.exit(2); }
if (opts.auth !== 'cookie' && opts.auth !== 'none') { console.error('--auth is cookie or none'); process.exit(2); }
const base = new URL(opts.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) { console.error('--url must be loopback'); process.exit(2); }
const N = num('connections', 1, 100000), duration = num('duration', 0.1, 1e5), warmup = num('warmup', 0, 1e5);
const settle = num('settle', 0, 1e5), concurrency = num('concurrency', 1, 1024), payload = num('payload', 0, 16000);
const pid = num('server-pid', 0, 1 << 30), sessions = num('sessions', 0, 100000) || N;
const replyTimeoutMs = 30000;
const wsUrl = new URL(opts.path, base); wsUrl.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';

function proc() {
  if (pid <= 0) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpu: (Number(f[11]) + Number(f[12])) / 100, rss: rss ? Number(rss[1]) * 1024 : 0 };
  } catch { return null; }
}

function probe(phase) {
  if (!opts.probe || pid <= 0) return { heap: -1, timers: -1 };
  let out = '';
  try { out = execFileSync('/bin/sh', ['-c', opts.probe, 'probe', phase, String(pid)], { encoding: 'utf8', timeout: 180000 }); }
  catch (e) { out = String(e.stdout ?? ''); }
  for (const line of out.split('\n')) if (line) console.log(`[probe ${phase}] ${line}`);
  const field = (name) => { const m = new RegExp(`(?:^|\\s)${name}=(-?\\d+)`).exec(out); return m ? Number(m[1]) : -1; };
  return { heap: field('heap_bytes'), timers: field('timers') };
}

async function login(count) {
  if (opts.auth === 'none') return [];
  const tokens = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(8, count) }, async () => {
    for (let i = next++; i < count; i = next++) {
      const res = await fetch(new URL('/login', base), { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: `bench${i % 100}` }) });
      if (!res.ok) throw new Error(`login ${res.status}`);
      tokens[i] = (await res.json()).sessionId;
    }
  }));
  console.log(`logged in ${count} sessions`);
  return tokens;
}

const state = { errors: 0, mismatches: 0, failures: 0, latencies: [] };
const fail = (what) => { if (state.errors++ < 3) console.log(what); };

/** One connection: a queue of waiters for its next message, so a reply is matched to the request that is waiting. */
function connect(index, token) {
  return new Promise((resolve, reject) => {
    const headers = token ? { Cookie: `sid=${token}` } : {};
    const ws = new WebSocket(wsUrl, { headers, perMessageDeflate: false, handshakeTimeout: replyTimeoutMs });
    const c = { index, ws, waiter: null, closed: false };
    ws.on('message', (data, isBinary) => {
      const w = c.waiter; c.waiter = null;
      if (w) w.resolve({ data, isBinary }); else state.mismatches++;
    });
    ws.on('close', () => { c.closed = true; const w = c.waiter; c.waiter = null; if (w) w.reject(new Error('closed')); });
    ws.on('error', (e) => { if (ws.readyState === WebSocket.CONNECTING) reject(e); });
    ws.once('open', () => resolve(c));
  });
}

function request(c, text) {
  return new Promise((resolve, reject) => {
    if (c.closed) { reject(new Error('closed')); return; }
    const timer = setTimeout(() => { c.waiter = null; reject(new Error('reply timeout')); }, replyTimeoutMs);
    c.waiter = { resolve: (r) => { clearTimeout(timer); resolve(r); }, reject: (e) => { clearTimeout(timer); reject(e); } };
    c.ws.send(text, { binary: false }, (e) => { if (e) { clearTimeout(timer); c.waiter = null; reject(e); } });
  });
}

async function connectAll(tokens) {
  const slots = new Array(N);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, N) }, async () => {
    for (let i = next++; i < N; i = next++) {
      try { slots[i] = await connect(i, tokens.length ? tokens[i % tokens.length] : null); }
      catch (e) { if (state.failures++ < 3) console.log(`connect ${i} failed: ${e.message}`); }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const list = slots.filter(Boolean);
  console.log(`connected ${list.length} (${state.failures} failed) in ${seconds.toFixed(1)} s`);
  return { list, seconds };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : 0;

async function main() {
  const tokens = await login(sessions);
  const before = proc();
  const probeBefore = mode === 'hold' ? probe('before') : { heap: -1, timers: -1 };
  const { list, seconds: connectSeconds } = await connectAll(tokens);
  let measured = 0, seconds = 0, cpu = NaN, idle = null, after = null, probeAfter = { heap: -1, timers: -1 };
  if (mode === 'hold') {
    await sleep(settle * 1000);
    const from = proc(); const t0 = performance.now();
    console.log(`holding ${list.length} connections; server RSS ${((from?.rss ?? 0) / 1048576).toFixed(1)} MB`);
    await sleep(duration * 1000);
    after = proc();
    idle = { seconds: (performance.now() - t0) / 1000, cpu: from && after ? after.cpu - from.cpu : NaN };
    probeAfter = probe('after');
    const t1 = performance.now();
    let at = 0;
    await Promise.all(Array.from({ length: Math.min(256, list.length) }, async () => {
      for (let i = at++; i < list.length; i = at++) {
        const c = list[i]; const sent = performance.now();
        try {
          const { data, isBinary } = await request(c, '{"type":"ping","id":"-1"}');
          const reply = isBinary ? null : JSON.parse(data.toString());
          if (reply?.type === 'ping' && reply.id === '-1') { state.latencies.push(performance.now() - sent); measured++; } else state.mismatches++;
        } catch (e) { fail(`connection ${c.index}: ${e.message}`); }
      }
    }));
    seconds = (performance.now() - t1) / 1000;
  } else {
    const start = performance.now(), measureFrom = start + warmup * 1000, deadline = measureFrom + duration * 1000;
    let cpuFrom = null;
    const sampler = sleep(warmup * 1000).then(() => { cpuFrom = proc(); });
    const text = (id) => `{"type":"echo","id":"${id}","data":{"text":"${'x'.repeat(payload)}"}}`;
    await Promise.all(list.map(async (c) => {
      try {
        for (let seq = 1; performance.now() < deadline; seq++) {
          const body = text(seq); const sent = performance.now();
          const { data, isBinary } = await request(c, body);
          if (isBinary || data.toString() !== body) state.mismatches++;
          else if (sent >= measureFrom && sent < deadline) { state.latencies.push(performance.now() - sent); measured++; }
        }
      } catch (e) { fail(`connection ${c.index}: ${e.message}`); }
    }));
    const cpuTo = proc(); await sampler;
    seconds = (Math.min(performance.now(), deadline) - measureFrom) / 1000;
    cpu = cpuFrom && cpuTo ? cpuTo.cpu - cpuFrom.cpu : NaN;
  }
  for (const c of list) c.ws.terminate();
  const sorted = state.latencies.sort((a, b) => a - b);
  const f = (x, d) => Number.isFinite(x) ? x.toFixed(d) : 'NaN';
  const lines = [
    `mode=${mode} connections=${list.length} connect_failures=${state.failures} connect_s=${f(connectSeconds, 1)}`,
    `messages=${measured} msgs/s=${f(seconds > 0 ? measured / seconds : 0, 0)} errors=${state.errors} mismatches=${state.mismatches}`,
    `latency_ms p50=${f(pct(sorted, 0.5), 3)} p90=${f(pct(sorted, 0.9), 3)} p99=${f(pct(sorted, 0.99), 3)} max=${f(sorted.at(-1) ?? 0, 3)}`,
  ];
  if (mode === 'echo' && Number.isFinite(cpu)) lines.push(`server_cpu_s=${f(cpu, 2)} cpu_us/msg=${f(measured ? cpu * 1e6 / measured : NaN, 2)}`);
  if (mode === 'hold' && after && before) {
    lines.push(`server_rss_before_mb=${f(before.rss / 1048576, 1)} server_rss_after_mb=${f(after.rss / 1048576, 1)} rss_per_connection_bytes=${f(list.length ? (after.rss - before.rss) / list.length : NaN, 0)}`);
  }
  if (idle && Number.isFinite(idle.cpu)) lines.push(`idle_s=${f(idle.seconds, 1)} idle_cpu_s=${f(idle.cpu, 2)} idle_cpu_percent=${f(idle.cpu * 100 / idle.seconds, 2)}`);
  if (probeBefore.heap >= 0 || probeAfter.heap >= 0) {
    const per = list.length && probeBefore.heap >= 0 && probeAfter.heap >= 0 ? (probeAfter.heap - probeBefore.heap) / list.length : NaN;
    lines.push(`server_heap_before_mb=${f(probeBefore.heap / 1048576, 1)} server_heap_after_mb=${f(probeAfter.heap / 1048576, 1)} heap_per_connection_bytes=${f(per, 0)} timers_before=${probeBefore.timers} timers_after=${probeAfter.timers}`);
  }
  console.log(lines.join('\n'));
  return state.errors === 0 && state.mismatches === 0 && state.failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
