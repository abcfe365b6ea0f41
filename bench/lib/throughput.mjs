// 3. Stream throughput: `stdoutBytes` of process stdout in one process.Process/Start stream
// (32 KiB `data` events, base64 in Connect JSON as envd sends them), direct vs through nginx,
// interleaved, several rounds; the median MiB/s of stdout of each. The CPU time of the nginx
// worker and of this client is recorded per stream too (where the time goes on 2 cores).
import { performance } from 'node:perf_hooks';
import { H1Connection } from './h1.mjs';
import { cpuNs, sumWorkers } from './servers.mjs';
import { median } from './stats.mjs';
import { startBodyBytes } from './standin.mjs';
import { START_BODY, startHeaders } from './ttff.mjs';

async function oneStream({ port, path, masterPid }, stdoutBytes) {
  const conn = new H1Connection({ port });
  try {
    await conn.open();
    const nginx0 = masterPid ? sumWorkers(masterPid, cpuNs) : 0;
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const req = await conn.request({ path, headers: startHeaders({ 'Bench-Stdout-Bytes': String(stdoutBytes) }), body: START_BODY });
    const done = await req.done;
    const seconds = (done.endAt - t0) / 1000;
    const expected = startBodyBytes(stdoutBytes);
    if (done.status !== 200) throw new Error(`Start via ${path} answered ${done.status}`);
    if (done.bodyBytes !== expected) throw new Error(`Start via ${path}: ${done.bodyBytes} body bytes, expected ${expected}`);
    const client = process.cpuUsage(client0);
    return {
      seconds,
      stdout_mib_s: stdoutBytes / 1048576 / seconds,
      wire_mib_s: done.bodyBytes / 1048576 / seconds,
      client_cpu_s: (client.user + client.system) / 1e6,
      nginx_cpu_s: masterPid ? (sumWorkers(masterPid, cpuNs) - nginx0) / 1e9 : 0,
    };
  } finally {
    conn.close();
  }
}

/**
 * @param {{targets: {name:string, port:number, path:string}[], stdoutBytes:number, rounds:number}} o
 *   targets[0] is the direct connection. One full-size warm-up stream per target, then `rounds`
 *   rounds of one stream per target in a rotating order. Each stream has a connection of its own.
 */
export async function measureThroughput({ targets, stdoutBytes, rounds }) {
  const runs = targets.map(() => []);
  for (const t of targets) await oneStream(t, stdoutBytes);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < targets.length; k++) {
      const j = (i + k) % targets.length;
      runs[j].push(await oneStream(targets[j], stdoutBytes));
    }
  }
  const out = { stdout_mib: stdoutBytes / 1048576, wire_bytes_per_stream: startBodyBytes(stdoutBytes), rounds, mib_s: {}, ratio: {}, cpu_s: {}, runs: {} };
  targets.forEach((t, j) => {
    out.mib_s[t.name] = median(runs[j].map((r) => r.stdout_mib_s));
    out.cpu_s[t.name] = { nginx: median(runs[j].map((r) => r.nginx_cpu_s)), client: median(runs[j].map((r) => r.client_cpu_s)) };
    out.runs[t.name] = runs[j];
  });
  const base = out.mib_s[targets[0].name];
  for (const t of targets.slice(1)) out.ratio[t.name] = out.mib_s[t.name] / base;
  return out;
}
