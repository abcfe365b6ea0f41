// 1. First stream frame: what the proxy adds to the time from "request sent" to "first response
// envelope decoded" of a process.Process/Start Connect stream, direct vs through nginx (and
// through other configs, for comparison), one stream each per iteration in an order that rotates,
// so drift and warm-up hit all alike. Each target keeps one keep-alive connection, like an SDK.
import { envelope, H1Connection } from './h1.mjs';
import { percentile } from './stats.mjs';

export const START_BODY = envelope(0, '{"process":{"cmd":"/bin/sh","args":["-c","true"],"envs":{}}}');

/** A server-stream request (Start, WatchDir) as the e2b SDK sends it (Connect streaming over HTTP/1.1, JSON codec). */
export function startHeaders(extra = {}) {
  return {
    'Content-Type': 'application/connect+json',
    'Connect-Protocol-Version': '1',
    'Keepalive-Ping-Interval': '50',
    'E2b-Sandbox-Id': 'abc123',
    'E2b-Sandbox-Port': '49983',
    'User-Agent': 'envd-edge-bench',
    ...extra,
  };
}

/** One Start stream on `conn`; resolves the ms from request sent to first envelope. */
async function oneStream(conn, path) {
  const req = await conn.request({ path, headers: startHeaders(), body: START_BODY });
  const first = await req.firstEnvelope;
  const done = await req.done;
  if (done.status !== 200) throw new Error(`Start via ${path} answered ${done.status}`);
  return first - req.sent;
}

const summary = (xs) => ({
  p50_ms: percentile(xs, 50),
  p90_ms: percentile(xs, 90),
  p99_ms: percentile(xs, 99),
  max_ms: percentile(xs, 100),
  mean_ms: xs.reduce((sum, x) => sum + x, 0) / xs.length,
});

/**
 * @param {{targets: {name:string, port:number, path:string}[], streams:number, warmup:number}} o
 *   targets[0] is the direct connection; every iteration runs one stream per target, in an order
 *   that rotates every iteration.
 * Resolves { streams, warmup, <name>: {p50_ms, p90_ms, p99_ms, max_ms, mean_ms}, added: {<name>:
 * {p50_ms, p99_ms, paired_p50_ms, paired_p99_ms}}, cdf }.
 */
export async function measureTtff({ targets, streams, warmup }) {
  const conns = targets.map((t) => new H1Connection({ port: t.port }));
  const samples = targets.map(() => []);
  try {
    for (let i = 0; i < warmup + streams; i++) {
      for (let k = 0; k < targets.length; k++) {
        const j = (i + k) % targets.length;
        const ms = await oneStream(conns[j], targets[j].path);
        if (i >= warmup) samples[j].push(ms);
      }
    }
  } finally {
    for (const c of conns) c.close();
  }
  const out = { streams, warmup, added: {}, cdf: {} };
  targets.forEach((t, j) => {
    out[t.name] = summary(samples[j]);
    out.cdf[t.name] = [...samples[j]].sort((x, y) => x - y);
  });
  const base = out[targets[0].name];
  targets.slice(1).forEach((t, k) => {
    const diffs = samples[k + 1].map((x, i) => x - samples[0][i]);
    out.added[t.name] = {
      p50_ms: out[t.name].p50_ms - base.p50_ms,
      p99_ms: out[t.name].p99_ms - base.p99_ms,
      paired_p50_ms: percentile(diffs, 50),
      paired_p99_ms: percentile(diffs, 99),
    };
  });
  return out;
}
