// The three routing forms and their validation. Works on the raw request target ($request_uri),
// because that is what goes upstream: a check on nginx's normalised $uri would miss what envd sees.
import type { RequestFacts, Rejection, Route } from './types';

/** E2B sandbox ids: lower-case letters and digits. 63 keeps `<port>-<id>` a plausible DNS label. */
const SANDBOX_ID = /^[a-z0-9]{1,63}$/;
/** Plain decimal, no sign, no leading zero. The range is checked separately. */
const PORT_DIGITS = /^[1-9][0-9]{0,4}$/;
/** CubeProxy's host form: `<port>-<id>.<domain>`. */
const HOST_FORM = /^([0-9]+)-([^.]+)\.(.+)$/;
const IPV4 = /^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$/;
/** Longest reflected value quoted back in a message. */
const QUOTE_MAX = 64;

export const PATH_PREFIX = '/sandbox/';

export function isValidSandboxId(id: string): boolean {
  return SANDBOX_ID.test(id);
}

export function isValidPort(port: string): boolean {
  return PORT_DIGITS.test(port) && Number(port) <= 65535;
}

/** A value quoted back to the client: bounded, and JSON-escaped by whoever renders it. */
export function quote(value: string): string {
  return value.length > QUOTE_MAX ? '"' + value.slice(0, QUOTE_MAX) + '…"' : '"' + value + '"';
}

function invalid(message: string): Rejection {
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
  return name === 'localhost' || name.indexOf('sandbox.') === 0 || IPV4.test(name) || name.charAt(0) === '[';
}

/** Why a raw path is unsafe to forward, or '' when it is fine. */
export function pathProblem(path: string): string {
  // Control bytes (raw or encoded NUL) never belong in a request target.
  if (/[\x00-\x1f\x7f]/.test(path) || /%00/i.test(path)) return 'control characters in the path';
  if (path.indexOf('\\') >= 0 || /%5c/i.test(path)) return 'backslash in the path';
  const segments = path.replace(/%2e/gi, '.').split('/');
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === '.' || segments[i] === '..') return 'dot segment in the path';
  }
  return '';
}

function splitTarget(uri: string): { path: string; query: string } {
  const q = uri.indexOf('?');
  return q < 0 ? { path: uri, query: '' } : { path: uri.slice(0, q), query: uri.slice(q) };
}

function route(form: Route['form'], id: string, port: string, upstreamUri: string): Route {
  return { form: form, sandboxId: id, sandboxPort: port, upstreamUri: upstreamUri };
}

function rejected(form: Route['form'], uri: string, rejection: Rejection): Route {
  return { form: form, sandboxId: '', sandboxPort: '', upstreamUri: uri, rejection: rejection };
}

function checkIdentity(id: string, port: string, what: string): Rejection | undefined {
  if (!isValidSandboxId(id)) return invalid('invalid sandbox id ' + quote(id) + ' in the ' + what + ': expected 1-63 of [a-z0-9]');
  if (!isValidPort(port)) return invalid('invalid sandbox port ' + quote(port) + ' in the ' + what + ': expected 1-65535');
  return undefined;
}

/** The E2b-Sandbox-Id header must not name another sandbox than the host or path does. */
function conflict(req: RequestFacts, id: string): Rejection | undefined {
  const header = req.sandboxIdHeader;
  if (header === undefined || header === id) return undefined;
  return invalid('conflicting sandbox ids: the route names ' + quote(id) + ' but E2b-Sandbox-Id names ' + quote(header));
}

function finish(req: RequestFacts, r: Route, path: string): Route {
  const problem = pathProblem(path);
  if (problem) return rejected(r.form, req.uri, invalid(problem));
  const clash = conflict(req, r.sandboxId);
  return clash ? rejected(r.form, req.uri, clash) : r;
}

export function parseRoute(req: RequestFacts): Route {
  const uri = req.uri;
  const target = splitTarget(uri);
  const name = hostName(req.host);

  const host = HOST_FORM.exec(name);
  if (host) {
    const bad = checkIdentity(host[2], host[1], 'host');
    if (bad) return rejected('host', uri, bad);
    return finish(req, route('host', host[2], host[1], uri), target.path);
  }

  if (target.path === '/sandbox' || target.path.indexOf(PATH_PREFIX) === 0) {
    const parts = target.path.split('/'); // ['', 'sandbox', id, port, ...rest]
    if (parts.length < 4) return rejected('path', uri, invalid('path route must be /sandbox/<id>/<port>/<path>'));
    const bad = checkIdentity(parts[2], parts[3], 'path');
    if (bad) return rejected('path', uri, bad);
    const rest = '/' + parts.slice(4).join('/');
    return finish(req, route('path', parts[2], parts[3], rest + target.query), target.path);
  }

  const idHeader = req.sandboxIdHeader;
  const portHeader = req.sandboxPortHeader;
  if (acceptsHeaderRouting(name) && (idHeader !== undefined || portHeader !== undefined)) {
    if (idHeader === undefined || portHeader === undefined) {
      return rejected('header', uri, invalid('E2b-Sandbox-Id and E2b-Sandbox-Port must be sent together'));
    }
    const bad = checkIdentity(idHeader, portHeader, 'E2b-Sandbox-* headers');
    if (bad) return rejected('header', uri, bad);
    return finish(req, route('header', idHeader, portHeader, uri), target.path);
  }

  return route('none', '', '', uri);
}

export function queryOf(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? '' : uri.slice(q + 1);
}

export function pathOf(uri: string): string {
  return splitTarget(uri).path;
}
