// Shared pieces of the fault tests (test/faults/*.test.ts): a local nginx whose master and worker
// processes the tests can see (reload, /proc VmRSS), a raw HTTP/1.1 stream client that records
// every byte nginx sends (and whether the chunked body ended with its `0\r\n\r\n`), scripted raw
// TCP upstreams, and a TCP relay that can reset every connection it carries.
//
// These tests need /proc and signals to nginx's own processes, so they always run the nginx binary
// on this machine (NGINX_BIN, NGINX_NJS_MODULE) on the njs engine, whatever ENVD_EDGE_RUNNER and
// ENVD_EDGE_ENGINE say.
import { readFileSync } from 'node:fs';
import { Sandbox } from 'e2b';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { END_STREAM, envelope } from '../support/connect';
import { rawHttp } from '../support/client';
// The fault tests' suites print nginx's error log on failure as every suite does.
export { printLogOnFailure } from '../support/edge';
// @ts-expect-error plain ESM tool module without types
import { freePort, preparePrefix, renderExampleConf, startLocalNginx } from '../../tools/nginx.mjs';
// @ts-expect-error plain ESM tool module without types
import { nginxWorkers } from '../../tools/proc.mjs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The e2b SDK on sandbox abc123 through `edgeUrl`'s path form (debug mode: no E2B API call). */
export function sdkThroughEdge(edgeUrl: string): Promise<Sandbox> {
  process.env.E2B_DEBUG = 'true';
  process.env.E2B_SANDBOX_URL = `${edgeUrl}/sandbox/abc123/49983`;
  return Sandbox.connect('abc123');
}

export interface LocalEdge {
  port: number;
  url: string;
  errorLog(): string;
  /** nginx -s reload (SIGHUP to the master). */
  reload(): void;
  /** The master's pid, from logs/nginx.pid. */
  masterPid(): number;
  /** Live worker processes (children of the master whose title says "worker process"). */
  workers(): WorkerProcess[];
  stop(): Promise<void>;
}

export interface WorkerProcess {
  pid: number;
  /** "nginx: worker process" or "nginx: worker process is shutting down" */
  title: string;
  rssKiB: number;
}

export interface LocalEdgeOptions {
  upstream: string;
  /** Directives at the top level of nginx.conf (e.g. worker_shutdown_timeout). */
  mainExtra?: string;
  httpExtra?: string;
  serverExtra?: string;
  /** Replacements for shipped files, by path relative to conf/. */
  files?: Record<string, string>;
}

/** The CubeProxy example with envd-edge, on the local nginx binary, in a fresh prefix. */
export async function startLocalEdge(opts: LocalEdgeOptions): Promise<LocalEdge> {
  const port: number = await freePort();
  let conf: string = renderExampleConf({
    listen: `127.0.0.1:${port}`,
    upstream: opts.upstream,
    httpExtra: opts.httpExtra || '',
    serverExtra: opts.serverExtra || '',
  });
  if (opts.mainExtra) {
    if (!/^worker_processes 1;$/m.test(conf)) throw new Error('the example config no longer has `worker_processes 1;`');
    conf = conf.replace(/^worker_processes 1;$/m, `worker_processes 1;\n${opts.mainExtra}`);
  }
  const prefix: string = preparePrefix(conf, { files: opts.files || {} });
  const nginx = await startLocalNginx(prefix, { probeUrl: `http://127.0.0.1:${port}/_envd/version` });
  const masterPid = () => Number(readFileSync(`${prefix}/logs/nginx.pid`, 'utf8').trim());
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    errorLog: () => nginx.errorLog(),
    reload: () => nginx.reload(),
    masterPid,
    workers: () => nginxWorkers(masterPid()),
    stop: () => nginx.stop(),
  };
}

/** Whether `pid` is a live (not zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client for one streaming response.

export interface Frame {
  flags: number;
  payload: string;
  /** performance.now() when the envelope was complete on the client. */
  at: number;
}

export interface StreamResult {
  status: number;
  headers: Record<string, string>;
  /** Every byte nginx sent, as received (status line, headers, chunk framing). */
  raw: Buffer;
  /** Connect envelopes decoded from the chunked body, with arrival times. */
  frames: Frame[];
  /** Body bytes after the last whole envelope (a cut inside an envelope leaves some). */
  partialEnvelopeBytes: number;
  /** The chunked body ended with its last chunk (`0\r\n\r\n`). */
  terminated: boolean;
  /** A Connect end-stream envelope (flag 0x02) arrived. */
  endStream: boolean;
  /** performance.now() of the response headers, and of the socket's close. */
  headersAt: number;
  closedAt: number;
  /** A socket error (ECONNRESET) the client saw, if any. */
  error?: string;
}

export interface OpenStream {
  /** Resolves with the response headers (status) once they arrived. */
  headers: Promise<void>;
  /** Resolves when the socket closes, for whatever reason. */
  done: Promise<StreamResult>;
  socket: Socket;
}

/**
 * Sends `request` (raw bytes) and follows the answer. `readBody: false` reads the headers, then
 * stops reading (the socket is paused: the kernel's buffers fill and TCP pushes back on nginx).
 */
