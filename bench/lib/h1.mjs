// A minimal HTTP/1.1 client over one keep-alive TCP connection, for measurements where undici's
// own work would blur what is measured: it records when the request was written, when the first
// complete Connect envelope of the response body arrived, and counts body bytes without keeping
// them (chunked or Content-Length bodies).
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A Connect envelope: 1 flag byte, 4-byte big-endian length, payload. */
export function envelope(flags, payload) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

const LF = 0x0a;
const HEAD_END = Buffer.from('\r\n\r\n');
/** How much of a decoded body is kept to find its first envelope. */
const PREFIX_KEEP = 1 << 16;

export class H1Connection {
  /** @param {{port:number, host?:string}} o */
  constructor({ port, host = '127.0.0.1' }) {
    this.port = port;
    this.host = host;
    this.socket = null;
    this.current = null;
    this.closed = true;
  }

  open() {
    return new Promise((resolve, reject) => {
      const socket = connect({ port: this.port, host: this.host });
      socket.setNoDelay(true);
      const onError = (error) => reject(error);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        this.socket = socket;
        this.closed = false;
        socket.on('data', (chunk) => this.onData(chunk));
        socket.on('error', (error) => this.fail(error));
        socket.on('close', () => {
          this.closed = true;
          if (this.current) this.finishOrFail(new Error('connection closed before the response ended'));
        });
        resolve(this);
      });
    });
  }

  /**
   * Sends one request. Returns { sent, head, firstEnvelope, done }:
   * - sent: performance.now() right after the request was handed to the socket;
   * - head: a promise of { status, headers, at };
   * - firstEnvelope: a promise of performance.now() when the first complete envelope was decoded
   *   (never resolves for a body without one; rejects with the request);
   * - done: a promise of { status, headers, bodyBytes, firstEnvelopeAt, endAt, keepAlive }.
   * `onBody(data)`, when given, sees every piece of the response body as it arrives.
   */
  async request({ method = 'POST', path, headers = {}, body = Buffer.alloc(0), onBody }) {
    if (this.current) throw new Error('H1Connection: one request at a time');
    if (this.closed) await this.open();
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${headers.Host || headers.host || `${this.host}:${this.port}`}`];
    for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== 'host') lines.push(`${name}: ${value}`);
    lines.push(`Content-Length: ${body.length}`, '', '');
    const wire = Buffer.concat([Buffer.from(lines.join('\r\n')), body]);
    const state = {
      phase: 'head',
      headBuf: Buffer.alloc(0),
      status: 0,
      headers: {},
      chunked: false,
      remaining: 0, // Content-Length left, or bytes left in the current chunk
      chunkPhase: 'size',
      sizeLine: '',
      bodyBytes: 0,
      prefix: [],
      prefixBytes: 0,
      firstEnvelopeAt: undefined,
      endAt: undefined,
      onBody,
    };
    let resolveHead, rejectHead, resolveFirst, rejectFirst, resolveDone, rejectDone;
    const head = new Promise((a, b) => ((resolveHead = a), (rejectHead = b)));
    const firstEnvelope = new Promise((a, b) => ((resolveFirst = a), (rejectFirst = b)));
    const done = new Promise((a, b) => ((resolveDone = a), (rejectDone = b)));
    // Callers that only await `done` must not see unhandled rejections of the others.
    head.catch(() => {});
    firstEnvelope.catch(() => {});
    this.current = { state, resolveHead, rejectHead, resolveFirst, rejectFirst, resolveDone, rejectDone };
    this.socket.write(wire);
    const sent = performance.now();
    return { sent, head, firstEnvelope, done };
  }

  close() {
    if (this.socket) this.socket.destroy();
    this.closed = true;
  }

  fail(error) {
    const c = this.current;
    if (!c) return;
    this.current = null;
    c.rejectHead(error);
    c.rejectFirst(error);
    c.rejectDone(error);
    this.close();
  }

  /** A close ends a body that has neither Content-Length nor chunked framing; else it is an error. */
  finishOrFail(error) {
    const c = this.current;
    if (c && c.state.phase === 'body' && !c.state.chunked && c.state.remaining === Infinity) return this.finish(false);
    this.fail(error);
  }

  finish(keepAlive) {
    const c = this.current;
    this.current = null;
    const s = c.state;
    s.endAt = performance.now();
    c.rejectFirst(new Error('the response ended without a complete envelope'));
    if (!keepAlive) this.close();
    c.resolveDone({ status: s.status, headers: s.headers, bodyBytes: s.bodyBytes, firstEnvelopeAt: s.firstEnvelopeAt, endAt: s.endAt, keepAlive });
  }

  onData(chunk) {
    const c = this.current;
    if (!c) {
      if (chunk.length) this.fail(new Error(`unexpected ${chunk.length} bytes with no request outstanding`));
      return;
    }
    const s = c.state;
    let at = 0;
    if (s.phase === 'head') {
      const buf = s.headBuf.length ? Buffer.concat([s.headBuf, chunk]) : chunk;
      const end = buf.indexOf(HEAD_END);
      if (end < 0) {
        s.headBuf = buf;
        return;
      }
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      if (!m) return this.fail(new Error(`bad status line: ${lines[0]}`));
      s.status = Number(m[1]);
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) s.headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      s.chunked = /chunked/i.test(s.headers['transfer-encoding'] || '');
      s.remaining = s.chunked ? 0 : s.headers['content-length'] !== undefined ? Number(s.headers['content-length']) : Infinity;
      s.keepAlive = !/close/i.test(s.headers.connection || '');
      s.phase = 'body';
      c.resolveHead({ status: s.status, headers: s.headers, at: performance.now() });
      chunk = buf;
      at = end + 4;
      if (!s.chunked && s.remaining === 0) return this.finish(s.keepAlive);
    }
    if (s.chunked) this.chunkedBody(chunk, at);
    else this.plainBody(chunk, at);
  }

  plainBody(chunk, at) {
    const s = this.current.state;
    const n = Math.min(chunk.length - at, s.remaining);
    this.bodyData(chunk.subarray(at, at + n));
    s.remaining -= n;
    if (s.remaining === 0) this.finish(s.keepAlive);
  }

  chunkedBody(chunk, at) {
    const s = this.current.state;
    while (at < chunk.length && this.current) {
      if (s.chunkPhase === 'size') {
        // a line ends in LF (its CR may have come in the previous read)
        const nl = chunk.indexOf(LF, at);
        if (nl < 0) {
          s.sizeLine += chunk.toString('latin1', at);
          return;
        }
        s.sizeLine += chunk.toString('latin1', at, nl);
        at = nl + 1;
        const size = parseInt(s.sizeLine.replace(/\r$/, '').split(';')[0], 16);
        s.sizeLine = '';
        if (!Number.isFinite(size)) return this.fail(new Error('bad chunk size'));
        if (size === 0) s.chunkPhase = 'trailer';
        else {
          s.remaining = size;
          s.chunkPhase = 'data';
        }
      } else if (s.chunkPhase === 'data') {
        const n = Math.min(chunk.length - at, s.remaining);
        this.bodyData(chunk.subarray(at, at + n));
        s.remaining -= n;
        at += n;
        if (s.remaining === 0) {
          s.chunkPhase = 'data-crlf';
          s.crlfLeft = 2;
        }
      } else if (s.chunkPhase === 'data-crlf') {
        const n = Math.min(chunk.length - at, s.crlfLeft);
        s.crlfLeft -= n;
        at += n;
        if (s.crlfLeft === 0) s.chunkPhase = 'size';
      } else {
        // trailer section: lines until an empty one (nginx and node send none)
        const nl = chunk.indexOf(LF, at);
        if (nl < 0) {
          s.sizeLine += chunk.toString('latin1', at);
          return;
        }
        const line = (s.sizeLine + chunk.toString('latin1', at, nl)).replace(/\r$/, '');
        s.sizeLine = '';
        at = nl + 1;
        if (line === '') {
          s.chunkPhase = 'size';
          return this.finish(s.keepAlive);
        }
      }
    }
  }

  bodyData(data) {
    const c = this.current;
    const s = c.state;
    s.bodyBytes += data.length;
    if (s.onBody) s.onBody(data);
    if (s.firstEnvelopeAt !== undefined || s.prefixBytes >= PREFIX_KEEP) return;
    s.prefix.push(data);
    s.prefixBytes += data.length;
    if (s.prefixBytes < 5) return;
    const buf = s.prefix.length > 1 ? Buffer.concat(s.prefix) : s.prefix[0];
    s.prefix = [buf];
    const len = buf.readUInt32BE(1);
    if (buf.length >= 5 + len) {
      s.firstEnvelopeAt = performance.now();
      s.firstEnvelope = buf.subarray(0, 5 + len);
      s.prefix = [];
      c.resolveFirst(s.firstEnvelopeAt);
    }
  }
}
