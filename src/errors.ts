// Errors the edge answers itself, in the protocol the client speaks. Reflected values are escaped:
// bodies are ASCII-only JSON, header values are percent-encoded, messages are bounded.
import { matches } from './text';
import type { EdgeError, EdgeResponse, ErrorCode, Protocol } from './types';
import { mediaType } from './protocol';
import { quote } from './route';

/** HTTP status of a Connect unary error, per the Connect protocol's code table. */
const CONNECT_HTTP_STATUS: { readonly [code: string]: number } = {
  invalid_argument: 400,
  permission_denied: 403,
  resource_exhausted: 429,
  deadline_exceeded: 504,
  unavailable: 503,
  internal: 500,
};

/** gRPC status numbers of the same codes. */
const GRPC_STATUS: { readonly [code: string]: number } = {
  invalid_argument: 3,
  deadline_exceeded: 4,
  permission_denied: 7,
  resource_exhausted: 8,
  internal: 13,
  unavailable: 14,
};

const MAX_MESSAGE = 300;
const CONNECT_STREAM_TYPE = /^application\/connect\+(?:json|proto)$/;
const GRPC_TYPE = /^application\/grpc(?:-web(?:-text)?)?(?:\+[a-z]+)?$/;

/** JSON with every non-ASCII character escaped, so its length is its byte length. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4));
}

/** gRPC's percent-encoding of grpc-message: UTF-8 bytes outside printable ASCII, and '%'. */
export function grpcMessage(message: string): string {
  let out = '';
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x25) {
      out += message.charAt(i);
      continue;
    }
    // A surrogate pair is one code point: encode both halves together.
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < message.length;
    const ch = pair ? message.slice(i, i + 2) : message.charAt(i);
    if (pair) i++;
    try {
      out += encodeURIComponent(ch);
    } catch (e) {
      out += '%3F'; // a lone surrogate has no UTF-8 form
    }
  }
  return out;
}

function bounded(message: string): string {
  return message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) + '…' : message;
}

export interface NginxFailure {
  /** nginx's status for the failure ($status inside error_page). */
  status: number;
  sandboxId: string;
  sandboxPort: string;
  /** Whether a connection to the upstream was made ($upstream_connect_time is a number). */
  upstreamConnected: boolean;
}

/** What nginx's own error status means for the client. */
export function errorForNginxStatus(f: NginxFailure): EdgeError {
  const target = f.sandboxId ? 'sandbox ' + quote(f.sandboxId) + ' port ' + quote(f.sandboxPort) : 'the sandbox';
  function edge(status: number, code: ErrorCode, message: string): EdgeError {
    return { status: status, code: code, message: message };
  }
  switch (f.status) {
    case 400:
    case 414:
    case 431:
    case 494:
      return edge(400, 'invalid_argument', 'request refused by the edge: malformed request for ' + target);
    case 403:
      return edge(403, 'permission_denied', 'request to ' + target + ' refused by the edge');
    case 408:
      return edge(408, 'deadline_exceeded', 'the request body for ' + target + ' did not arrive in time');
    case 413:
      return edge(413, 'resource_exhausted', 'request body for ' + target + ' is larger than the edge allows (client_max_body_size)');
    case 429:
      return edge(429, 'resource_exhausted', 'too many requests for ' + target);
    case 502:
      return edge(502, 'unavailable', target + ' is unavailable: ' +
        (f.upstreamConnected ? 'it closed the connection or sent an invalid response' : 'the edge could not connect to it'));
    case 503:
      return edge(503, 'unavailable', target + ' is unavailable');
    case 504:
      return edge(504, 'deadline_exceeded', target + (f.upstreamConnected ? ' did not answer in time' : ' did not accept a connection in time'));
    default:
      return edge(f.status >= 400 && f.status < 600 ? f.status : 500, 'internal', 'the edge failed to proxy the request to ' + target);
  }
}

/** The response for an edge error, in the format of the request's protocol. */
export function renderEdgeError(error: EdgeError, protocol: Protocol, contentType?: string): EdgeResponse {
  const message = bounded(error.message);
  const type = mediaType(contentType);
  if (protocol === 'connect_stream') {
    // Connect streaming: HTTP 200 and one end-stream envelope (flag 0x02) carrying the error.
    const body = asciiJson({ error: { code: error.code, message: message } });
    const n = body.length;
    return {
      status: 200,
      headers: { 'Content-Type': matches(type, CONNECT_STREAM_TYPE) ? type : 'application/connect+json' },
      prefix: [0x02, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff],
      body: body,
    };
  }
  if (protocol === 'grpc' || protocol === 'grpc_web') {
    // Trailers-only: the status travels in the headers of an empty 200 response.
    const fallback = protocol === 'grpc' ? 'application/grpc' : 'application/grpc-web';
    return {
      status: 200,
      headers: {
        'Content-Type': matches(type, GRPC_TYPE) ? type : fallback,
        'grpc-status': String(GRPC_STATUS[error.code]),
        'grpc-message': grpcMessage(message),
      },
      prefix: [],
      body: '',
    };
  }
  if (protocol === 'connect') {
    return {
      status: CONNECT_HTTP_STATUS[error.code],
      headers: { 'Content-Type': 'application/json' },
      prefix: [],
      body: asciiJson({ code: error.code, message: message }),
    };
  }
  // REST and anything else: envd's REST error shape, with the HTTP status as the code.
  return {
    status: error.status,
    headers: { 'Content-Type': 'application/json' },
    prefix: [],
    body: asciiJson({ code: error.status, message: message }),
  };
}
