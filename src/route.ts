// The three routing forms and their validation. Works on the raw request target ($request_uri),
// because that is what goes upstream: a check on nginx's normalised $uri would miss what envd sees.
import { matches } from './text';
import type { ClassifyOptions, RequestFacts, Rejection, Route } from './types';

/** E2B sandbox ids: lower-case letters and digits. 63 keeps `<port>-<id>` a plausible DNS label. */
export const DEFAULT_ID_CHARS = 'a-z0-9';
export const DEFAULT_ID_MAX_LENGTH = 63;
const DEFAULT_SANDBOX_ID = /^[a-z0-9]{1,63}$/;
/** Plain decimal, no sign, no leading zero. The range is checked separately. */
const PORT_DIGITS = /^[1-9][0-9]{0,4}$/;
/** Highest sandbox port. */
export const MAX_PORT = 65535;
/** CubeProxy's host form: `<port>-<id>.<domain>`. */
const HOST_FORM = /^([0-9]+)-([^.]+)\.(.+)$/;
const IPV4 = /^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$/;
/** Characters RFC 3986 calls unreserved: a router decodes them, so checks must too. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
/** Anything inspectPath must look at closely: escapes, backslashes, control bytes, `//`, `/.`. */
const SUSPICIOUS = /[%\\\x00-\x1f\x7f]|\/\/|\/\./;
const CONTROL = /[\x00-\x1f\x7f]/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
/** Longest reflected value quoted back in a message. */
const QUOTE_MAX = 64;
/** Longest request target the edge forwards (nginx's default large_client_header_buffers is 8k). */
export const MAX_TARGET_LENGTH = 8192;

export const PATH_PREFIX = '/sandbox/';

/** True when `ch` is in a charset spec such as `a-z0-9-` (single characters and ranges). */
function inCharset(spec: string, ch: string): boolean {
  for (let i = 0; i < spec.length; i++) {
    if (spec.charAt(i + 1) === '-' && i + 2 < spec.length) {
      if (ch >= spec.charAt(i) && ch <= spec.charAt(i + 2)) return true;
      i += 2;
    } else if (spec.charAt(i) === ch) {
      return true;
    }
  }
  return false;
}

export function isValidSandboxId(id: string, options?: ClassifyOptions): boolean {
  const chars = (options && options.idChars) || DEFAULT_ID_CHARS;
  const max = (options && options.idMaxLength) || DEFAULT_ID_MAX_LENGTH;
  if (chars === DEFAULT_ID_CHARS && max === DEFAULT_ID_MAX_LENGTH) return matches(id, DEFAULT_SANDBOX_ID);
  if (id.length < 1 || id.length > max) return false;
  for (let i = 0; i < id.length; i++) {
    if (!inCharset(chars, id.charAt(i))) return false;
  }
  return true;
}

export function isValidPort(port: string): boolean {
  return matches(port, PORT_DIGITS) && Number(port) <= MAX_PORT;
}

/** A value quoted back to the client: bounded, and JSON-escaped by whoever renders it. */
export function quote(value: string): string {
  return value.length > QUOTE_MAX ? '"' + value.slice(0, QUOTE_MAX) + '…"' : '"' + value + '"';
}

export function invalid(message: string): Rejection {
  return { status: 400, code: 'invalid_argument', message: message };
}

/** Lower-cased host without its port: `49983-abc.Example.com:8080` → `49983-abc.example.com`. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.charAt(0) === '[') {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/** Hosts on which the header form applies: `sandbox.<domain>`, localhost, or an IP literal. */
function acceptsHeaderRouting(name: string): boolean {
  return name === 'localhost' || name.indexOf('sandbox.') === 0 || matches(name, IPV4) || name.charAt(0) === '[';
}

export interface InspectedPath {
  /** The path as envd's router matches it: percent-encoded unreserved characters decoded. */
  path: string;
  /** Why the raw path must not be forwarded, or ''. */
  problem: string;
}

/** Decodes what a router would decode and finds what must never reach envd. */
export function inspectPath(raw: string): InspectedPath {
  if (raw.length > MAX_TARGET_LENGTH) return { path: raw, problem: 'request target longer than ' + MAX_TARGET_LENGTH + ' bytes' };
  // Most paths have nothing to decode or refuse: one search decides that.
  if (!matches(raw, SUSPICIOUS)) return { path: raw, problem: '' };
  if (matches(raw, CONTROL)) return { path: raw, problem: 'control characters in the path' };
  if (raw.indexOf('\\') >= 0) return { path: raw, problem: 'backslash in the path' };
  let path = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (ch !== '%') {
      path += ch;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!matches(hex, HEX2)) return { path: raw, problem: 'malformed percent-encoding in the path' };
    const code = parseInt(hex, 16);
    if (code < 0x20 || code === 0x7f) return { path: raw, problem: 'control characters in the path' };
    if (code === 0x2f) return { path: raw, problem: 'encoded slash in the path' };
    if (code === 0x5c) return { path: raw, problem: 'backslash in the path' };
    const decoded = String.fromCharCode(code);
    path += matches(decoded, UNRESERVED) ? decoded : '%' + hex.toUpperCase();
    i += 2;
  }
  if (path.indexOf('//') >= 0) return { path: path, problem: 'duplicate slashes in the path' };
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === '.' || segments[i] === '..') return { path: path, problem: 'dot segment in the path' };
  }
  return { path: path, problem: '' };
}

