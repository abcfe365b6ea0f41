// Fault 2: envd is gone before it sent response headers. nginx still owns the status, so the edge
// answers in the client's protocol: Connect streaming → HTTP 200 and one end-stream envelope with
// {"error":{"code":"unavailable"}}; Connect unary → 503 {"code":"unavailable"}; REST → 502.
//
// test/integration/errors.test.ts covers "nothing listens" (connection refused) and "RST right
// after the request head". This file covers an envd that *accepts* and then goes away before its
// headers in the other ways a dying process or a half-started sandbox does: FIN right after the
// request, FIN on accept (before nginx wrote the request), RST on accept, and a FIN halfway through
// the status line/headers. Each must reach envd once (no retry loop) and never leak nginx's HTML.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNotFoundError, TimeoutError } from 'e2b';
import { parseResponse, rawHttp, sendRaw } from '../support/client';
import { envelope, parseEnvelopes } from '../support/connect';
import { logMark, onRequestHead, printLogOnFailure, sdkThroughEdge, sleep, startLocalEdge, startRawUpstream, verbose, type LocalEdge, type RawUpstream } from './harness';

type Death = 'fin-after-request' | 'fin-on-accept' | 'rst-on-accept' | 'fin-in-headers';

const CLOSED = 'sandbox "abc123" port "49983" is unavailable: it closed the connection or sent an invalid response';
const NOT_CONNECTED = 'sandbox "abc123" port "49983" is unavailable: the edge could not connect to it';
/**
 * What the edge may say. A death on accept races nginx's check of its non-blocking connect():
 * when the RST/FIN is already there, nginx reports "connect() failed" and the edge, rightly, says
 * it could not connect.
 */
function messages(death: Death): string[] {
  return death === 'fin-on-accept' || death === 'rst-on-accept' ? [CLOSED, NOT_CONNECTED] : [CLOSED];
}

/** The upstream dies the way the port it is reached on says (one listener per death). */
async function startDeath(death: Death): Promise<RawUpstream> {
  return startRawUpstream((socket) => {
    if (death === 'fin-on-accept') return void socket.end();
    if (death === 'rst-on-accept') return void socket.resetAndDestroy();
    onRequestHead(socket, () => {
      if (death === 'fin-after-request') return void socket.end();
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/connect+js');
    });
  });
}

const DEATHS: [Death, RegExp][] = [
  ['fin-after-request', /upstream prematurely closed connection while reading response header from upstream/],
  // nginx may already have written the request (then it reads the FIN) or not (then the write fails).
  ['fin-on-accept', /upstream prematurely closed connection while reading response header from upstream|\((32: Broken pipe|104: Connection reset by peer)\) while (connecting to|sending request to|reading response header from) upstream/],
  // The RST may already be there when nginx checks its non-blocking connect().
  ['rst-on-accept', /\((104: Connection reset by peer|32: Broken pipe)\) while (connecting to|sending request to|reading response header from) upstream/],
  ['fin-in-headers', /upstream prematurely closed connection while reading response header from upstream/],
];

const ROUTE = { Host: 'cubeproxy.test' };

describe.each(DEATHS)('envd accepts, then dies before its headers: %s', (death, logLine) => {
  let upstream: RawUpstream;
  let edge: LocalEdge;
  beforeAll(async () => {
    upstream = await startDeath(death);
    edge = await startLocalEdge({ upstream: upstream.address });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  printLogOnFailure(() => [edge]);

  async function ask(raw: Buffer) {
    const mark = logMark(edge);
    const before = upstream.accepted();
    const res = parseResponse((await sendRaw(edge.port, raw, 5000)).text);
    await sleep(30);
    // One connection per request: nginx does not retry (one server in the upstream block; and
    // proxy_next_upstream never retries a POST that was sent).
    expect(upstream.accepted() - before).toBe(1);
    expect(mark.since()).toMatch(logLine);
    return res;
  }

  it('Connect stream (Start): 200 and a single end-stream envelope carrying unavailable', async () => {
    const res = await ask(rawHttp('POST', '/sandbox/abc123/49983/process.Process/Start', { ...ROUTE, 'Content-Type': 'application/connect+json' }, envelope(0, '{}')));
    verbose(`${death}: Connect stream answer`, { status: res.status, headers: res.headers, body: res.body.toString('latin1') });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/connect+json');
    const frames = parseEnvelopes(res.body);
    expect(frames.map((f) => f.flags)).toEqual([2]);
    // The envelope is the whole body: nothing before or after it.
    expect(res.body.length).toBe(5 + Buffer.byteLength(frames[0].payload));
    const end = JSON.parse(frames[0].payload);
    expect(Object.keys(end)).toEqual(['error']);
    expect(end.error.code).toBe('unavailable');
    expect(messages(death)).toContain(end.error.message);
  });

  it('Connect unary (List): 503 {"code":"unavailable"}', async () => {
    const res = await ask(rawHttp('POST', '/sandbox/abc123/49983/process.Process/List', { ...ROUTE, 'Content-Type': 'application/json' }, '{}'));
    verbose(`${death}: Connect unary answer`, { status: res.status, body: res.body.toString('latin1') });
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('application/json');
    const body = JSON.parse(res.body.toString());
    expect(body.code).toBe('unavailable');
    expect(messages(death)).toContain(body.message);
  });

  it('REST (GET /files): 502 {"code":502}', async () => {
    const res = await ask(rawHttp('GET', '/sandbox/abc123/49983/files?path=%2Fhome%2Fuser%2Fa.txt', ROUTE));
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString()).code).toBe(502);
    expect(res.body.toString()).not.toMatch(/<html/i);
  });

  if (death === 'fin-after-request') {
    it('e2b SDK: commands.run → SandboxNotFoundError, commands.list → TimeoutError', async () => {
      const sbx = await sdkThroughEdge(edge.url);
      const run = await sbx.commands.run('true').catch((e: Error) => e);
      verbose('SDK commands.run', `${run.constructor.name}: ${(run as Error).message}`);
      expect(run).toBeInstanceOf(SandboxNotFoundError);
      const list = await sbx.commands.list().catch((e: Error) => e);
      verbose('SDK commands.list', `${list.constructor.name}: ${(list as Error).message}`);
      expect(list).toBeInstanceOf(TimeoutError);
      expect((list as Error).message).toContain('closed the connection');
    });
  }
});
