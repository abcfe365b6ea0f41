// Build-time only (build.mjs and the tests; njs/ never imports it): the nginx `map` blocks of the
// native fast path, dist/envd-fast-path.conf, generated from the catalog and from the route,
// protocol and policy rules of this core.
//
// nginx computes a map's value only when its variable is read, then keeps it for the request.
// Each documented variable ($envd_location, $envd_upstream_uri, ...) is a map: its native entries
// decide the requests whose classification is certain from what nginx itself sees, and its
// default is the njs variable of the same name plus `_js`. njs runs only for the other requests.
import { ENVD_REST_CATALOG, ENVD_RPC_CATALOG } from './catalog';
import { decideMode, dispatchLocation } from './policy';
import { CONNECT_UNARY_MEDIA_TYPES, SSE_MEDIA_TYPE, detectProtocol, isStreamingProtocol } from './protocol';
import { DEFAULT_ID_CHARS, DEFAULT_ID_MAX_LENGTH, MAX_PORT, PATH_PREFIX, inspectPath } from './route';
import { identifyRpc } from './rpc';
import type { Mode, Protocol, RouteForm, RpcKind } from './types';

/** File name of the generated config, in dist/ and beside envd.js in conf.d/envd/. */
export const FAST_PATH_CONF = 'envd-fast-path.conf';

/** The variables README "Variables" documents; each `$<name>_js` is its njs js_set twin. */
export const DOCUMENTED_VARIABLES: readonly string[] = [
  'envd_mode',
  'envd_route',
  'envd_rpc',
  'envd_sandbox_id',
  'envd_sandbox_port',
  'envd_upstream_uri',
  'envd_location',
];

export interface MapEntry {
  /** An exact key, or `~` and a regex (PCRE, written so JavaScript's RegExp reads it the same). */
  key: string;
  /** Text, `$1`, variables. */
  value: string;
}

export interface NginxMap {
  comment: readonly string[];
  /** The map's source: text and variables. */
  source: string;
  /** Without `$`. */
  variable: string;
  entries: readonly MapEntry[];
  /** `default`: the value when no entry matches. */
  fallback: string;
}

/** The route decision reads these, one a line: no target, header or Host can hold a newline. */
export const ROUTE_KEY_FIELDS: readonly { variable: string; role: string }[] = [
  { variable: 'request_uri', role: 'the raw target (path and query) as it goes upstream' },
  { variable: 'http_host', role: 'the host form <port>-<id>.<domain>, or no sandbox' },
  { variable: 'http_e2b_sandbox_id', role: 'empty, or the id the route names (as the SDK sends it): njs checks any other' },
  { variable: 'http_e2b_sandbox_port', role: 'empty, or the port the route names, as above' },
  { variable: 'http_upgrade', role: 'empty: an upgrade may turn the request into a tunnel' },
  { variable: 'envd_fast_media', role: 'unary (Content-Type and Accept leave the request unstreamed) for buffer endpoints; streams take any' },
  { variable: 'envd_sandbox_id_chars', role: 'settings: the defaults the id pattern is built for' },
  { variable: 'envd_sandbox_id_max_length', role: 'settings, as above' },
];

/** What $envd_fast_media reads: Content-Type, then Accept. */
export const MEDIA_KEY_FIELDS: readonly string[] = ['content_type', 'http_accept'];

/** Accept values the media map knows by exact key (nginx compares exact keys case-insensitively). */
const QUIET_ACCEPTS: readonly string[] = ['', '*/*'];

/**
 * Media types the fast path may claim besides an empty Content-Type: Connect unary calls and
 * the bodies of envd's REST endpoints. Each is checked against detectProtocol at generation.
 */
const NON_STREAMING_MEDIA_TYPES: readonly string[] = CONNECT_UNARY_MEDIA_TYPES.concat([
  'multipart/form-data',
  'application/octet-stream',
]);

const LINE = '[^\n]*';

