#!/usr/bin/env node
// Opt-in soak test (not part of CI or `npm test`): real nginx with envd-edge, rendered from
// examples/cubeproxy/nginx.conf into a temporary prefix, in front of the fake envd
// (test/fake-envd) with a temporary sandbox root. It sends a bounded, mixed load for
// SOAK_SECONDS, samples the RSS of nginx's worker processes every SOAK_SAMPLE_SECONDS and prints
// the samples with their least-squares slope (KiB/min): a leak shows as a steady positive slope.
//
//   npm run build && node bench/soak.mjs                  # 10 minutes
//   SOAK_SECONDS=30 node bench/soak.mjs                   # a quick check that it works
//
// Traffic (path routing, sandbox abc123, port 49983), per request picked by weight:
//   35% filesystem.Filesystem/Stat       unary, Connect JSON (application/json), buffered path
//   35% filesystem.Filesystem/ListDir    unary, Connect JSON
//   20% process.Process/Start            server stream (application/connect+json) of `echo soak`,
//                                        read to its end-stream envelope
//   10% filesystem.Filesystem/WatchDir   server stream; a file is written into the watched
//                                        directory, the client waits for the event and hangs up
//                                        (the client-abort path of a live stream)
//
// Environment:
//   SOAK_SECONDS=600          how long the load runs
//   SOAK_RPS=25               requests started per second (a bound, not a target: see SOAK_INFLIGHT)
//   SOAK_INFLIGHT=16          at most this many requests in flight; a tick that finds the limit
//                             reached skips its request (counted as "skipped")
//   SOAK_SAMPLE_SECONDS=10    RSS sampling interval
//   SOAK_MAX_SLOPE_KIB_PER_MIN  when set, exit 1 if the slope after warm-up is above it
//   NGINX_BIN, NGINX_NJS_MODULE as for the tests
//
// Exit status: 0 when every request succeeded (and the slope is within SOAK_MAX_SLOPE_KIB_PER_MIN
// when set), 1 otherwise. SIGINT/SIGTERM stop the load early, print the report and clean up:
// nginx (SIGQUIT to the master it started), the fake envd (and its processes), the temp dirs.
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, preparePrefix, renderExampleConf, startLocalNginx } from '../tools/nginx.mjs';
import { nginxWorkers } from '../tools/proc.mjs';
import { startFakeEnvd } from '../test/fake-envd/server.mjs';

const num = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
};
const SECONDS = num('SOAK_SECONDS', 600);
const RPS = num('SOAK_RPS', 25);
const INFLIGHT = num('SOAK_INFLIGHT', 16);
const SAMPLE_SECONDS = num('SOAK_SAMPLE_SECONDS', 10);
const MAX_SLOPE = num('SOAK_MAX_SLOPE_KIB_PER_MIN', undefined);
/** No single request may take longer than this (a stuck stream is a failure, not a hang). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Samples taken before this are the warm-up: pools, njs and the allocator settle. */
const WARMUP_SECONDS = Math.min(60, SECONDS / 4);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => console.log(`soak: ${line}`);

