#!/usr/bin/env node
// A stand-in envd for the benchmarks, run as its own process (`node bench/lib/standin.mjs`,
// prints `standin listening <port>`), so its work never shares the measuring client's event loop.
// It answers at once and does nothing else, so what a measurement shows is the proxy, not envd:
//
//   POST …/process.Process/Start   Connect stream (application/connect+json): a `start` event at
//                                  once, then `Bench-Stdout-Bytes` bytes of stdout in `data`
//                                  events of 32 KiB (envd's and the fake envd's size), then `end`
//                                  and the end-stream envelope. With no stdout asked for, `end`
//                                  follows `Bench-Hold-Ms` (default 5) after `start`.
//   POST …/filesystem.Filesystem/WatchDir   a `start` event at once, then nothing until the
//                                  client goes away (an idle watch).
//   anything else                  200 with a small JSON body (a unary answer).
//
// The fake envd (test/fake-envd) is not used here: it forks a real process for every Start
// (milliseconds of fork/exec noise that would drown the proxy's sub-millisecond cost), encodes
// through connect-node (its own throughput would cap the stream test) and opens an inotify watch
// per WatchDir.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envelope } from './h1.mjs';

export const CHUNK = 32 * 1024;
export const START = envelope(0, '{"event":{"start":{"pid":4242}}}');
export const END_EVENT = envelope(0, '{"event":{"end":{"exitCode":0,"exited":true,"status":"exit status 0"}}}');
export const END_STREAM = envelope(2, '{}');
export const WATCH_START = envelope(0, '{"start":{}}');
export const UNARY_BODY = Buffer.from(
  '{"entry":{"name":"user","type":"FILE_TYPE_DIRECTORY","path":"/home/user","size":"4096","mode":493,' +
    '"permissions":"drwxr-xr-x","owner":"user","group":"user","modifiedTime":"2025-01-01T00:00:00Z"}}',
);

const stdout = randomBytes(CHUNK);
const dataEvent = (bytes) => envelope(0, `{"event":{"data":{"stdout":"${bytes.toString('base64')}"}}}`);
const FULL = dataEvent(stdout);

async function start(req, res) {
  const bytes = Number(req.headers['bench-stdout-bytes'] || 0);
  const hold = Number(req.headers['bench-hold-ms'] ?? 5);
  res.writeHead(200, { 'content-type': 'application/connect+json' });
  res.write(START);
  if (bytes > 0) {
    const full = Math.floor(bytes / CHUNK);
    for (let i = 0; i < full; i++) {
      if (!res.write(FULL)) await once(res, 'drain');
      if (res.destroyed) return;
    }
    const rest = bytes % CHUNK;
    if (rest) res.write(dataEvent(stdout.subarray(0, rest)));
  } else if (hold > 0) {
    await new Promise((r) => setTimeout(r, hold));
  }
  res.end(Buffer.concat([END_EVENT, END_STREAM]));
}

export function createStandin() {
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url || '').split('?')[0];
      if (path.endsWith('/process.Process/Start')) {
        start(req, res).catch(() => res.destroy());
      } else if (path.endsWith('/filesystem.Filesystem/WatchDir')) {
        res.writeHead(200, { 'content-type': 'application/connect+json' });
        res.write(WATCH_START);
        // idle until the client (or nginx) closes the connection
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': UNARY_BODY.length });
        res.end(UNARY_BODY);
      }
    });
  });
  server.on('connection', (socket) => socket.setNoDelay(true));
  server.maxConnections = 1 << 20;
  return server;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const server = createStandin();
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', 4096, () => {
    console.log(`standin listening ${server.address().port}`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Never outlive the benchmark that started us.
  process.on('disconnect', stop);
}