export function openStream(
  port: number,
  request: Buffer,
  { readBody = true, timeoutMs = 30_000, onFrame }: { readBody?: boolean; timeoutMs?: number; onFrame?: (frame: Frame, all: Frame[]) => void } = {},
): OpenStream {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const result: StreamResult = {
    status: 0,
    headers: {},
    raw: Buffer.alloc(0),
    frames: [],
    partialEnvelopeBytes: 0,
    terminated: false,
    endStream: false,
    headersAt: 0,
    closedAt: 0,
  };
  let pending = Buffer.alloc(0); // bytes not yet parsed (head, then chunk framing)
  let body = Buffer.alloc(0); // de-chunked bytes not yet parsed into envelopes
  let inBody = false;
  let chunked = false;
  let gotHeaders: () => void = () => undefined;
  const headers = new Promise<void>((r) => (gotHeaders = r));

  const parseEnvelopes = (now: number) => {
    while (body.length >= 5) {
      const len = body.readUInt32BE(1);
      if (body.length < 5 + len) break;
      const frame = { flags: body[0], payload: body.subarray(5, 5 + len).toString(), at: now };
      result.frames.push(frame);
      if (frame.flags & END_STREAM) result.endStream = true;
      body = body.subarray(5 + len);
      onFrame?.(frame, result.frames);
    }
  };
  const parse = () => {
    const now = performance.now();
    if (!inBody) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = pending.subarray(0, end).toString('latin1').split('\r\n');
      result.status = Number(lines[0].split(' ')[1]);
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        result.headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      chunked = /chunked/i.test(result.headers['transfer-encoding'] || '');
      result.headersAt = now;
      pending = pending.subarray(end + 4);
      inBody = true;
      gotHeaders();
      if (!readBody) socket.pause();
    }
    if (!chunked) {
      body = Buffer.concat([body, pending]);
      pending = Buffer.alloc(0);
      return parseEnvelopes(now);
    }
    while (!result.terminated) {
      const eol = pending.indexOf('\r\n');
      if (eol < 0) break;
      const size = parseInt(pending.subarray(0, eol).toString('latin1'), 16);
      if (pending.length < eol + 2 + size + 2) break;
      if (size === 0) {
        result.terminated = true;
        break;
      }
      body = Buffer.concat([body, pending.subarray(eol + 2, eol + 2 + size)]);
      pending = pending.subarray(eol + 2 + size + 2);
    }
    parseEnvelopes(now);
  };

  const done = new Promise<StreamResult>((resolve) => {
    const timer = setTimeout(() => socket.destroy(new Error(`stream still open after ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      pending = Buffer.concat([pending, d]);
      parse();
      // Connection: close was asked for; once the last chunk is in, nginx closes. Do not wait for it.
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (result.error = e.code || e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      result.closedAt = performance.now();
      result.raw = Buffer.concat(chunks);
      result.partialEnvelopeBytes = body.length;
      gotHeaders();
      resolve(result);
    });
  });
  socket.write(request);
  return { headers, done, socket };
}

/** A raw Connect streaming request (application/connect+json) for sandbox abc123, path routing. */
export function connectStreamRequest(path: string, message: unknown, extra: Record<string, string> = {}): Buffer {
  const headers = { Host: 'cubeproxy.test', 'Content-Type': 'application/connect+json', 'Connect-Protocol-Version': '1', ...extra };
  return rawHttp('POST', `/sandbox/abc123/49983${path}`, headers, envelope(0, JSON.stringify(message)));
}

/** The event kind of a process.Process Start/Connect response in Connect JSON (start, data, keepalive, end). */
export function eventKind(frame: Frame): string {
  if (frame.flags & END_STREAM) return 'END_STREAM';
  try {
    return Object.keys(JSON.parse(frame.payload).event || {})[0] || '?';
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------------------------------------
// Raw TCP upstreams (shared with the integration tests' switchboard).
export { onRequestHead, startRawUpstream, type RawUpstream } from '../support/raw-upstream';

/** A chunk of a chunked HTTP/1.1 body. */
export function chunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(data.length.toString(16) + '\r\n'), data, Buffer.from('\r\n')]);
}

export interface Relay {
  address: string;
  /** Resets (TCP RST) the nginx side of every relayed connection and drops the other side. */
  resetAll(): void;
  close(): Promise<void>;
}

/** A TCP relay to `target` (host:port) that can cut every connection it carries with an RST. */
export async function startRelay(target: string): Promise<Relay> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((front) => {
    const back = connect(port, host);
    const pair: [Socket, Socket] = [front, back];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      front.destroy();
      back.destroy();
    };
    front.on('error', drop).on('close', drop);
    back.on('error', drop).on('close', drop);
    front.pipe(back);
    back.pipe(front);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    resetAll() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair[0].resetAndDestroy();
        pair[1].destroy();
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}

/** A mark in the error log: `since()` returns what was logged after it. */
export function logMark(edge: LocalEdge): { since(): string } {
  const at = edge.errorLog().length;
  return { since: () => edge.errorLog().slice(at) };
}

/** FAULTS_VERBOSE=1 prints what each client saw (raw bytes, errors), for the report. */
export function verbose(label: string, value: unknown) {
  if (process.env.FAULTS_VERBOSE) console.log(`[faults] ${label}: ${JSON.stringify(value)}`);
}