// ---------------------------------------------------------------------------------------------
// Everything this script starts, stopped in reverse order exactly once.
const cleanups = [];
let nginxChild; // { pid } of the master we started, for the synchronous last resort on exit
let stopping = false;
let interrupted = false;
async function cleanup() {
  while (cleanups.length) {
    const step = cleanups.pop();
    try {
      await step();
    } catch (error) {
      console.error(`soak: while stopping: ${error.message}`);
    }
  }
}
process.on('SIGINT', () => {
  interrupted = true;
  stopping = true;
});
process.on('SIGTERM', () => {
  interrupted = true;
  stopping = true;
});
process.on('exit', () => {
  // Last resort if we exit without the async cleanup (an uncaught error): our own nginx only.
  if (nginxChild && nginxChild.running) {
    try {
      process.kill(nginxChild.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// ---------------------------------------------------------------------------------------------
// nginx's workers: children of the master named in logs/nginx.pid.
function workerRss(prefix) {
  return nginxWorkers(Number(readFileSync(join(prefix, 'logs/nginx.pid'), 'utf8').trim()));
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

// ---------------------------------------------------------------------------------------------
// Requests.
function envelope(flags, json) {
  const body = Buffer.from(JSON.stringify(json));
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function parseEnvelopes(data) {
  const out = [];
  let at = 0;
  while (at + 5 <= data.length) {
    const len = data.readUInt32BE(at + 1);
    if (at + 5 + len > data.length) break;
    out.push({ flags: data[at], json: JSON.parse(data.subarray(at + 5, at + 5 + len).toString() || '{}') });
    at += 5 + len;
  }
  return out;
}

let port;
const agent = new http.Agent({ keepAlive: true, maxSockets: INFLIGHT });

/** One request through nginx; resolves with { status, body } or rejects. */
function call(path, { stream = false, body, onData } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/sandbox/abc123/49983${path}`,
        agent: stream ? false : agent, // streams on their own connection, as the SDK's do
        headers: {
          host: 'cubeproxy.test',
          'content-type': stream ? 'application/connect+json' : 'application/json',
          'connect-protocol-version': '1',
          'content-length': body.length,
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks = [];
        res.on('data', (d) => {
          chunks.push(d);
          if (onData && onData(Buffer.concat(chunks), req)) resolve({ status: res.statusCode, body: Buffer.concat(chunks), aborted: true });
        });
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', (e) => (req.destroyed && onData ? undefined : reject(e)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

let watchSeq = 0;
const KINDS = [
  {
    name: 'Stat',
    weight: 35,
    async run() {
      const r = await call('/filesystem.Filesystem/Stat', { body: Buffer.from(JSON.stringify({ path: '/home/user/soak/a.txt' })) });
      const json = JSON.parse(r.body.toString());
      if (r.status !== 200 || json.entry?.name !== 'a.txt') throw new Error(`Stat: ${r.status} ${r.body}`);
    },
  },
  {
    name: 'ListDir',
    weight: 35,
    async run() {
      const r = await call('/filesystem.Filesystem/ListDir', { body: Buffer.from(JSON.stringify({ path: '/home/user/soak', depth: 1 })) });
      const json = JSON.parse(r.body.toString());
      if (r.status !== 200 || !Array.isArray(json.entries) || json.entries.length < 3) throw new Error(`ListDir: ${r.status} ${r.body}`);
    },
  },
  {
    name: 'Start',
    weight: 20,
    async run() {
      const r = await call('/process.Process/Start', {
        stream: true,
        body: envelope(0, { process: { cmd: '/bin/sh', args: ['-c', 'echo soak'], envs: {} } }),
      });
      const frames = parseEnvelopes(r.body);
      const kinds = frames.map((f) => (f.flags & 2 ? 'END_STREAM' : Object.keys(f.json.event || {})[0]));
      const stdout = frames.map((f) => f.json.event?.data?.stdout).filter(Boolean).map((b) => Buffer.from(b, 'base64').toString()).join('');
      const end = frames.find((f) => f.json.event?.end)?.json.event.end;
      if (r.status !== 200 || kinds[0] !== 'start' || kinds[kinds.length - 1] !== 'END_STREAM' || frames[frames.length - 1].json.error || stdout !== 'soak\n' || !end?.exited) {
        throw new Error(`Start: ${r.status} ${kinds.join(',')} ${JSON.stringify(stdout)} ${r.body.toString('latin1').slice(-200)}`);
      }
    },
  },
  {
    name: 'WatchDir',
    weight: 10,
    async run() {
      const dir = `/home/user/soak/watch-${++watchSeq}`;
      mkdirSync(fake.hostPath(dir), { recursive: true });
      let wrote = false;
      const r = await call('/filesystem.Filesystem/WatchDir', {
        stream: true,
        body: envelope(0, { path: dir, recursive: false }),
        onData(data, req) {
          // WatchDirResponse in Connect JSON: {"start":{}}, then {"filesystem":{...}} per change.
          const frames = parseEnvelopes(data);
          if (!wrote && frames.some((f) => f.json.start)) {
            wrote = true;
            writeFileSync(join(fake.hostPath(dir), 'new.txt'), 'x');
          }
          if (frames.some((f) => f.json.filesystem)) {
            req.destroy(); // the client stops watching: nginx and the fake see the abort
            return true;
          }
          return false;
        },
      });
      rmSync(fake.hostPath(dir), { recursive: true, force: true });
      if (r.status !== 200 || !r.aborted) throw new Error(`WatchDir: ${r.status} no event: ${r.body.toString('latin1').slice(0, 200)}`);
    },
  },
];
const TOTAL_WEIGHT = KINDS.reduce((s, k) => s + k.weight, 0);
function pick() {
  let x = Math.random() * TOTAL_WEIGHT;
  for (const k of KINDS) if ((x -= k.weight) < 0) return k;
  return KINDS[0];
}

// ---------------------------------------------------------------------------------------------
let fake;
let exitCode = 0;
try {
  const root = mkdtempSync(join(tmpdir(), 'envd-edge-soak-root-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  fake = await startFakeEnvd({ root });
  cleanups.push(() => fake.close());
  mkdirSync(fake.hostPath('/home/user/soak'), { recursive: true });
  for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(fake.hostPath('/home/user/soak'), name), name);

  port = await freePort();
  const prefix = preparePrefix(renderExampleConf({ listen: `127.0.0.1:${port}`, upstream: `127.0.0.1:${fake.port}` }));
  cleanups.push(() => rmSync(prefix, { recursive: true, force: true })); // also when nginx never started
  const nginx = await startLocalNginx(prefix, { probeUrl: `http://127.0.0.1:${port}/_envd/version` });
  nginxChild = { pid: nginx.pid, running: true };
  nginx.exited.then(() => {
    nginxChild.running = false;
    if (!stopping) {
      console.error(`soak: nginx exited unexpectedly:\n${nginx.errorLog().slice(-4000)}`);
      exitCode = 1;
      stopping = true;
    }
  });
  cleanups.push(async () => {
    agent.destroy();
    await nginx.stop();
  });
  log(`nginx ${prefix} on 127.0.0.1:${port}, fake envd on 127.0.0.1:${fake.port} (root ${root})`);
  log(`${SECONDS} s at ≤ ${RPS} req/s, ≤ ${INFLIGHT} in flight; RSS every ${SAMPLE_SECONDS} s`);

  const stats = Object.fromEntries(KINDS.map((k) => [k.name, { ok: 0, failed: 0, ms: [] }]));
  const failures = [];
  let skipped = 0;
  let inflight = 0;
  const samples = [];
  const t0 = performance.now();
  const sample = () => {
    const workers = workerRss(prefix);
    const rss = workers.reduce((s, w) => s + w.rssKiB, 0);
    const t = (performance.now() - t0) / 1000;
    const done = Object.values(stats).reduce((s, k) => s + k.ok + k.failed, 0);
    samples.push({ t, rss, workers: workers.length });
    log(`t=${t.toFixed(0).padStart(4)} s  worker RSS ${String(rss).padStart(7)} KiB (${workers.length} worker${workers.length === 1 ? '' : 's'})  requests ${done}  in flight ${inflight}`);
  };
  sample();

  const fire = (kind) => {
    inflight++;
    const started = performance.now();
    kind
      .run()
      .then(
        () => {
          stats[kind.name].ok++;
          stats[kind.name].ms.push(performance.now() - started);
        },
        (error) => {
          stats[kind.name].failed++;
          if (failures.length < 20) failures.push(`${kind.name}: ${error.message}`);
        },
      )
      .finally(() => inflight--);
  };

  // The load: one tick every 1000/RPS ms starts one request, unless INFLIGHT are in flight.
  const interval = 1000 / RPS;
  let nextTick = performance.now();
  let nextSample = t0 + SAMPLE_SECONDS * 1000;
  const end = t0 + SECONDS * 1000;
  while (!stopping && performance.now() < end) {
    const now = performance.now();
    if (now >= nextSample) {
      sample();
      nextSample += SAMPLE_SECONDS * 1000;
    }
    if (now >= nextTick) {
      if (inflight < INFLIGHT) fire(pick());
      else skipped++;
      nextTick += interval;
      if (nextTick < now - 1000) nextTick = now; // never burst to catch up after a stall
    }
    await sleep(Math.max(1, Math.min(nextTick, nextSample) - performance.now()));
  }
  // Let what is in flight finish (each request has its own timeout), then a last sample.
  const drainUntil = performance.now() + REQUEST_TIMEOUT_MS + 1000;
  while (inflight > 0 && performance.now() < drainUntil) await sleep(20);
  if (nginxChild.running) sample();

  // Report.
  console.log('');
  console.log('soak: requests');
  console.log('  kind       ok  failed   p50 ms   p99 ms');
  for (const k of KINDS) {
    const s = stats[k.name];
    const ms = s.ms.sort((a, b) => a - b);
    const q = (p) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1) : '-');
    console.log(`  ${k.name.padEnd(9)} ${String(s.ok).padStart(4)} ${String(s.failed).padStart(7)} ${q(0.5).padStart(8)} ${q(0.99).padStart(8)}`);
  }
  console.log(`  skipped (in-flight limit reached): ${skipped}`);
  if (failures.length) console.log(`  first failures:\n    ${failures.join('\n    ')}`);
  console.log('');
  console.log('soak: worker RSS samples');
  console.log('     t s    RSS KiB');
  for (const s of samples) console.log(`  ${s.t.toFixed(0).padStart(6)}  ${String(s.rss).padStart(9)}`);
  const perMin = (points) => slope(points.map((s) => ({ x: s.t / 60, y: s.rss })));
  const all = perMin(samples);
  const settled = samples.filter((s) => s.t >= WARMUP_SECONDS);
  const late = settled.length >= 3 ? perMin(settled) : NaN;
  console.log(`soak: RSS slope ${Number.isNaN(all) ? 'n/a' : all.toFixed(1)} KiB/min over all ${samples.length} samples; ` +
    `${Number.isNaN(late) ? 'n/a (fewer than 3 samples)' : late.toFixed(1) + ' KiB/min'} after the ${WARMUP_SECONDS.toFixed(0)} s warm-up`);

  const failed = Object.values(stats).reduce((s, k) => s + k.failed, 0);
  if (failed > 0) exitCode = 1;
  if (MAX_SLOPE !== undefined && !Number.isNaN(late) && late > MAX_SLOPE) {
    console.log(`soak: slope ${late.toFixed(1)} KiB/min is above SOAK_MAX_SLOPE_KIB_PER_MIN=${MAX_SLOPE}`);
    exitCode = 1;
  }
  if (interrupted) log('interrupted: stopped early');
} catch (error) {
  console.error(`soak: ${error.stack || error.message}`);
  exitCode = 1;
}
stopping = true;
await cleanup();
process.exit(exitCode);
