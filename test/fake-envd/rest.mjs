// envd's REST surface for the fake: /files (download and upload), /health, /envs, /metrics and
// the internal /init. Bodies are streamed both ways; nothing is buffered whole.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { boundaryOf, headerParams, MultipartError, readMultipart, unescapeFormName } from './multipart.mjs';
import { PathError, UnknownUserError, lookupUser } from './paths.mjs';

const CONTENT_TYPES = {
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
};

const GZIP_STORE_ABOVE = 4 * 1024 * 1024;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** envd's jsonError: {"code":…,"message":…}. */
export function sendJsonError(res, status, message) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ code: status, message });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function resolveFor(paths, url) {
  const username = url.searchParams.get('username') || undefined;
  try {
    lookupUser(username);
  } catch (err) {
    throw new HttpError(401, err.message);
  }
  const raw = url.searchParams.get('path');
  try {
    return { raw, username, target: raw == null ? null : paths.resolve(raw, username) };
  } catch (err) {
    if (err instanceof PathError) throw new HttpError(400, `error expanding and resolving path '${raw}': ${err.message}`);
    if (err instanceof UnknownUserError) throw new HttpError(401, err.message);
    throw err;
  }
}

// ---- GET /files -------------------------------------------------------------------------------

/**
 * envd's parseAcceptEncoding: 'gzip', '' (identity) or null (nothing acceptable → 400).
 * Note that undici's fetch sends `Accept-Encoding: gzip, deflate` by default, so the Node SDK
 * gets gzip-encoded downloads from envd (and fetch decodes them transparently).
 */
export function chooseEncoding(header) {
  if (!header) return '';
  const offers = header
    .split(',')
    .map((part) => {
      const [name, ...params] = part.split(';').map((x) => x.trim());
      const q = params.find((p) => /^q=/i.test(p));
      const quality = q && !Number.isNaN(parseFloat(q.slice(2))) ? parseFloat(q.slice(2)) : 1;
      return { name: name.toLowerCase(), quality };
    })
    .sort((a, b) => b.quality - a.quality);
  const identityRejected = offers.some((o) => o.name === 'identity' && o.quality === 0);
  for (const o of offers) {
    if (o.quality === 0) continue;
    if (o.name === 'identity') return '';
    if (o.name === '*') return identityRejected ? 'gzip' : '';
    if (o.name === 'gzip') return 'gzip';
  }
  return identityRejected ? null : '';
}

/** A single `bytes=a-b` range against `size`, or null (whole file), or 'invalid'. */
function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header || '');
  if (!m || (m[1] === '' && m[2] === '')) return header ? 'invalid' : null;
  let start;
  let end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'invalid' : { start, end };
}

