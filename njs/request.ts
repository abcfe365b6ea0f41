// Reads the facts the core needs from an njs request. The only place that knows r's shape.
import type { Classification, ClassifyOptions, RequestFacts } from '../src/types';
import { classifyRequest } from '../src/classify';

/** A request header with all its lines joined (njs joins repeated headers with `,`). */
function header(r: NginxHTTPRequest, name: string): string | undefined {
  const value = r.headersIn[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A header as nginx's own variable reads it ($content_type, $http_accept, ...): nginx 1.22 gives
 * the first line of a repeated header, later versions all lines joined. The native fast path
 * (conf.d/envd/envd-fast-path.conf) decides on these same variables, so njs must read them too.
 */
function variable(r: NginxHTTPRequest, name: string): string | undefined {
  const value = r.variables[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * E2b-Sandbox-Id/-Port: sent when nginx's $http_ variable is not empty, and then every line
 * joined, so a repeated header never passes for a single value. An empty first line counts as
 * no header: the fast path sees only the first line on nginx 1.22 and must agree with njs.
 */
function routingHeader(r: NginxHTTPRequest, name: string, variableName: string): string | undefined {
  return variable(r, variableName) ? header(r, name) : undefined;
}

export function requestFacts(r: NginxHTTPRequest): RequestFacts {
  return {
    method: r.method,
    host: header(r, 'Host') || r.variables.host || '',
    uri: r.variables.request_uri || r.uri,
    contentType: variable(r, 'content_type'),
    accept: variable(r, 'http_accept'),
    upgrade: variable(r, 'http_upgrade'),
    connection: header(r, 'Connection'),
    sandboxIdHeader: routingHeader(r, 'E2b-Sandbox-Id', 'http_e2b_sandbox_id'),
    sandboxPortHeader: routingHeader(r, 'E2b-Sandbox-Port', 'http_e2b_sandbox_port'),
    sandboxIdHeaderAsRead: variable(r, 'http_e2b_sandbox_id'),
    sandboxPortHeaderAsRead: variable(r, 'http_e2b_sandbox_port'),
  };
}

/** Settings from the js_var variables of conf.d/envd.conf (overridable with `set`). */
export function classifyOptions(r: NginxHTTPRequest): ClassifyOptions {
  const v = r.variables;
  const max = Number(v.envd_sandbox_id_max_length);
  return {
    allowInternal: v.envd_internal_paths === 'allow',
    idChars: v.envd_sandbox_id_chars || undefined,
    idMaxLength: max >= 1 && max <= 255 && Math.floor(max) === max ? max : undefined,
  };
}

export function classify(r: NginxHTTPRequest): Classification {
  return classifyRequest(requestFacts(r), classifyOptions(r));
}

/** The fields the js_set variables expose, in the order they are kept in $envd_memo. */
export interface Fields {
  mode: string;
  route: string;
  sandboxId: string;
  sandboxPort: string;
  rpc: string;
  upstreamUri: string;
}

const SEPARATOR = '\n'; // never in a request target nginx accepted, nor in a validated id
/** The order of the fields in $envd_memo: written and read by this one list. */
const MEMO_FIELDS: readonly (keyof Fields)[] = ['mode', 'route', 'sandboxId', 'sandboxPort', 'rpc', 'upstreamUri'];

/**
 * The request's fields, classified once per request: the first js_set variable read stores them
 * in the js_var $envd_memo, later ones (after the dispatch rewrite too) read them back. Nothing is
 * kept at module scope, where QuickJS would share it between requests.
 */
export function fields(r: NginxHTTPRequest): Fields {
  const memo = r.variables.envd_memo;
  const values = memo ? memo.split(SEPARATOR) : [];
  if (!memo) {
    const c = classify(r);
    for (let i = 0; i < MEMO_FIELDS.length; i++) values.push(c[MEMO_FIELDS[i]]);
    const joined = values.join(SEPARATOR);
    // A value holding the separator would not read back: such a request is classified again.
    if (joined.split(SEPARATOR).length === MEMO_FIELDS.length) r.variables.envd_memo = joined;
  }
  const out = {} as Fields;
  for (let i = 0; i < MEMO_FIELDS.length; i++) out[MEMO_FIELDS[i]] = values[i];
  return out;
}

/**
 * Runs `read` over the request's fields; on any exception logs one line with r.error
 * and returns `fallback`, so a js_set variable never fails the request.
 */
export function safely(r: NginxHTTPRequest, variable: string, fallback: string, read: (f: Fields) => string): string {
  try {
    return read(fields(r));
  } catch (e) {
    r.error('envd-edge: $' + variable + ' fell back to "' + fallback + '": ' + String(e));
    return fallback;
  }
}
