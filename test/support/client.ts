// HTTP clients for the integration tests: timed streaming requests over node:http, and raw
// requests written byte for byte to a socket (no client-side normalisation of the target).
import { randomUUID } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export type Form = 'host' | 'path' | 'header';
export const SANDBOX_ID = 'abc123';

/** Host, path and headers that name sandbox `abc123`, port `port`, in one routing form. */
export function routed(form: Form, path: string, port = 49983): { host: string; path: string; headers: Record<string, string> } {
  if (form === 'host') return { host: `${port}-${SANDBOX_ID}.sandbox.test`, path, headers: {} };
  if (form === 'path') return { host: 'cubeproxy.test', path: `/sandbox/${SANDBOX_ID}/${port}${path}`, headers: {} };
  return {
    host: 'sandbox.e2b.test',
    path,
    headers: { 'E2b-Sandbox-Id': SANDBOX_ID, 'E2b-Sandbox-Port': String(port) },
  };
}

export interface TimedResponse {
  id: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() at each body chunk's arrival. */
  chunks: number[];
  sent: number;
  ended: number;
}

export interface SendOptions {
  port: number;
  method?: string;
  host: string;
  path: string;
  headers?: Record<string, string>;
  /** Request body parts, each written `gapMs` after the previous one (then the request ends). */
  parts?: (string | Buffer)[];
  gapMs?: number;
  /** Called with the send time of each part. */
  onPart?: (index: number, at: number) => void;
  /** Read the response at no more than this many bytes per second. */
  readBytesPerSecond?: number;
  /** Read nothing of the response body for this long after its headers. */
  stallMs?: number;
}

export function send(opts: SendOptions): Promise<TimedResponse> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: opts.port,
        method: opts.method || 'POST',
        path: opts.path,
        agent: false,
        headers: { host: opts.host, 'x-test-id': id, ...opts.headers },
      },
      (res) => {
        const chunks: number[] = [];
        const body: Buffer[] = [];
        let budget = 0;
        let timer: NodeJS.Timeout | undefined;
        const throttle = () => {
          if (!opts.readBytesPerSecond) return void res.resume();
          const perTick = opts.readBytesPerSecond / 20;
          budget = perTick;
          res.resume();
          timer = setInterval(() => {
            budget = perTick;
            res.resume();
          }, 50);
        };
        if (opts.stallMs || opts.readBytesPerSecond) {
          res.pause();
          setTimeout(throttle, opts.stallMs || 0);
        }
        res.on('data', (chunk: Buffer) => {
          chunks.push(performance.now());
          body.push(chunk);
          if (opts.readBytesPerSecond) {
            budget -= chunk.length;
            if (budget <= 0) res.pause();
          }
        });
        res.on('end', () => {
          if (timer) clearInterval(timer);
          resolve({ id, status: res.statusCode || 0, headers: res.headers, body: Buffer.concat(body), chunks, sent, ended: performance.now() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const sent = performance.now();
    const parts = opts.parts || [];
    let i = 0;
    const next = () => {
      if (i >= parts.length) return void req.end();
      opts.onPart?.(i, performance.now());
      req.write(parts[i++]);
      if (i < parts.length) setTimeout(next, opts.gapMs || 0);
      else req.end();
    };
    if (parts.length) next();
    else req.end();
  });
}

/** True once `data` holds one whole HTTP response (by Content-Length or the last chunk). */
function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length) return data.length >= end + 4 + Number(length[1]);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return data.subarray(end + 4).includes('\r\n0\r\n\r\n') || data.subarray(end + 4, end + 9).toString() === '0\r\n\r\n';
  return false;
}

/**
 * Writes `raw` to the socket exactly as given and returns the status code and the whole answer.
 * The socket is not half-closed (nginx would take that for a client abort): the answer ends at
 * its Content-Length, its last chunk, or when the server closes.
 */
export function sendRaw(port: number, raw: string | Buffer, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const data: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('raw request timed out')), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(data).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    socket.on('data', (d) => {
      data.push(d);
      if (complete(Buffer.concat(data))) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', reject);
    socket.on('close', finish);
    socket.write(raw);
  });
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a raw HTTP/1.1 response (as sendRaw returns it) into status, headers and body. */
export function parseResponse(text: string): ParsedResponse {
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = Buffer.from(text.slice(end + 4), 'latin1');
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString(), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(lines[0].split(' ')[1]), headers, body };
}

/** A raw HTTP/1.1 request with Content-Length (when there is a body) and Connection: close. */
export function rawHttp(method: string, target: string, headers: Record<string, string>, body: string | Buffer = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  if (b.length || method === 'POST') lines.push(`Content-Length: ${b.length}`);
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b]);
}

/** The request fields of a shared vector (test/vectors.json) that become header lines. */
const VECTOR_HEADERS: [string, string][] = [
  ['host', 'Host'], ['contentType', 'Content-Type'], ['accept', 'Accept'], ['upgrade', 'Upgrade'], ['connection', 'Connection'],
  ['sandboxIdHeader', 'E2b-Sandbox-Id'], ['sandboxPortHeader', 'E2b-Sandbox-Port'],
];

/** A shared vector's request as raw HTTP/1.1 with an empty body; `extra` header lines go last. */
export function vectorRaw(req: Record<string, string | undefined>, extra: string[] = []): string {
  const lines = VECTOR_HEADERS.filter(([field]) => req[field] !== undefined).map(([field, name]) => `${name}: ${req[field]}`);
  return `${req.method} ${req.uri} HTTP/1.1\r\n${lines.concat(['Content-Length: 0'], extra).join('\r\n')}\r\n\r\n`;
}