async function getFile(paths, req, res, url) {
  const { raw, target } = resolveFor(paths, url);
  const resolved = target ?? paths.resolve('', url.searchParams.get('username') || undefined);
  let st;
  try {
    st = fs.statSync(resolved.host);
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new HttpError(404, `path '${resolved.sandbox}' does not exist`);
    throw new HttpError(500, `error checking if path exists '${resolved.sandbox}': ${err.message}`);
  }
  if (st.isDirectory()) throw new HttpError(400, `path '${resolved.sandbox}' is a directory`);

  const type = CONTENT_TYPES[path.extname(raw || '').toLowerCase()] || 'application/octet-stream';
  const headers = { 'Content-Type': type, Vary: 'Accept-Encoding', 'Last-Modified': st.mtime.toUTCString() };
  const encoding = chooseEncoding(req.headers['accept-encoding']);
  if (encoding === null) throw new HttpError(400, 'error parsing Accept-Encoding: no acceptable encoding found, supported: [gzip]');
  // like envd: Range and conditional requests are served as identity
  const conditional = ['range', 'if-modified-since', 'if-none-match', 'if-range'].some((h) => req.headers[h]);
  const gzip = encoding === 'gzip' && !conditional;
  if (req.method === 'HEAD') {
    res.writeHead(200, { ...headers, 'Content-Length': st.size, 'Accept-Ranges': 'bytes' });
    res.end();
    return;
  }
  if (gzip) {
    res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip' });
    // envd uses Go's default level; the fixture keeps big transfers I/O-bound instead: real
    // deflate up to 4 MiB, stored (uncompressed) deflate blocks above — still valid gzip.
    // 64 KiB output chunks: undici's fetch decodes a gzip body that arrives in 16 KiB chunks
    // ~25× slower (measured: 50 MiB in 10.5 s vs 0.43 s on Node 20).
    const level = st.size > GZIP_STORE_ABOVE ? 0 : 1;
    await pipeline(fs.createReadStream(resolved.host), zlib.createGzip({ level, chunkSize: 64 * 1024 }), res);
    return;
  }
  const range = parseRange(req.headers.range, st.size);
  if (range === 'invalid') {
    res.writeHead(416, { 'Content-Range': `bytes */${st.size}`, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('invalid range: failed to overlap\n');
    return;
  }
  if (range) {
    res.writeHead(206, {
      ...headers,
      'Accept-Ranges': 'bytes',
      'Content-Range': `bytes ${range.start}-${range.end}/${st.size}`,
      'Content-Length': range.end - range.start + 1,
    });
    await pipeline(fs.createReadStream(resolved.host, range), res);
    return;
  }
  res.writeHead(200, { ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': st.size });
  await pipeline(fs.createReadStream(resolved.host), res);
}

// ---- POST /files ------------------------------------------------------------------------------

/** envd's EnsureDirs for the parent of a file, inside root. */
function ensureParentDirs(paths, hostFile) {
  const rel = path.relative(paths.root, path.dirname(hostFile));
  let cur = paths.root;
  for (const part of rel ? rel.split(path.sep) : []) {
    cur = path.join(cur, part);
    let st = null;
    try {
      st = fs.statSync(cur);
    } catch (err) {
      if (err.code !== 'ENOENT') throw new HttpError(500, `error ensuring directories: failed to stat directory: ${err.message}`);
    }
    if (!st) fs.mkdirSync(cur, { mode: 0o755 });
    else if (!st.isDirectory()) throw new HttpError(500, `error ensuring directories: path is a file: ${paths.toSandbox(cur)}`);
  }
}

/** Opens the destination like envd's processFile and returns a sink for readMultipart. */
function openFileSink(paths, target) {
  ensureParentDirs(paths, target.host);
  let st = null;
  try {
    st = fs.statSync(target.host);
  } catch {
    // a new file
  }
  if (st?.isDirectory()) throw new HttpError(400, `path is a directory: ${target.sandbox}`);
  const out = fs.createWriteStream(target.host, { flags: 'w', mode: 0o666 });
  let failure = null;
  out.on('error', (err) => {
    failure = err;
  });
  const check = () => {
    if (failure) {
      const status = failure.code === 'ENOSPC' ? 507 : 500;
      throw new HttpError(status, status === 507 ? 'not enough disk space available' : `error writing file: ${failure.message}`);
    }
  };
  return {
    async write(chunk) {
      check();
      if (!out.write(chunk)) {
        await new Promise((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('error', done);
            resolve();
          };
          out.on('drain', done);
          out.on('error', done);
        });
      }
      check();
    },
    async end() {
      await new Promise((resolve) => {
        if (failure) resolve();
        else {
          out.end(resolve);
          out.on('error', resolve);
        }
      });
      check();
    },
    abort() {
      out.destroy();
    },
  };
}

function requestBody(req) {
  const encoding = (req.headers['content-encoding'] || '').toLowerCase();
  if (encoding === 'gzip') {
    const gunzip = zlib.createGunzip();
    req.pipe(gunzip);
    return gunzip;
  }
  if (encoding && encoding !== 'identity') throw new HttpError(400, `unsupported Content-Encoding: ${encoding}`);
  return req;
}

const uploaded = (target) => ({ path: target.sandbox, name: path.posix.basename(target.sandbox), type: 'file' });

async function postFiles(paths, req, res, url) {
  const { target, username } = resolveFor(paths, url);
  const contentType = req.headers['content-type'] || '';
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const results = [];

  if (mediaType === 'application/octet-stream') {
    if (!target) throw new HttpError(400, 'path query parameter is required for raw body upload');
    const sink = openFileSink(paths, target);
    try {
      for await (const chunk of requestBody(req).iterator({ destroyOnReturn: false })) await sink.write(chunk);
      await sink.end();
    } catch (err) {
      sink.abort();
      throw err;
    }
    results.push(uploaded(target));
  } else if (mediaType.startsWith('multipart/')) {
    const boundary = boundaryOf(contentType);
    if (!boundary) throw new HttpError(500, 'error parsing multipart form: no multipart boundary param in Content-Type');
    let current = null;
    try {
      await readMultipart(requestBody(req).iterator({ destroyOnReturn: false }), boundary, async (headers) => {
        const disposition = headers['content-disposition'] || '';
        const params = headerParams(disposition);
        if (params.name !== 'file') return null;
        let dest = target;
        if (!dest) {
          const fileName = params.filename != null ? unescapeFormName(params.filename) : '';
          try {
            dest = paths.resolve(fileName, username);
          } catch (err) {
            throw new HttpError(400, `error resolving path: ${err.message}`);
          }
        }
        if (results.some((r) => r.path === dest.sandbox)) {
          throw new HttpError(
            400,
            `you cannot upload multiple files to the same path '${dest.sandbox}' in one upload request, only the first specified file was uploaded`,
          );
        }
        current = openFileSink(paths, dest);
        results.push(uploaded(dest));
        return current;
      });
    } catch (err) {
      current?.abort();
      if (err instanceof MultipartError) throw new HttpError(500, `error reading form: ${err.message}`);
      throw err;
    }
  } else {
    throw new HttpError(
      400,
      `unsupported content type: ${contentType}, expected multipart/form-data or application/octet-stream`,
    );
  }

  // envd writes the JSON without a Content-Type, so Go's sniffing makes it text/plain
  const body = JSON.stringify(results);
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// ---- the handler ------------------------------------------------------------------------------

/**
 * The fallback handler behind the Connect routes.
 * @param {{ paths: ReturnType<import('./paths.mjs').createPaths>, stats: object }} o
 */
export function createRestHandler({ paths, stats }) {
  return async function rest(req, res) {
    const url = new URL(req.url, 'http://fake-envd');
    try {
      switch (url.pathname) {
        case '/health':
          if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
          res.writeHead(204);
          res.end();
          return;
        case '/envs':
          if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{}');
          return;
        case '/metrics': {
          if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
          const body = JSON.stringify({
            ts: Math.floor(Date.now() / 1000),
            cpu_count: os.cpus().length,
            cpu_used_pct: 0,
            mem_total: os.totalmem(),
            mem_used: os.totalmem() - os.freemem(),
            disk_used: 0,
            disk_total: 0,
          });
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(body);
          return;
        }
        case '/init':
          // internal in envd's OpenAPI spec: the proxy must never let a client reach it
          if (req.method !== 'POST') throw new HttpError(405, 'method not allowed');
          stats.initCalls += 1;
          req.resume();
          req.on('end', () => {
            res.writeHead(204);
            res.end();
          });
          return;
        case '/files':
          if (req.method === 'GET' || req.method === 'HEAD') await getFile(paths, req, res, url);
          else if (req.method === 'POST') await postFiles(paths, req, res, url);
          else throw new HttpError(405, 'method not allowed');
          return;
        default:
          req.resume();
          res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
          res.end('404 page not found\n');
      }
    } catch (err) {
      // drain what the client still sends, so the error reaches it on a usable connection
      req.resume();
      if (err instanceof HttpError) sendJsonError(res, err.status, err.message);
      else if (err?.code === 'ERR_STREAM_PREMATURE_CLOSE' || err?.code === 'ECONNRESET') res.destroy();
      else sendJsonError(res, 500, String(err?.message ?? err));
    }
  };
}
