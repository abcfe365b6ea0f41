// Fault 4: a client that stops reading a stream. With proxy_buffering off nginx holds at most one
// proxy_buffer_size buffer of the response per request; once the client's socket is full it stops
// reading envd (TCP pushes back on envd), and after send_timeout without progress it drops the
// client and closes the envd connection. Memory stays bounded however much envd has to send.
//
// Shortened for the test: send_timeout 2s stands in for nginx's default 60s (the shipped snippets
// leave it at the default: conf.d/envd/stream-timeouts.inc's comment); the stream read/send
// timeouts are raised to 30s (production: 120s) so that send_timeout is the only timer that can
// end these streams.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, END_STREAM } from '../support/connect';
import { connectStreamRequest, logMark, openStream, printLogOnFailure, sleep, startLocalEdge, verbose, type LocalEdge } from './harness';

const SEND_TIMEOUT_MS = 2000;
const STALLED_CLIENTS = 10;
/** What envd offers each stream at most (keeps the test bounded if nginx misbehaves). */
const OFFER_BYTES = 64 * 1024 * 1024;
const FRAME = envelope(0, Buffer.alloc(64 * 1024 - 5, 0x61));
/**
 * Worker RSS may grow by less than this while the clients stall. nginx's own share per stalled
 * stream is one proxy_buffer_size buffer (16k: conf.d/envd/unbuffered.inc) plus the request's
 * pool, some tens of KiB: 10 streams stay well under 1 MiB. 4 MiB leaves room for allocator noise
 * and is far below what envd gets rid of before TCP stops it (~8 MiB per stream into the kernel's
 * socket buffers, ~75 MiB in all; asserted below: more than the bound per stream and ten times
 * it in all). An nginx that kept what the client does not read would grow by that much, and it
 * would never push back on envd (which then writes its whole 64 MiB offer).
 */
const RSS_GROWTH_BOUND_KIB = 4 * 1024;

interface Firehose {
  address: string;
  streams: { written: number; lastProgressAt: number; closedAt: number; finished: boolean }[];
  close(): Promise<void>;
}

