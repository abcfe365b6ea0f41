// The error table (README "Errors"), row by row, on real nginx: what the edge answers itself in
// each protocol, and that envd's own errors pass through untouched on every route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResponse, rawHttp, routed, sendRaw, type Form, type ParsedResponse } from '../support/client';
import { envelope, parseEnvelopes } from '../support/connect';
import { printLogOnFailure, startEdge, type Edge } from '../support/edge';
import { startSwitchboard, type Switchboard } from '../support/switchboard';
// @ts-expect-error plain ESM tool module without types
import { freePort } from '../../tools/nginx.mjs';

type Shape = 'rest' | 'connect' | 'connect_stream' | 'grpc' | 'grpc_web';

/** A request of each protocol, for a path of the sandbox. */
function request(shape: Shape, form: Form, path: string | undefined, extra: Record<string, string> = {}, body?: Buffer) {
  const defaults: Record<Shape, { method: string; path: string; type?: string; body: Buffer }> = {
    rest: { method: 'GET', path: '/files?path=%2Fhome%2Fuser%2Fa.txt', body: Buffer.alloc(0) },
    connect: { method: 'POST', path: '/process.Process/List', type: 'application/json', body: Buffer.from('{}') },
    connect_stream: { method: 'POST', path: '/process.Process/Start', type: 'application/connect+json', body: envelope(0, '{}') },
    grpc: { method: 'POST', path: '/process.Process/List', type: 'application/grpc', body: envelope(0, '') },
    grpc_web: { method: 'POST', path: '/process.Process/Start', type: 'application/grpc-web+proto', body: envelope(0, '') },
  };
  const d = defaults[shape];
  const r = routed(form, path ?? d.path);
  const headers: Record<string, string> = { Host: r.host, ...r.headers, ...extra };
  if (d.type) headers['Content-Type'] = d.type;
  return rawHttp(d.method, r.path, headers, body ?? d.body);
}

const GRPC: Record<string, string> = {
  invalid_argument: '3',
  deadline_exceeded: '4',
  permission_denied: '7',
  resource_exhausted: '8',
  unavailable: '14',
};
const CONNECT_HTTP: Record<string, number> = {
  invalid_argument: 400,
  permission_denied: 403,
  resource_exhausted: 429,
  deadline_exceeded: 504,
  unavailable: 503,
};

/** Asserts `res` is the edge's error `code` (REST status `status`) in `shape`, naming `mention`. */
function expectEdgeError(res: ParsedResponse, shape: Shape, code: string, status: number, mention: string) {
  const where = `${shape}: ${res.status} ${JSON.stringify(res.headers)} ${res.body.toString()}`;
  if (shape === 'rest') {
    expect(res.status, where).toBe(status);
    expect(res.headers['content-type']).toBe('application/json');
    const body = JSON.parse(res.body.toString());
    expect(body.code, where).toBe(status);
    expect(body.message).toContain(mention);
  } else if (shape === 'connect') {
    expect(res.status, where).toBe(CONNECT_HTTP[code]);
    expect(res.headers['content-type']).toBe('application/json');
    const body = JSON.parse(res.body.toString());
    expect(body.code, where).toBe(code);
    expect(body.message).toContain(mention);
  } else if (shape === 'connect_stream') {
    expect(res.status, where).toBe(200);
    expect(res.headers['content-type']).toBe('application/connect+json');
    const frames = parseEnvelopes(res.body);
    expect(frames.map((f) => f.flags), where).toEqual([2]);
    const end = JSON.parse(frames[0].payload);
    expect(end.error.code, where).toBe(code);
    expect(end.error.message).toContain(mention);
  } else {
    expect(res.status, where).toBe(200);
    expect(res.headers['content-type']).toBe(shape === 'grpc' ? 'application/grpc' : 'application/grpc-web+proto');
    expect(res.headers['grpc-status'], where).toBe(GRPC[code]);
    expect(decodeURIComponent(res.headers['grpc-message'])).toContain(mention);
    expect(res.body.length).toBe(0);
  }
}

const SHAPES: Shape[] = ['rest', 'connect', 'connect_stream', 'grpc', 'grpc_web'];
const FORMS: Form[] = ['host', 'path', 'header'];

async function ask(edge: Edge, raw: Buffer) {
  return parseResponse((await sendRaw(edge.port, raw, 10_000)).text);
}

