// A scripted stand-in for envd that records *when* it wrote and received each byte, so tests can
// measure what the proxy adds. Every request carries `x-test-id`; its timeline is kept by id.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { envelope, END_STREAM } from './connect';

export interface Timeline {
  /** performance.now() when the upstream got the request headers. */
  received?: number;
  /** When each response frame was written. */
  wrote: number[];
  /** When each request body chunk arrived. */
  chunks: number[];
  /** When the response was fully handed to the socket. */
  finished?: number;
  /** Request path and headers as the upstream saw them. */
  url?: string;
  headers?: IncomingMessage['headers'];
}

export const FRAME_DELAY_MS = 100;
export const FRAME_GAP_MS = 300;
export const BIG_BYTES = 8 * 1024 * 1024;

/** Largest socket buffer the kernel may autotune to (bytes), from /proc/sys/net/ipv4/tcp_[rw]mem. */
function tcpBufferMax(which: 'rmem' | 'wmem'): number {
  try {
    return Number(readFileSync(`/proc/sys/net/ipv4/tcp_${which}`, 'utf8').trim().split(/\s+/)[2]) || 0;
  } catch {
    return 0;
  }
}

/**
 * More than every kernel buffer between the upstream and a client that reads nothing can hold:
 * the upstream's send buffer, nginx's receive and send buffers, the client's receive buffer (each
 * autotuned up to tcp_[rw]mem's maximum; tcp_rmem allows 32 MiB on this machine kind), plus 8 MiB.
 * A response this large can only be taken from the upstream at once by a proxy that buffers it.
 */
export const HUGE_BYTES = 2 * (tcpBufferMax('rmem') + tcpBufferMax('wmem')) + BIG_BYTES;

/** Deterministic bytes, so a body can be checked without keeping a copy. */
export function pattern(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + (i >> 11)) & 0xff;
  return b;
}

export interface TestUpstream {
  port: number;
  address: string;
  timeline(id: string): Timeline;
  close(): Promise<void>;
}

const STREAMING = new Set([
  '/process.Process/Start',
  '/process.Process/Connect',
  '/filesystem.Filesystem/WatchDir',
  '/process.Process/Tomorrow',
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startTestUpstream(): Promise<TestUpstream> {
  const timelines = new Map<string, Timeline>();
  const big = pattern(BIG_BYTES);
  const timelineOf = (id: string): Timeline => {
    let t = timelines.get(id);
    if (!t) timelines.set(id, (t = { wrote: [], chunks: [] }));
    return t;
  };

  async function serverStream(req: IncomingMessage, res: ServerResponse, t: Timeline, sse: boolean) {
    await sleep(FRAME_DELAY_MS);
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/connect+json' });
    const frame = (i: number) =>
      sse ? Buffer.from(`data: {"frame":${i}}\n\n`) : envelope(0, JSON.stringify({ event: { frame: i } }));
    res.write(frame(1));
    t.wrote.push(performance.now());
    await sleep(FRAME_GAP_MS);
    res.write(frame(2));
    t.wrote.push(performance.now());
    await sleep(FRAME_GAP_MS);
    res.end(sse ? undefined : envelope(END_STREAM, '{}'));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const id = String(req.headers['x-test-id'] || 'none');
    const t = timelineOf(id);
    t.received = performance.now();
    t.url = req.url;
    t.headers = req.headers;
    res.on('finish', () => (t.finished = performance.now()));
    const path = (req.url || '').split('?')[0];
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      t.chunks.push(performance.now());
      hash.update(chunk);
      bytes += chunk.length;
    });
    const body = new Promise<void>((r) => req.on('end', r));

    if (path === '/events') return serverStream(req, res, t, true);
    if (STREAMING.has(path)) {
      await body;
      return serverStream(req, res, t, false);
    }
    await body;
    if (path === '/process.Process/StreamInput') {
      res.writeHead(200, { 'content-type': String(req.headers['content-type']) });
      return res.end(envelope(END_STREAM, '{}'));
    }
    if (path === '/huge') {
      // HUGE_BYTES of the big pattern over and over, written with backpressure.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(HUGE_BYTES) });
      for (let left = HUGE_BYTES; left > 0; left -= big.length) {
        if (!res.write(big.subarray(0, Math.min(left, big.length)))) await new Promise((r) => res.once('drain', r));
      }
      return void res.end();
    }
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) });
      return res.end(big);
    }
    if (path === '/files' && req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
    }
    if (path === '/process.Process/SendSignal') {
      // envd's own Connect error for a missing process: must reach the client untouched.
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"code":"not_found","message":"process with pid 4242 not found"}');
    }
    if (path === '/files' && req.method === 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"code":404,"message":"path \'/home/user/missing.txt\' does not exist"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url }));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.destroy(error);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    timeline: timelineOf,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