/** An envd stand-in that writes 64 KiB frames as fast as the connection takes them. */
async function startFirehose(): Promise<Firehose> {
  const streams: Firehose['streams'] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const s = { written: 0, lastProgressAt: performance.now(), closedAt: 0, finished: false };
      if (req.headers['x-warmup']) {
        res.writeHead(200, { 'content-type': 'application/connect+json' });
        return res.end(Buffer.concat([FRAME, envelope(END_STREAM, '{}')]));
      }
      streams.push(s);
      res.writeHead(200, { 'content-type': 'application/connect+json' });
      const pump = () => {
        while (s.written < OFFER_BYTES && !res.destroyed) {
          s.written += FRAME.length;
          s.lastProgressAt = performance.now();
          if (!res.write(FRAME)) return void res.once('drain', () => ((s.lastProgressAt = performance.now()), pump()));
        }
        if (!res.destroyed) res.end(envelope(END_STREAM, '{}'));
      };
      res.on('finish', () => (s.finished = true));
      res.on('close', () => (s.closedAt = performance.now()));
      pump();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const rssKiB = (edge: LocalEdge) => edge.workers().reduce((sum, w) => sum + w.rssKiB, 0);

describe('a client that stops reading a stream', () => {
  let firehose: Firehose;
  let edge: LocalEdge;
  beforeAll(async () => {
    firehose = await startFirehose();
    edge = await startLocalEdge({
      upstream: firehose.address,
      serverExtra: 'send_timeout 2s;',
      files: { 'conf.d/envd/stream-timeouts.inc': 'proxy_read_timeout 30s;\nproxy_send_timeout 30s;\n' },
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await firehose?.close();
  });
  printLogOnFailure(() => [edge]);

  it(`${STALLED_CLIENTS} stalled clients are dropped at send_timeout, envd's connections closed, worker RSS bounded`, async () => {
    // Warm up the worker's pools and njs on the same path, then take the baseline.
    for (let i = 0; i < 3; i++) {
      const warm = await openStream(edge.port, connectStreamRequest('/process.Process/Start', {}, { 'x-warmup': '1' })).done;
      expect(warm.terminated).toBe(true);
    }
    await sleep(100);
    const baseline = rssKiB(edge);
    const mark = logMark(edge);

    const clients = Array.from({ length: STALLED_CLIENTS }, () =>
      openStream(edge.port, connectStreamRequest('/process.Process/Start', {}), { readBody: false, timeoutMs: 20_000 }),
    );
    await Promise.all(clients.map((c) => c.headers));
    const stalledAt = performance.now();

    // Sample the worker's RSS until envd's side of every stream is closed.
    let peak = baseline;
    const deadline = stalledAt + SEND_TIMEOUT_MS + 6000;
    while (performance.now() < deadline) {
      peak = Math.max(peak, rssKiB(edge));
      if (firehose.streams.length === STALLED_CLIENTS && firehose.streams.every((s) => s.closedAt)) break;
      await sleep(100);
    }
    const streams = firehose.streams;
    // Now read what the clients were sent: the kernel's buffers, then the close.
    for (const c of clients) c.socket.resume();
    const results = await Promise.all(clients.map((c) => c.done));

    const report = {
      baselineKiB: baseline,
      peakKiB: peak,
      growthKiB: peak - baseline,
      pushedPerStreamMiB: streams.map((s) => +(s.written / 2 ** 20).toFixed(1)),
      closedAfterLastProgressMs: streams.map((s) => Math.round(s.closedAt - s.lastProgressAt)),
      closedAfterStallMs: streams.map((s) => Math.round(s.closedAt - stalledAt)),
      clientGotMiB: results.map((r) => +(r.raw.length / 2 ** 20).toFixed(1)),
    };
    console.log(`stalled clients: ${JSON.stringify(report)}`);
    verbose('stalled client: last bytes', results[0].raw.subarray(-20).toString('latin1'));
    verbose('stalled client: socket', { error: results[0].error ?? null, terminated: results[0].terminated });

    expect(streams.length).toBe(STALLED_CLIENTS);
    for (const s of streams) {
      const where = JSON.stringify(s);
      expect(s.closedAt, `envd's connection still open: ${where}`).toBeGreaterThan(0);
      expect(s.finished, where).toBe(false);
      // TCP pushed back: envd could not hand over its 64 MiB...
      expect(s.written, where).toBeLessThan(OFFER_BYTES);
      // ...but got rid of more than nginx may keep.
      expect(s.written, where).toBeGreaterThan(RSS_GROWTH_BOUND_KIB * 1024);
      // Closed by send_timeout after the last progress: not before (less nginx's 300 ms lazy
      // timer re-arm, NGX_TIMER_LAZY_DELAY), and not much after.
      expect(s.closedAt - s.lastProgressAt, where).toBeGreaterThan(SEND_TIMEOUT_MS - 500);
      expect(s.closedAt - s.lastProgressAt, where).toBeLessThan(SEND_TIMEOUT_MS + 1500);
      expect(s.closedAt - stalledAt, where).toBeLessThan(SEND_TIMEOUT_MS + 3000);
    }
    expect(streams.reduce((sum, s) => sum + s.written, 0)).toBeGreaterThan(10 * RSS_GROWTH_BOUND_KIB * 1024);
    expect(peak - baseline).toBeLessThan(RSS_GROWTH_BOUND_KIB);
    // The client that comes back finds a body that stops: no last chunk, no end-stream envelope.
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.terminated).toBe(false);
      expect(r.endStream).toBe(false);
    }
    expect(mark.since().match(/client timed out \(110: Connection timed out\) while sending to client/g)?.length).toBe(STALLED_CLIENTS);
  });
});
