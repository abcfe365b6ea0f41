// 4. Idle streams: nginx memory per idle filesystem.Filesystem/WatchDir stream. Opens `streams`
// concurrent WatchDir streams through nginx (path-routed), waits for each one's `start` envelope
// (so every stream is established end to end), and compares the sum of the worker processes' RSS
// before and after.
import { envelope, H1Connection } from './h1.mjs';
import { rssKiB, sumWorkers } from './servers.mjs';
import { startHeaders } from './ttff.mjs';

const WATCH_BODY = envelope(0, '{"path":"/home/user","recursive":false}');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function openStream(port) {
  const conn = new H1Connection({ port });
  await conn.open();
  const req = await conn.request({ path: '/sandbox/abc123/49983/filesystem.Filesystem/WatchDir', headers: startHeaders(), body: WATCH_BODY });
  const head = await req.head;
  if (head.status !== 200) throw new Error(`WatchDir answered ${head.status}`);
  await req.firstEnvelope;
  req.done.catch(() => {}); // ends when we close it
  return conn;
}

/** Resolves { streams, before_kib, after_kib, per_stream_kib, released_kib, open_ms }. */
export async function measureIdle({ port, masterPid, streams, batch = 250, onProgress = () => {} }) {
  const conns = [];
  const rss = () => sumWorkers(masterPid, rssKiB);
  // Warm the worker first (a few streams opened and closed) so one-off allocations of the first
  // requests (the njs VM, upstream structures) are not charged to the idle streams.
  for (let i = 0; i < 3; i++) (await openStream(port)).close();
  await sleep(300);
  const before = rss();
  const t0 = Date.now();
  try {
    while (conns.length < streams) {
      const n = Math.min(batch, streams - conns.length);
      const opened = await Promise.all(Array.from({ length: n }, () => openStream(port)));
      conns.push(...opened);
      onProgress(conns.length);
    }
    const openMs = Date.now() - t0;
    await sleep(500);
    const after = rss();
    for (const c of conns) c.close();
    conns.length = 0;
    await sleep(1000);
    const closed = rss();
    return {
      streams,
      before_kib: before,
      after_kib: after,
      per_stream_kib: (after - before) / streams,
      after_close_kib: closed,
      open_ms: openMs,
    };
  } finally {
    for (const c of conns) c.close();
  }
}
