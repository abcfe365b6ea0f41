// 3. Stream throughput: `stdoutBytes` of process stdout in one process.Process/Start stream
// (`data` events, base64 in Connect JSON as envd sends them), direct vs through nginx,
// interleaved, several rounds; the median MiB/s of stdout of each. The client decodes the
// envelopes as they arrive and counts the stdout bytes, so a stream that lost or repeated data
// fails the run. The CPU time of the nginx worker and of this client is recorded per stream too
// (where the time goes on 2 cores).
//
// Two sources (bench/run.mjs):
// - the fake envd (test/fake-envd) running `head -c <bytes> /dev/zero`: a real process's stdout,
//   encoded as an envd encodes it. The goal's figure;
// - the stand-in envd (standin.mjs), which writes prepared frames at memory speed: what nginx
//   can forward at most (the proxy's ceiling), far above what an envd produces.
import { performance } from 'node:perf_hooks';
import { H1Connection, envelope } from './h1.mjs';
import { cpuNs, sumWorkers } from './servers.mjs';
import { median } from './stats.mjs';
import { START_BODY, startHeaders } from './ttff.mjs';

const STDOUT_FIELD = Buffer.from('"stdout":"');
const QUOTE = 0x22;

/**
 * Counts the stdout bytes of a Start stream's body, piece by piece: the base64 length of each
 * `data` event's stdout, decoded arithmetically (no JSON.parse of 40 KiB strings). Remembers
 * whether the last envelope was a clean end-stream (`{}` with flag 2), and how many bytes
 * follow the last whole envelope (none in a well-formed stream).
 */
export function stdoutCounter() {
  let pending = [];
  let pendingBytes = 0;
  const state = { stdoutBytes: 0, envelopes: 0, cleanEnd: false, leftoverBytes: 0 };
  const take = (n) => {
    const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = buf.length > n ? [buf.subarray(n)] : [];
    pendingBytes = buf.length - n;
    return buf.subarray(0, n);
  };
  state.push = (data) => {
    pending.push(data);
    pendingBytes += data.length;
    for (;;) {
      state.leftoverBytes = pendingBytes;
      if (pendingBytes < 5) return;
      const head = pending[0].length >= 5 ? pending[0] : Buffer.concat(pending, pendingBytes);
      const len = head.readUInt32BE(1);
      if (pendingBytes < 5 + len) return;
      const env = take(5 + len);
      const flags = env[0];
      const payload = env.subarray(5);
      state.envelopes++;
      state.cleanEnd = flags === 2 && payload.toString() === '{}';
      const at = payload.indexOf(STDOUT_FIELD);
      if (at < 0) continue;
      const from = at + STDOUT_FIELD.length;
      const to = payload.indexOf(QUOTE, from);
      let b64 = to - from;
      let pad = 0;
      while (pad < 2 && b64 > 0 && payload[from + b64 - 1 - pad] === 0x3d) pad++;
      state.stdoutBytes += (b64 / 4) * 3 - pad;
    }
  };
  return state;
}

/** The Start request the fake envd answers with `bytes` of a real process's stdout. */
export function fakeEnvdStart(bytes) {
  const process = { cmd: 'head', args: ['-c', String(bytes), '/dev/zero'], envs: {} };
  return { headers: startHeaders(), body: envelope(0, JSON.stringify({ process })) };
}

/** The Start request the stand-in answers with `bytes` of stdout. */
export function standinStart(bytes) {
  return { headers: startHeaders({ 'Bench-Stdout-Bytes': String(bytes) }), body: START_BODY };
}

async function oneStream({ name, port, path, masterPid }, start, stdoutBytes) {
  const conn = new H1Connection({ port });
  try {
    await conn.open();
    const nginx0 = masterPid ? sumWorkers(masterPid, cpuNs) : 0;
    const client0 = process.cpuUsage();
    const counter = stdoutCounter();
    const t0 = performance.now();
    const req = await conn.request({ path, headers: start.headers, body: start.body, onBody: counter.push });
    const done = await req.done;
    const seconds = (done.endAt - t0) / 1000;
    if (done.status !== 200) throw new Error(`Start via ${name} answered ${done.status}`);
    if (counter.stdoutBytes !== stdoutBytes || !counter.cleanEnd || counter.leftoverBytes) {
      const end = counter.cleanEnd ? `a clean end${counter.leftoverBytes ? ` and ${counter.leftoverBytes} bytes after it` : ''}` : 'no clean end';
      throw new Error(`Start via ${name}: ${counter.stdoutBytes} bytes of stdout in ${counter.envelopes} envelopes, ${end} (expected ${stdoutBytes} and a clean end)`);
    }
    const client = process.cpuUsage(client0);
    return {
      seconds,
      stdout_mib_s: stdoutBytes / 1048576 / seconds,
      wire_mib_s: done.bodyBytes / 1048576 / seconds,
      wire_bytes: done.bodyBytes,
      client_cpu_s: (client.user + client.system) / 1e6,
      nginx_cpu_s: masterPid ? (sumWorkers(masterPid, cpuNs) - nginx0) / 1e9 : 0,
    };
  } finally {
    conn.close();
  }
}

/**
 * @param {{targets: {name:string, port:number, path:string, masterPid?:number}[], start: {headers:object, body:Buffer}, stdoutBytes:number, rounds:number}} o
 *   targets[0] is the direct connection; `start` is the request of the source (fakeEnvdStart or
 *   standinStart). One full-size warm-up stream per target, then `rounds` rounds of one stream
 *   per target in a rotating order. Each stream has a connection of its own.
 */
export async function measureThroughput({ targets, start, stdoutBytes, rounds }) {
  const runs = targets.map(() => []);
  for (const t of targets) await oneStream(t, start, stdoutBytes);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < targets.length; k++) {
      const j = (i + k) % targets.length;
      runs[j].push(await oneStream(targets[j], start, stdoutBytes));
    }
  }
  const wire = runs[0].map((r) => r.wire_bytes);
  const out = { stdout_mib: stdoutBytes / 1048576, wire_bytes_per_stream: median(wire), rounds, mib_s: {}, ratio: {}, cpu_s: {}, runs: {} };
  targets.forEach((t, j) => {
    out.mib_s[t.name] = median(runs[j].map((r) => r.stdout_mib_s));
    out.cpu_s[t.name] = { nginx: median(runs[j].map((r) => r.nginx_cpu_s)), client: median(runs[j].map((r) => r.client_cpu_s)) };
    out.runs[t.name] = runs[j];
  });
  const base = out.mib_s[targets[0].name];
  for (const t of targets.slice(1)) out.ratio[t.name] = out.mib_s[t.name] / base;
  return out;
}
