// Behaviour through a real nginx with the shipped snippets, for host, path and header routing,
// under CubeProxy-like globals and a hostile variant; then the same streaming measurements
// against the config without envd-edge, which must show the delay the plugin removes.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routed, send, sendRaw, type Form, type TimedResponse } from '../support/client';
import { envelope, parseEnvelopes } from '../support/connect';
import { HOSTILE, printLogOnFailure, startEdge, type Edge } from '../support/edge';
import { BIG_BYTES, FRAME_GAP_MS, HUGE_BYTES, pattern, startTestUpstream, type TestUpstream } from '../support/upstream';

const FORMS: Form[] = ['host', 'path', 'header'];
const SERVER_STREAMS = ['/process.Process/Start', '/process.Process/Connect', '/filesystem.Filesystem/WatchDir'];
/** The promise the plugin makes: a frame is on the client within this long of envd writing it. */
const FIRST_FRAME_BUDGET_MS = 50;
/** What the baseline must show at least, for the measurement to count as a delay. */
const BASELINE_DELAY_MS = 200;
/** A client that reads nothing for a second, then 8 MB/s. */
const SLOW_READER = { stallMs: 1000, readBytesPerSecond: 8 * 1024 * 1024 };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const LEGS = [
  { name: 'CubeProxy-like globals', httpExtra: '', gzip: false },
  { name: 'hostile globals (gzip_types *, client asks for gzip)', httpExtra: HOSTILE, gzip: true },
];

function connectHeaders(gzip: boolean, contentType = 'application/connect+json'): Record<string, string> {
  return {
    'content-type': contentType,
    'connect-protocol-version': '1',
    ...(gzip ? { 'accept-encoding': 'gzip' } : {}),
  };
}

/** How long after the upstream wrote its first frame the client had it. */
async function firstFrameDelay(edge: Edge, upstream: TestUpstream, form: Form, path: string, headers: Record<string, string>, method = 'POST') {
  const r = routed(form, path);
  const res = await send({
    port: edge.port,
    method,
    host: r.host,
    path: r.path,
    headers: { ...r.headers, ...headers },
    parts: method === 'POST' ? [envelope(0, '{}')] : [],
  });
  const t = upstream.timeline(res.id);
  expect(res.status).toBe(200);
  expect(t.wrote.length).toBe(2);
  return { delay: res.chunks[0] - t.wrote[0], res };
}