/** `s` as a regex that matches it literally. */
export function literal(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

function anyDigits(n: number): string {
  return n === 0 ? '' : n === 1 ? '[0-9]' : '[0-9]{' + n + '}';
}

/** Plain decimal 1..max: no sign, no leading zero (isValidPort's rule). */
export function decimalRange(max: number): string {
  const digits = String(max);
  const n = digits.length;
  if (n === 1) return '[1-' + digits + ']';
  // Fewer digits than max: any. Then max's first i digits, a smaller digit, any digits; then max.
  const parts: string[] = ['[1-9]' + (n > 2 ? '[0-9]{0,' + (n - 2) + '}' : '')];
  for (let i = 0; i < n; i++) {
    const d = Number(digits.charAt(i));
    const lowest = i === 0 ? 1 : 0;
    if (d > lowest) parts.push(digits.slice(0, i) + '[' + lowest + '-' + (d - 1) + ']' + anyDigits(n - i - 1));
  }
  parts.push(digits);
  return '(?:' + parts.join('|') + ')';
}

/** A charset spec of the `$envd_sandbox_id_chars` kind (`a-z0-9-`) as a regex class. */
export function charsetClass(spec: string): string {
  const escape = (ch: string) => (/[\\\]^[-]/.test(ch) ? '\\' + ch : ch);
  let out = '';
  for (let i = 0; i < spec.length; i++) {
    if (spec.charAt(i + 1) === '-' && i + 2 < spec.length) {
      out += escape(spec.charAt(i)) + '-' + escape(spec.charAt(i + 2));
      i += 2;
    } else {
      out += escape(spec.charAt(i));
    }
  }
  return '[' + out + ']';
}

const ID = charsetClass(DEFAULT_ID_CHARS) + '{1,' + DEFAULT_ID_MAX_LENGTH + '}';
const PORT = decimalRange(MAX_PORT);

/** Protocols a request with unary media (see checkMediaTypes) can have. */
const NATIVE_PROTOCOLS: readonly Protocol[] = ['connect', 'http'];
/** Every protocol, so the compiler lists a new one here too. */
const ALL_PROTOCOLS: { readonly [p in Protocol]: true } = {
  connect: true, connect_stream: true, grpc: true, grpc_web: true, sse: true, websocket: true, http: true,
};
/** Protocols a request without `Upgrade` can have: every claim requires $http_upgrade empty. */
const NON_UPGRADE_PROTOCOLS = (Object.keys(ALL_PROTOCOLS) as Protocol[]).filter((p) => p !== 'websocket');
const CLAIMED_ROUTES: readonly RouteForm[] = ['path', 'host'];
/** Modes the fast path decides (upgrade and reject are rare, and njs writes the refusals). */
const CLAIMED_MODES: readonly Mode[] = ['buffer', 'stream', 'duplex'];

function fail(message: string): never {
  throw new Error('fast path: ' + message);
}

/**
 * The media map's regex, read case-insensitively (`~*`), as mediaType() and accepts() read
 * their headers: Content-Type empty or a listed type with any parameters, then an Accept
 * that does not name text/event-stream anywhere (Unicode case mapping turns no other
 * character into one of its letters, so `accepts` cannot find it where this does not).
 */
function mediaPattern(): string {
  const types = NON_STREAMING_MEDIA_TYPES.map(literal).join('|');
  return '^(?:(?:' + types + ')(?:[ \t]*;' + LINE + ')?)?\n(?!' + LINE + literal(SSE_MEDIA_TYPE) + ')';
}

/** Header conditions leave only non-streaming protocols: proved on the core, or the build fails. */
function checkMediaTypes(): void {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
  const types = [''].concat(NON_STREAMING_MEDIA_TYPES);
  for (let t = 0; t < types.length; t++) {
    for (let m = 0; m < methods.length; m++) {
      const queries = ['', 'connect=v1'];
      for (let q = 0; q < queries.length; q++) {
        const p = detectProtocol({ method: methods[m], query: queries[q], contentType: types[t] + '; charset=utf-8', accept: '*/*' });
        if (NATIVE_PROTOCOLS.indexOf(p) < 0 || isStreamingProtocol(p)) {
          fail('media type "' + types[t] + '" is ' + p + ' for ' + methods[m] + ', not one the fast path may claim');
        }
      }
    }
  }
}

/** The mode a catalog kind gets on every claimed route, protocol and setting, or '' when it varies. */
function certainMode(kind: RpcKind, protocols: readonly Protocol[]): Mode | '' {
  let mode: Mode | '' = '';
  for (let r = 0; r < CLAIMED_ROUTES.length; r++) {
    for (let p = 0; p < protocols.length; p++) {
      for (let a = 0; a < 2; a++) {
        const m = decideMode({ route: CLAIMED_ROUTES[r], routeValid: true, kind: kind, protocol: protocols[p], allowInternal: a === 1 });
        if (mode && m !== mode) return '';
        mode = m;
      }
    }
  }
  return CLAIMED_MODES.indexOf(mode as Mode) >= 0 ? mode : '';
}

export interface ClaimedEndpoint {
  /** As $envd_rpc shows it: `process.Process/List`, `/files`. */
  rpc: string;
  /** The path after the host (or after /sandbox/<id>/<port>), as a regex. */
  pathPattern: string;
  mode: Mode;
  /** The claim holds only when $envd_fast_media is `unary` (the mode depends on the protocol). */
  unaryMediaOnly: boolean;
}

/** How the fast path may claim a kind: its mode whatever the media, else its mode for unary media. */
function claimOf(kind: RpcKind): { mode: Mode; unaryMediaOnly: boolean } | null {
  const any = certainMode(kind, NON_UPGRADE_PROTOCOLS);
  if (any) return { mode: any, unaryMediaOnly: false };
  const unary = certainMode(kind, NATIVE_PROTOCOLS);
  return unary ? { mode: unary, unaryMediaOnly: true } : null;
}

/**
 * Catalog entries the fast path claims: those whose mode is certain whatever the route and the
 * internal-paths setting: server and client streams whatever the media, unary methods and REST
 * for unary media. Each entry's paths are checked on the core (identifyRpc, inspectPath) so the
 * regex cannot name something njs would read otherwise.
 */
export function claimedEndpoints(): ClaimedEndpoint[] {
  const out: ClaimedEndpoint[] = [];
  const rpcs = Object.keys(ENVD_RPC_CATALOG);
  for (let i = 0; i < rpcs.length; i++) {
    const name = rpcs[i];
    const claim = claimOf(ENVD_RPC_CATALOG[name]);
    if (!claim) continue;
    expectRpc('/' + name, name);
    out.push({ rpc: name, pathPattern: '/' + literal(name), mode: claim.mode, unaryMediaOnly: claim.unaryMediaOnly });
  }
  const rests = Object.keys(ENVD_REST_CATALOG);
  for (let i = 0; i < rests.length; i++) {
    const name = rests[i];
    const claim = claimOf(ENVD_REST_CATALOG[name]);
    if (!claim) continue;
    expectRpc(name, name);
    expectRpc(name + '/', name);
    out.push({ rpc: name, pathPattern: literal(name) + '/?', mode: claim.mode, unaryMediaOnly: claim.unaryMediaOnly });
  }
  return out;
}

function expectRpc(path: string, name: string): void {
  if (!/^\/[A-Za-z0-9_][A-Za-z0-9_./]*$/.test(path) || inspectPath(path).problem) fail('catalog path ' + path + ' is not a plain path');
  if (identifyRpc(path).name !== name) fail('catalog path ' + path + ' identifies as "' + identifyRpc(path).name + '", not "' + name + '"');
}

/** A regex of the route key: `^` and one pattern a field (missing trailing fields match anything). */
function keyPattern(fields: readonly string[]): string {
  if (fields.length > ROUTE_KEY_FIELDS.length) fail('more patterns than key fields');
  return '^' + fields.join('\n') + (fields.length === ROUTE_KEY_FIELDS.length ? '$' : '\n');
}

/** The value $envd_fast_media gives a request the fast path may claim. */
export const UNARY_MEDIA = 'unary';

/** Named captures of the route regexes: nginx sets each as a variable when its regex matches. */
export const CAPTURES = {
  pathSandboxId: 'envd_fast_path_sandbox_id',
  pathSandboxPort: 'envd_fast_path_sandbox_port',
  pathUpstreamUri: 'envd_fast_path_upstream_uri',
  hostSandboxId: 'envd_fast_host_sandbox_id',
  hostSandboxPort: 'envd_fast_host_sandbox_port',
};

const named = (name: string, pattern: string) => '(?<' + name + '>' + pattern + ')';

export interface RouteClaim {
  /** The value $envd_fast_route takes: `<route>:<mode>`, or `none`. */
  value: string;
  route: RouteForm;
  /** '' for `none`: the mode of a request with no sandbox depends on more than the route. */
  mode: Mode | '';
  pattern: string;
  comment: string;
}

/** $envd_fast_route's value for a claim of the host or path form. */
export function claimValue(route: RouteForm, mode: Mode): string {
  return route + ':' + mode;
}

/** The native claims of $envd_fast_route, in the order nginx tries them: unary calls first. */
export function routeClaims(endpoints: readonly ClaimedEndpoint[] = claimedEndpoints()): RouteClaim[] {
  checkMediaTypes();
  const query = '(?:\\?' + LINE + ')?';
  // No `<digits>-` at the start, so the host form cannot match (trimming, case and a port do
  // not change that prefix), and a first character that no trimming removes.
  const notHostForm = '(?![0-9]+-)[A-Za-z0-9\\[]' + LINE;
  const hostForm = named(CAPTURES.hostSandboxPort, PORT) + '-' + named(CAPTURES.hostSandboxId, ID) + '\\.[A-Za-z0-9._-]+(?::[0-9]*)?';
  // E2b-Sandbox-Id/-Port: absent (or empty), or equal to what the route names, as the e2b SDK
  // sends them on every call; any other value is njs's to refuse.
  const sameAs = (capture: string) => '(?:\\k<' + capture + '>)?';
  const rest = (idCapture: string, portCapture: string, media: string) =>
    [sameAs(idCapture), sameAs(portCapture), '', media, literal(DEFAULT_ID_CHARS), literal(String(DEFAULT_ID_MAX_LENGTH))];
  const sandboxPrefix = literal(PATH_PREFIX.slice(0, -1));
  const claims: RouteClaim[] = [];
  for (let m = 0; m < CLAIMED_MODES.length; m++) {
    const mode = CLAIMED_MODES[m];
    const group = endpoints.filter((e) => e.mode === mode);
    if (group.length === 0) continue;
    const unaryOnly = group[0].unaryMediaOnly;
    if (group.some((e) => e.unaryMediaOnly !== unaryOnly)) fail('the ' + mode + ' endpoints differ in what media they need');
    const media = unaryOnly ? literal(UNARY_MEDIA) : LINE;
    const what = 'a ' + mode + ' endpoint of the catalog, ' + (unaryOnly ? 'unary media' : 'any media');
    const paths = '(?:' + group.map((e) => e.pathPattern).join('|') + ')';
    const pathTarget = literal(PATH_PREFIX) + named(CAPTURES.pathSandboxId, ID) + '/' + named(CAPTURES.pathSandboxPort, PORT) +
      named(CAPTURES.pathUpstreamUri, paths + query);
    claims.push({
      value: claimValue('path', mode),
      route: 'path',
      mode: mode,
      pattern: keyPattern([pathTarget, notHostForm].concat(rest(CAPTURES.pathSandboxId, CAPTURES.pathSandboxPort, media))),
      comment: 'path form ' + PATH_PREFIX + '<id>/<port>/..., ' + what + ', routing headers absent or the same',
    });
    claims.push({
      value: claimValue('host', mode),
      route: 'host',
      mode: mode,
      pattern: keyPattern([paths + query, hostForm].concat(rest(CAPTURES.hostSandboxId, CAPTURES.hostSandboxPort, media))),
      comment: 'host form <port>-<lower-case id>.<domain>, ' + what + ', routing headers absent or the same',
    });
  }
  claims.push({
    value: 'none',
    route: 'none',
    mode: '',
    pattern: keyPattern(['(?!' + sandboxPrefix + '[/?\n])' + LINE, notHostForm, '', '']),
    comment: 'no sandbox: not the host form, not ' + PATH_PREFIX + '..., no routing header (settings do not matter)',
  });
  return claims;
}

const js = (name: string) => '$' + name + '_js';

function byRoute(variable: string, comment: string[], values: { [route: string]: string }): NginxMap {
  const routes = Object.keys(values);
  return {
    comment: comment,
    source: '$envd_fast_route',
    variable: variable,
    entries: routes.map((route) => ({ key: route, value: values[route] })),
    fallback: js(variable),
  };
}

/** Exact keys of the media map: Content-Type and Accept pairs clients send most. */
function mediaExactKeys(): string[] {
  const keys: string[] = [];
  const types = [''].concat(CONNECT_UNARY_MEDIA_TYPES);
  for (let t = 0; t < types.length; t++) {
    for (let a = 0; a < QUIET_ACCEPTS.length; a++) keys.push(types[t] + '\n' + QUIET_ACCEPTS[a]);
  }
  return keys;
}

/**
 * Every map of the generated file. native: false keeps the variables and drops every native entry,
 * so njs decides every request (the reference the tests compare the fast path with).
 */
export function fastPathMaps(
  native: boolean,
  endpoints: readonly ClaimedEndpoint[] = native ? claimedEndpoints() : [],
  claims: readonly RouteClaim[] = native ? routeClaims(endpoints) : [],
): NginxMap[] {
  /** One entry a claim: `value(claim)`, or none where it gives undefined (njs decides). */
  const perClaim = (value: (c: RouteClaim) => string | undefined) => {
    const out: { [claim: string]: string } = {};
    for (let i = 0; i < claims.length; i++) {
      const v = value(claims[i]);
      if (v !== undefined) out[claims[i].value] = v;
    }
    return out;
  };
  const bySandbox = (path: string, host: string, none: string | undefined) =>
    perClaim((c) => (c.route === 'path' ? path : c.route === 'host' ? host : none));
  const rpcs = endpoints.filter((e) => e.rpc.charAt(0) !== '/').map((e) => literal(e.rpc));
  const rests = endpoints.filter((e) => e.rpc.charAt(0) === '/').map((e) => literal(e.rpc));
  const media: MapEntry[] = native
    ? mediaExactKeys().map((key) => ({ key: key, value: UNARY_MEDIA })).concat([{ key: '~*' + mediaPattern(), value: UNARY_MEDIA }])
    : [];
  const maps: NginxMap[] = [
    {
      comment: [
        'Whether Content-Type and Accept leave the request unstreamed (' + UNARY_MEDIA + '). Exact keys first:',
        'nginx compares them case-insensitively, as media types are.',
      ],
      source: MEDIA_KEY_FIELDS.map((f) => '$' + f).join('\n'),
      variable: 'envd_fast_media',
      entries: media,
      fallback: 'other',
    },
    {
      comment: [
        'What the native entries decided: <route>:<mode>, or none; empty when njs decides.',
        'The key is every input of that decision, one a line (no target or header holds a newline):',
      ].concat(ROUTE_KEY_FIELDS.map((f, i) => '  ' + (i + 1) + '. $' + f.variable + ': ' + f.role)).concat([
        'Named captures set $' + CAPTURES.pathSandboxId + ' and the like, and $1...: server.inc reads',
        '$envd_location before any location matches, so no location\'s own $1 is overwritten.',
      ]),
      source: ROUTE_KEY_FIELDS.map((f) => '$' + f.variable).join('\n'),
      variable: 'envd_fast_route',
      entries: claims.map((c) => ({ key: '~' + c.pattern, value: c.value })),
      fallback: '',
    },
    byRoute('envd_location', ['Read by server.inc\'s dispatch on every request.'],
      perClaim((c) => dispatchLocation(c.route, c.mode || 'buffer'))),
    byRoute('envd_upstream_uri', ['Read by proxy.inc\'s proxy_pass: the raw target, /sandbox/<id>/<port> stripped for the path form.'],
      bySandbox('$' + CAPTURES.pathUpstreamUri, '$request_uri', '$request_uri')),
    byRoute('envd_route', [], perClaim((c) => c.route)),
    byRoute('envd_mode', ['Requests with no sandbox keep njs\'s mode: it depends on their path and headers.'],
      perClaim((c) => c.mode || undefined)),
    byRoute('envd_sandbox_id', [], bySandbox('$' + CAPTURES.pathSandboxId, '$' + CAPTURES.hostSandboxId, '')),
    byRoute('envd_sandbox_port', [], bySandbox('$' + CAPTURES.pathSandboxPort, '$' + CAPTURES.hostSandboxPort, '')),
    byRoute('envd_rpc', ['Requests with no sandbox keep njs\'s reading of their path.'], bySandbox('$envd_fast_rpc', '$envd_fast_rpc', undefined)),
  ];
  if (!native) return maps;
  return maps.concat([
    {
      comment: ['The catalog name of a natively decided request (read only through $envd_rpc).'],
      source: '$envd_upstream_uri',
      variable: 'envd_fast_rpc',
      entries: [
        { key: '~^/(' + rpcs.join('|') + ')(?:\\?|$)', value: '$1' },
        { key: '~^(' + rests.join('|') + ')/?(?:\\?|$)', value: '$1' },
      ].filter((_entry, i) => (i === 0 ? rpcs : rests).length > 0),
      fallback: js('envd_rpc'),
    },
  ]);
}

/** A string as one nginx config token: quoted, a newline or tab written as `\n`, `\t`. */
export function nginxToken(s: string): string {
  // nginx's parser turns \" \' \\ \n \r \t inside a token into one character: keep them out.
  if (/["\r]|\\["'\\nrt]/.test(s)) fail('cannot write ' + JSON.stringify(s) + ' as an nginx token');
  return '"' + s.replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';
}

/**
 * nginx refuses a map whose exact key does not fit map_hash_bucket_size (default: the CPU's cache
 * line) beside two pointers. 22 bytes fit the smallest default, 32 bytes with 4-byte pointers.
 */
const MAX_EXACT_KEY = 22;

function renderMap(m: NginxMap): string {
  m.entries.forEach((e) => {
    if (e.key.charAt(0) !== '~' && e.key.length > MAX_EXACT_KEY) fail('exact key ' + JSON.stringify(e.key) + ' does not fit the smallest map hash bucket');
  });
  const lines: string[] = m.comment.filter(Boolean).map((c) => '# ' + c);
  lines.push('map ' + nginxToken(m.source) + ' $' + m.variable + ' {');
  for (let i = 0; i < m.entries.length; i++) {
    lines.push('    ' + nginxToken(m.entries[i].key) + ' ' + nginxToken(m.entries[i].value) + ';');
  }
  lines.push('    default ' + nginxToken(m.fallback) + ';');
  lines.push('}');
  return lines.join('\n');
}

/** The generated file. */
export function renderFastPathConf(native: boolean): string {
  const endpoints = native ? claimedEndpoints() : [];
  const claims = native ? routeClaims(endpoints) : [];
  const header = [
    '# envd-edge native fast path, http context: GENERATED by build.mjs from src/fast-path.ts, the',
    '# catalog (src/catalog.ts) and the route rules (src/route.ts) - do not edit, run `npm run build`.',
    '# Included by conf.d/envd.conf; install it as conf.d/envd/' + FAST_PATH_CONF + '.',
    '#',
    '# Each documented variable is a map. nginx computes a map only when the variable is read, and',
    '# njs (the $..._js variables of envd.conf) only runs through a map\'s default: for a request the',
    '# native entries decide, no njs code runs at all. `pcre_jit on;` in nginx.conf\'s main context',
    '# makes the regexes below cheaper.',
  ];
  if (native) {
    header.push('#', '# Native entries of $envd_fast_route (in the order nginx tries them):');
    for (let i = 0; i < claims.length; i++) header.push('#   ' + claims[i].value + ': ' + claims[i].comment);
  } else {
    header.push('#', '# This variant has no native entries: njs decides every request.');
  }
  return header.join('\n') + '\n\n' + fastPathMaps(native, endpoints, claims).map(renderMap).join('\n\n') + '\n';
}