function splitTarget(uri: string): { path: string; query: string } {
  const q = uri.indexOf('?');
  return q < 0 ? { path: uri, query: '' } : { path: uri.slice(0, q), query: uri.slice(q) };
}

function rejected(form: Route['form'], uri: string, rejection: Rejection): Route {
  return { form: form, sandboxId: '', sandboxPort: '', upstreamUri: uri, path: pathOf(uri), rejection: rejection };
}

function checkIdentity(id: string, port: string, what: string, options?: ClassifyOptions): Rejection | undefined {
  if (!isValidSandboxId(id, options)) {
    const chars = (options && options.idChars) || DEFAULT_ID_CHARS;
    const max = (options && options.idMaxLength) || DEFAULT_ID_MAX_LENGTH;
    return invalid('invalid sandbox id ' + quote(id) + ' in the ' + what + ': expected 1-' + max + ' of [' + chars + ']');
  }
  if (!isValidPort(port)) return invalid('invalid sandbox port ' + quote(port) + ' in the ' + what + ': expected 1-65535 in plain decimal');
  return undefined;
}

/**
 * An E2b-Sandbox-* header's value, or undefined when it names nothing: absent, or empty. nginx's
 * $http_* variables cannot tell an empty header from an absent one, and the native fast path
 * (src/fast-path.ts) decides on them, so the core must not tell them apart either.
 */
function routingHeader(value: string | undefined): string | undefined {
  return value ? value : undefined;
}

/**
 * E2b-Sandbox-Id/-Port must not name another sandbox or port than the host or path does. They are
 * read as nginx reads them, like Content-Type: the fast path claims a request whose headers equal
 * its route, and must agree with this check on every nginx version.
 */
function conflict(req: RequestFacts, id: string, port: string): Rejection | undefined {
  const idHeader = routingHeader(req.sandboxIdHeaderAsRead !== undefined ? req.sandboxIdHeaderAsRead : req.sandboxIdHeader);
  const portHeader = routingHeader(req.sandboxPortHeaderAsRead !== undefined ? req.sandboxPortHeaderAsRead : req.sandboxPortHeader);
  if (idHeader !== undefined && idHeader !== id) {
    return invalid('conflicting sandbox ids: the route names ' + quote(id) + ' but E2b-Sandbox-Id names ' + quote(idHeader));
  }
  if (portHeader !== undefined && portHeader !== port) {
    return invalid('conflicting sandbox ports: the route names ' + quote(port) + ' but E2b-Sandbox-Port names ' + quote(portHeader));
  }
  return undefined;
}

/** A valid identity: check the path it forwards and the headers beside it. */
function accept(req: RequestFacts, form: Route['form'], id: string, port: string, upstreamUri: string, checkHeaders: boolean): Route {
  const upstream = splitTarget(upstreamUri);
  const inspected = inspectPath(upstream.path);
  if (inspected.problem) return rejected(form, req.uri, invalid(inspected.problem));
  const clash = checkHeaders ? conflict(req, id, port) : undefined;
  if (clash) return rejected(form, req.uri, clash);
  return { form: form, sandboxId: id, sandboxPort: port, upstreamUri: upstreamUri, path: inspected.path };
}

export function parseRoute(req: RequestFacts, options?: ClassifyOptions): Route {
  const uri = req.uri;
  const target = splitTarget(uri);
  const name = hostName(req.host);

  const host = HOST_FORM.exec(name);
  if (host) {
    const bad = checkIdentity(host[2], host[1], 'host', options);
    if (bad) return rejected('host', uri, bad);
    return accept(req, 'host', host[2], host[1], uri, true);
  }

  if (target.path === '/sandbox' || target.path.indexOf(PATH_PREFIX) === 0) {
    // Check the whole raw path first: /sandbox/../x must fail as a dot segment, not as an id.
    const inspected = inspectPath(target.path);
    if (inspected.problem) return rejected('path', uri, invalid(inspected.problem));
    const parts = target.path.split('/'); // ['', 'sandbox', id, port, ...rest]
    if (parts.length < 4) return rejected('path', uri, invalid('path route must be /sandbox/<id>/<port>/<path>'));
    const bad = checkIdentity(parts[2], parts[3], 'path', options);
    if (bad) return rejected('path', uri, bad);
    return accept(req, 'path', parts[2], parts[3], '/' + parts.slice(4).join('/') + target.query, true);
  }

  const idHeader = routingHeader(req.sandboxIdHeader);
  const portHeader = routingHeader(req.sandboxPortHeader);
  if (acceptsHeaderRouting(name) && (idHeader !== undefined || portHeader !== undefined)) {
    if (idHeader === undefined || portHeader === undefined) {
      return rejected('header', uri, invalid('E2b-Sandbox-Id and E2b-Sandbox-Port must be sent together'));
    }
    const bad = checkIdentity(idHeader, portHeader, 'E2b-Sandbox-* headers', options);
    if (bad) return rejected('header', uri, bad);
    return accept(req, 'header', idHeader, portHeader, uri, false);
  }

  // Not envd traffic: nothing is forwarded by envd-edge, the path is only read for the RPC name.
  const inspected = inspectPath(target.path);
  return { form: 'none', sandboxId: '', sandboxPort: '', upstreamUri: uri, path: inspected.problem ? target.path : inspected.path };
}

export function queryOf(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? '' : uri.slice(q + 1);
}

export function pathOf(uri: string): string {
  return splitTarget(uri).path;
}