describe.each(LEGS)('envd-edge under $name', ({ httpExtra, gzip }) => {
  let upstream: TestUpstream;
  let edge: Edge;
  beforeAll(async () => {
    upstream = await startTestUpstream();
    edge = await startEdge({ upstream: upstream.address, httpExtra });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  printLogOnFailure(() => [edge]);

  describe.each(FORMS)('%s routing', (form) => {
    it.each(SERVER_STREAMS)(`%s: first frame within ${FIRST_FRAME_BUDGET_MS} ms of envd writing it`, async (path) => {
      const { delay, res } = await firstFrameDelay(edge, upstream, form, path, connectHeaders(gzip));
      expect(delay).toBeLessThan(FIRST_FRAME_BUDGET_MS);
      // The second frame too, and the stream arrives whole and uncompressed.
      const t = upstream.timeline(res.id);
      expect(res.chunks.some((at) => at >= t.wrote[1] && at - t.wrote[1] < FIRST_FRAME_BUDGET_MS)).toBe(true);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers['x-accel-buffering']).toBe('no');
      expect(parseEnvelopes(res.body).map((e) => e.flags)).toEqual([0, 0, 2]);
    });

    it('StreamInput: a request frame reaches envd before the client ends its stream', async () => {
      const r = routed(form, '/process.Process/StreamInput');
      const sentAt: number[] = [];
      const res = await send({
        port: edge.port,
        host: r.host,
        path: r.path,
        headers: { ...r.headers, ...connectHeaders(gzip) },
        parts: [envelope(0, '{"start":{"process":{"pid":1}}}'), envelope(0, '{"data":{"stdin":"aGk="}}'), envelope(2, '{}')],
        gapMs: 400,
        onPart: (i, at) => (sentAt[i] = at),
      });
      const t = upstream.timeline(res.id);
      expect(res.status).toBe(200);
      expect(t.chunks.length).toBeGreaterThan(0);
      expect(t.chunks[0] - sentAt[0]).toBeLessThan(FIRST_FRAME_BUDGET_MS);
      expect(t.chunks[0]).toBeLessThan(sentAt[2]);
    });

    it('an unknown method with application/connect+json streams', async () => {
      const { delay, res } = await firstFrameDelay(edge, upstream, form, '/process.Process/Tomorrow', connectHeaders(gzip));
      expect(delay).toBeLessThan(FIRST_FRAME_BUDGET_MS);
      // Without gzip nginx's buffering passes these small frames on in time too: a proxy in front
      // is told not to buffer only by the edge.
      expect(res.headers['x-accel-buffering']).toBe('no');
    });

    it('a unary call keeps buffering: an 8 MiB answer is taken from envd at once while the client reads slowly', async () => {
      const r = routed(form, '/big');
      const res = await send({ port: edge.port, method: 'GET', host: r.host, path: r.path, headers: r.headers, ...SLOW_READER });
      const t = upstream.timeline(res.id);
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(BIG_BYTES);
      expect(sha256(res.body)).toBe(sha256(pattern(BIG_BYTES)));
      expect(res.ended - res.sent).toBeGreaterThan(SLOW_READER.stallMs);
      expect(t.finished! - t.received!).toBeLessThan(SLOW_READER.stallMs / 2);
    });

    it('a 5 MiB upload arrives byte-identical', async () => {
      const r = routed(form, '/files?path=%2Fhome%2Fuser%2Fup.bin&username=user');
      const body = pattern(5 * 1024 * 1024);
      const res = await send({ port: edge.port, host: r.host, path: r.path, headers: { ...r.headers, 'content-type': 'application/octet-stream' }, parts: [body] });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ bytes: body.length, sha256: sha256(body) });
      expect(upstream.timeline(res.id).url).toBe('/files?path=%2Fhome%2Fuser%2Fup.bin&username=user');
    });

    it("envd's own status and JSON error body reach the client unchanged", async () => {
      const rpc = routed(form, '/process.Process/SendSignal');
      const a = await send({ port: edge.port, host: rpc.host, path: rpc.path, headers: { ...rpc.headers, 'content-type': 'application/json' }, parts: ['{}'] });
      expect(a.status).toBe(404);
      expect(a.body.toString()).toBe('{"code":"not_found","message":"process with pid 4242 not found"}');
      const rest = routed(form, '/files?path=%2Fhome%2Fuser%2Fmissing.txt');
      const b = await send({ port: edge.port, method: 'GET', host: rest.host, path: rest.path, headers: rest.headers });
      expect(b.status).toBe(404);
      expect(b.body.toString()).toBe('{"code":404,"message":"path \'/home/user/missing.txt\' does not exist"}');
    });
  });

  it('an SSE response on another sandbox port streams (host and path forms)', async () => {
    for (const form of ['host', 'path'] as const) {
      const r = routed(form, '/events', 3000);
      const res = await send({ port: edge.port, method: 'GET', host: r.host, path: r.path, headers: { accept: 'text/event-stream', ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } });
      const t = upstream.timeline(res.id);
      expect(res.status).toBe(200);
      expect(res.chunks[0] - t.wrote[0]).toBeLessThan(FIRST_FRAME_BUDGET_MS);
      expect(res.headers['x-accel-buffering']).toBe('no');
      expect(res.body.toString()).toContain('data: {"frame":2}');
    }
  });

  describe('malformed routes get a 4xx from the edge, never a 5xx', () => {
    const cases: [string, string][] = [
      ['/sandbox/../etc/passwd', 'GET /sandbox/../etc/passwd HTTP/1.1\r\nHost: cubeproxy.test\r\nConnection: close\r\n\r\n'],
      ['/sandbox/<id>/../../init', 'GET /sandbox/abc123/49983/../../init HTTP/1.1\r\nHost: cubeproxy.test\r\nConnection: close\r\n\r\n'],
      ['path port 0', 'GET /sandbox/abc123/0/health HTTP/1.1\r\nHost: cubeproxy.test\r\nConnection: close\r\n\r\n'],
      ['path port 99999999', 'GET /sandbox/abc123/99999999/health HTTP/1.1\r\nHost: cubeproxy.test\r\nConnection: close\r\n\r\n'],
      ['host port 0', 'GET /health HTTP/1.1\r\nHost: 0-abc123.sandbox.test\r\nConnection: close\r\n\r\n'],
      ['host port 99999999', 'GET /health HTTP/1.1\r\nHost: 99999999-abc123.sandbox.test\r\nConnection: close\r\n\r\n'],
      ['E2b-Sandbox-Id without E2b-Sandbox-Port', 'POST /process.Process/List HTTP/1.1\r\nHost: sandbox.e2b.test\r\nE2b-Sandbox-Id: abc123\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
      ['E2b-Sandbox-Port without E2b-Sandbox-Id', 'POST /process.Process/List HTTP/1.1\r\nHost: sandbox.e2b.test\r\nE2b-Sandbox-Port: 49983\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
    ];
    it.each(cases)('%s → 400 with a JSON error (Connect code for Connect calls, REST code otherwise)', async (_name, raw) => {
      const res = await sendRaw(edge.port, raw);
      expect(res.status).toBe(400);
      const body = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4));
      expect(body.code).toBe(/Content-Type: application\/json/.test(raw) ? 'invalid_argument' : 400);
      expect(typeof body.message).toBe('string');
      expect(res.text).toMatch(/\r\nContent-Type: application\/json\r\n/i);
    });
  });

  it('control: a large answer sent down the stream path holds envd until the stalled client reads it', async () => {
    // Larger than all the kernel's socket buffers on the way can absorb (HUGE_BYTES): 8 MiB can
    // fit in autotuned buffers on a fresh connection, and then even an unbuffered proxy lets
    // envd finish at once.
    const r = routed('host', '/huge');
    const res = await send({ port: edge.port, method: 'GET', host: r.host, path: r.path, headers: { accept: 'text/event-stream' }, stallMs: SLOW_READER.stallMs });
    const t = upstream.timeline(res.id);
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.body.length).toBe(HUGE_BYTES);
    expect(t.finished! - t.received!).toBeGreaterThan(SLOW_READER.stallMs * 0.9);
  });

  it('requests that name no sandbox keep the server\'s own locations', async () => {
    const res = await send({ port: edge.port, method: 'GET', host: 'cubeproxy.test', path: '/healthz' });
    expect(res.status).toBe(200);
    expect(upstream.timeline(res.id).url).toBe('/healthz');
  });
});

