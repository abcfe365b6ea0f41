// A streaming multipart/form-data reader: part bodies go to their sink chunk by chunk, with
// backpressure, and are never held whole in memory.

const MAX_HEADER_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export class MultipartError extends Error {}

/** The boundary parameter of a multipart Content-Type, or null. */
export function boundaryOf(contentType) {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  return m ? m[1] || m[2] : null;
}

/** Parses `key=value; key="quoted"` parameters of a header value (after its first token). */
export function headerParams(value) {
  const params = {};
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  let m;
  while ((m = re.exec(value))) {
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    params[m[1].toLowerCase()] = raw;
  }
  return params;
}

/** A FormData file name as browsers and undici escape it (%22 for ", %0A/%0D for newlines). */
export function unescapeFormName(name) {
  return name.replace(/%22/gi, '"').replace(/%0A/gi, '\n').replace(/%0D/gi, '\r');
}

function parseHeaders(block) {
  const headers = {};
  for (const line of block.toString('utf8').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/**
 * Reads `source` (an async iterable of Buffers) as multipart with `boundary`.
 * For each part: `sink = await onPart(headers)`, then `await sink.write(chunk)` per chunk and
 * `await sink.end()`. A sink of null skips the part's body.
 */
export async function readMultipart(source, boundary, onPart) {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const keep = delimiter.length - 1;
  // a leading CRLF lets the first boundary line match the same delimiter as the others
  let buf = CRLF;
  let state = 'preamble';
  let sink = null;

  const emit = async (bytes) => {
    if (sink && bytes.length > 0) await sink.write(bytes);
  };

  for await (const chunk of source) {
    if (state === 'body' && buf.length > 0 && buf.length <= keep && chunk.length >= keep) {
      // buf is the short tail kept back from the last chunk: unless a delimiter straddles the
      // seam (which then lies wholly inside `seam`), hand the tail on and go on with the chunk
      // itself (no 64 KiB copy per chunk)
      const seam = Buffer.concat([buf, chunk.subarray(0, keep)]);
      if (seam.indexOf(delimiter) < 0) {
        await emit(buf);
        buf = chunk;
      } else {
        buf = Buffer.concat([buf, chunk]);
      }
    } else {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    }
    let more = true;
    while (more) {
      switch (state) {
        case 'preamble': {
          const i = buf.indexOf(delimiter);
          if (i < 0) {
            buf = buf.subarray(Math.max(0, buf.length - keep));
            more = false;
          } else {
            buf = buf.subarray(i + delimiter.length);
            state = 'delimiter';
          }
          break;
        }
        case 'delimiter': {
          // skip transport padding, then "--" (the end) or CRLF (another part)
          let j = 0;
          while (j < buf.length && (buf[j] === 0x20 || buf[j] === 0x09)) j++;
          if (buf.length - j < 2) {
            more = false;
            break;
          }
          if (buf[j] === 0x2d && buf[j + 1] === 0x2d) {
            state = 'done';
            more = false;
          } else if (buf[j] === 0x0d && buf[j + 1] === 0x0a) {
            buf = buf.subarray(j + 2);
            state = 'headers';
          } else {
            throw new MultipartError('multipart: expecting a new Part; got malformed boundary line');
          }
          break;
        }
        case 'headers': {
          if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
            // a part without headers: the blank line comes at once
            buf = buf.subarray(2);
            sink = await onPart({});
            state = 'body';
            break;
          }
          const i = buf.indexOf(HEADER_END);
          if (i < 0) {
            if (buf.length > MAX_HEADER_BYTES) throw new MultipartError('multipart: part headers too large');
            more = false;
            break;
          }
          const headers = parseHeaders(buf.subarray(0, i));
          buf = buf.subarray(i + HEADER_END.length);
          sink = await onPart(headers);
          state = 'body';
          break;
        }
        case 'body': {
          const i = buf.indexOf(delimiter);
          if (i < 0) {
            const safe = buf.length - keep;
            if (safe > 0) {
              await emit(buf.subarray(0, safe));
              buf = buf.subarray(safe);
            }
            more = false;
          } else {
            await emit(buf.subarray(0, i));
            if (sink) await sink.end();
            sink = null;
            buf = buf.subarray(i + delimiter.length);
            state = 'delimiter';
          }
          break;
        }
        case 'done':
          buf = Buffer.alloc(0); // the epilogue is read and dropped
          more = false;
          break;
        default:
          throw new Error(`unknown state ${state}`);
      }
    }
    // no `break` on done: leaving for-await would destroy the request stream, and with it the
    // socket the response still has to go out on
  }
  if (state !== 'done') throw new MultipartError('multipart: NextPart: unexpected EOF');
}