describe('errors the edge answers itself', () => {
  let board: Switchboard;
  let edge: Edge;
  let down: Edge;
  beforeAll(async () => {
    board = await startSwitchboard();
    const timeouts = 'proxy_connect_timeout 2s; proxy_read_timeout 1s; proxy_send_timeout 1s;';
    edge = await startEdge({
      upstream: board.address,
      serverExtra: `client_max_body_size 1k; ${timeouts}`,
      files: { 'conf.d/envd/stream-timeouts.inc': 'proxy_read_timeout 1s;\nproxy_send_timeout 1s;\n' },
    });
    // An upstream address with nothing listening: every connection is refused.
    down = await startEdge({ upstream: `127.0.0.1:${await freePort()}` });
  });
  afterAll(async () => {
    await edge?.stop();
    await down?.stop();
    await board?.close();
  });
  printLogOnFailure(() => [edge, down]);

  describe.each(SHAPES)('%s', (shape) => {
    it('malformed route → invalid_argument / 400', async () => {
      const raw = rawHttp('POST', '/sandbox/abc123/99999999/process.Process/List', {
        Host: 'cubeproxy.test',
        ...(shape === 'rest' ? {} : { 'Content-Type': { connect: 'application/json', connect_stream: 'application/connect+json', grpc: 'application/grpc', grpc_web: 'application/grpc-web+proto' }[shape] }),
      }, '{}');
      expectEdgeError(await ask(edge, raw), shape, 'invalid_argument', 400, '99999999');
    });

    it('routing header without its pair → invalid_argument / 400', async () => {
      const raw = request(shape, 'header', undefined, {});
      const bad = Buffer.from(raw.toString('latin1').replace(/E2b-Sandbox-Port: 49983\r\n/, ''), 'latin1');
      expectEdgeError(await ask(edge, bad), shape, 'invalid_argument', 400, 'E2b-Sandbox-Port');
    });

    it.each(FORMS)('internal control path via %s routing → permission_denied / 403', async (form) => {
      expectEdgeError(await ask(edge, request(shape, form, '/init')), shape, 'permission_denied', 403, '/init');
    });

    it('body larger than client_max_body_size → resource_exhausted / 413', async () => {
      const res = await ask(edge, request(shape, 'host', undefined, {}, Buffer.alloc(4096, 0x61)));
      expectEdgeError(res, shape, 'resource_exhausted', 413, 'abc123');
    });

    it('upstream refuses the connection → unavailable / 502', async () => {
      const res = await ask(down, request(shape, 'path'));
      expectEdgeError(res, shape, 'unavailable', 502, 'abc123');
      expect(res.body.toString() + (res.headers['grpc-message'] || '')).toMatch(/could%20not%20connect|could not connect/);
    });

    it('upstream resets the connection → unavailable / 502', async () => {
      expectEdgeError(await ask(edge, request(shape, 'host', undefined, { 'x-upstream': 'reset' })), shape, 'unavailable', 502, 'abc123');
    });

    it('upstream sends no response headers in time → deadline_exceeded / 504', async () => {
      expectEdgeError(await ask(edge, request(shape, 'header', undefined, { 'x-upstream': 'silent' })), shape, 'deadline_exceeded', 504, 'abc123');
    });
  });

  it('reflected values are escaped and bounded: no header injection, no broken JSON', async () => {
    const evil = 'abc"\\<x>' + 'z'.repeat(500);
    const raw = rawHttp('POST', '/process.Process/List', {
      Host: 'sandbox.e2b.test',
      'E2b-Sandbox-Id': evil,
      'E2b-Sandbox-Port': '49983',
      'Content-Type': 'application/grpc',
    }, '');
    const res = await ask(edge, raw);
    expect(res.headers['grpc-status']).toBe('3');
    expect(res.headers['grpc-message']).toMatch(/^[\x20-\x7e]+$/);
    expect(res.headers['grpc-message'].length).toBeLessThan(1200);
    const rest = await ask(edge, rawHttp('GET', '/health', { Host: 'sandbox.e2b.test', 'E2b-Sandbox-Id': evil, 'E2b-Sandbox-Port': '1' }));
    const body = JSON.parse(rest.body.toString());
    expect(body.message).toContain('abc"\\<x>');
    expect(body.message.length).toBeLessThan(400);
  });
});

describe("envd's own errors pass through byte for byte", () => {
  let board: Switchboard;
  let edge: Edge;
  beforeAll(async () => {
    board = await startSwitchboard();
    edge = await startEdge({ upstream: board.address });
  });
  afterAll(async () => {
    await edge?.stop();
    await board?.close();
  });
  printLogOnFailure(() => [edge]);

  const streamError = envelope(2, '{"error":{"code":"not_found","message":"process with pid 7 not found"}}');
  const replies: [string, Shape, string, Buffer][] = [
    ['Connect unary 404', 'connect', '404 Not Found', Buffer.from('{"code":"not_found","message":"process with pid 7 not found"}')],
    ['Connect unary 500 (CubeProxy intercepts 500 elsewhere)', 'connect', '500 Internal Server Error', Buffer.from('{"code":"internal","message":"boom"}')],
    ['Connect unary 503', 'connect', '503 Service Unavailable', Buffer.from('{"code":"unavailable","message":"envd is starting"}')],
    ['Connect stream error in a 200', 'connect_stream', '200 OK', streamError],
    ['Connect stream with an HTTP 502 of envd itself', 'connect_stream', '502 Bad Gateway', Buffer.from('{"code":"unavailable","message":"upstream of envd"}')],
    ['REST 404', 'rest', '404 Not Found', Buffer.from('{"code":404,"message":"path \'/home/user/a.txt\' does not exist"}')],
    ['REST 507', 'rest', '507 Insufficient Storage', Buffer.from('{"code":507,"message":"not enough disk space"}')],
  ];
  for (const form of FORMS) {
    it.each(replies)(`${form} routing: %s`, async (_name, shape, statusLine, body) => {
      const type = shape === 'connect_stream' ? 'application/connect+json' : 'application/json';
      const reply = Buffer.concat([
        Buffer.from(`HTTP/1.1 ${statusLine}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nX-Envd: yes\r\nConnection: close\r\n\r\n`),
        body,
      ]);
      const res = await ask(edge, request(shape, form, undefined, { 'x-reply': reply.toString('base64') }));
      expect(res.status).toBe(Number(statusLine.slice(0, 3)));
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['x-envd']).toBe('yes');
      expect(res.body.equals(body), res.body.toString()).toBe(true);
    });
  }
});