describe("X-Accel-Buffering beside the server's own add_header lines", () => {
  let upstream: TestUpstream;
  let edge: Edge;
  beforeAll(async () => {
    upstream = await startTestUpstream();
    edge = await startEdge({ upstream: upstream.address, serverExtra: 'add_header X-Operator kept always;' });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  printLogOnFailure(() => [edge]);

  it.each(FORMS)('%s routing: streams get both headers, unary calls and plain traffic only the server\'s', async (form) => {
    const stream = await firstFrameDelay(edge, upstream, form, '/filesystem.Filesystem/WatchDir', connectHeaders(false));
    expect(stream.res.headers['x-accel-buffering']).toBe('no');
    expect(stream.res.headers['x-operator']).toBe('kept');
    const r = routed(form, '/filesystem.Filesystem/Stat');
    const unary = await send({ port: edge.port, host: r.host, path: r.path, headers: { ...r.headers, 'content-type': 'application/json' }, parts: [Buffer.from('{}')] });
    expect(unary.status).toBe(200);
    expect(unary.headers['x-accel-buffering']).toBeUndefined();
    expect(unary.headers['x-operator']).toBe('kept');
    const plain = await send({ port: edge.port, method: 'GET', host: 'cubeproxy.test', path: '/healthz' });
    expect(plain.headers['x-accel-buffering']).toBeUndefined();
    expect(plain.headers['x-operator']).toBe('kept');
  });
});

describe('baseline: the hostile config without envd-edge shows the delay (the tests above measure it)', () => {
  let upstream: TestUpstream;
  let edge: Edge;
  beforeAll(async () => {
    upstream = await startTestUpstream();
    edge = await startEdge({ upstream: upstream.address, httpExtra: HOSTILE, plugin: false });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  printLogOnFailure(() => [edge]);

  describe.each(FORMS)('%s routing', (form) => {
    it.each(SERVER_STREAMS)(`%s: first frame held ≥ ${BASELINE_DELAY_MS} ms`, async (path) => {
      const { delay } = await firstFrameDelay(edge, upstream, form, path, connectHeaders(true));
      expect(delay).toBeGreaterThanOrEqual(BASELINE_DELAY_MS);
    });

    it('StreamInput: the first request frame reaches envd only when the client ends', async () => {
      const r = routed(form, '/process.Process/StreamInput');
      const sentAt: number[] = [];
      const res: TimedResponse = await send({
        port: edge.port,
        host: r.host,
        path: r.path,
        headers: { ...r.headers, ...connectHeaders(true) },
        parts: [envelope(0, '{}'), envelope(0, '{}'), envelope(2, '{}')],
        gapMs: 400,
        onPart: (i, at) => (sentAt[i] = at),
      });
      expect(res.status).toBe(200);
      expect(upstream.timeline(res.id).chunks[0]).toBeGreaterThanOrEqual(sentAt[2]);
    });
  });

  it('an SSE response on another sandbox port is held', async () => {
    const r = routed('host', '/events', 3000);
    const res = await send({ port: edge.port, method: 'GET', host: r.host, path: r.path, headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip' } });
    expect(res.chunks[0] - upstream.timeline(res.id).wrote[0]).toBeGreaterThanOrEqual(BASELINE_DELAY_MS);
  });

});
