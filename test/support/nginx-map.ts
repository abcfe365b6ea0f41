// nginx's `map` evaluation, in Node: the generated fast-path maps (src/fast-path.ts) run over one
// request's variables, so the unit tests can compare every native decision with classifyRequest.
// The real nginx run of the same maps is test/integration/fast-path.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyRequest } from '../../src/classify';
import { DOCUMENTED_VARIABLES, type NginxMap } from '../../src/fast-path';
import { dispatchLocation } from '../../src/policy';
import type { ClassifyOptions, RequestFacts } from '../../src/types';

const ROOT = join(import.meta.dirname, '../..');

/** The js_var defaults of conf.d/envd.conf, as nginx reads them when no `set` overrides them. */
export function jsVarDefaults(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'conf.d/envd.conf'), 'utf8');
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^js_var \$(\w+)(?:[ \t]+([^;\s]+))?;/gm)) out[m[1]] = m[2] ?? '';
  return out;
}

/** Read once: requestVariables runs for every generated request of the property tests. */
const JS_VAR_DEFAULTS = jsVarDefaults();

/**
 * The nginx variables the maps read, for a request as the shared vectors describe it: an absent
 * header reads as '' ($http_* of a missing header), settings as a `set` on the server would give.
 */
export function requestVariables(req: RequestFacts, options?: ClassifyOptions): Record<string, string> {
  const vars: Record<string, string> = {
    ...JS_VAR_DEFAULTS,
    request_uri: req.uri,
    http_host: req.host,
    http_e2b_sandbox_id: req.sandboxIdHeader ?? '',
    http_e2b_sandbox_port: req.sandboxPortHeader ?? '',
    http_upgrade: req.upgrade ?? '',
    http_connection: req.connection ?? '',
    content_type: req.contentType ?? '',
    http_accept: req.accept ?? '',
  };
  if (options?.allowInternal) vars.envd_internal_paths = 'allow';
  if (options?.idChars !== undefined) vars.envd_sandbox_id_chars = options.idChars;
  if (options?.idMaxLength !== undefined) vars.envd_sandbox_id_max_length = String(options.idMaxLength);
  return vars;
}

/**
 * A PCRE pattern as a JavaScript RegExp. The generator writes patterns both read alike; the one
 * difference it cannot avoid is `$`, which in PCRE also matches before a final newline.
 */
export function pcre(pattern: string, caseless: boolean): RegExp {
  return new RegExp(pattern.replace(/(?<!\\)\$/g, '(?=\\n?$)'), caseless ? 'i' : '');
}

export interface Evaluation {
  value: string;
  /** The njs variables ($..._js) the value needed, in the order nginx would have read them. */
  njs: string[];
}

/** nginx's ngx_hash_strlow: ASCII letters only. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Reads `name` as nginx 1.22 would for one request: a map compares exact keys first,
 * case-insensitively (ngx_http_map_find lowers both sides), then tries its regexes in order
 * (not for an empty source), then takes `default`; a regex's named captures become variables.
 * `$<name>_js` comes from `njs`, anything else from `vars`.
 */
export function readVariable(maps: readonly NginxMap[], vars: Record<string, string>, name: string, njs: (name: string) => string): Evaluation {
  const byName = new Map(maps.map((m) => [m.variable, m]));
  const cache = new Map<string, string>();
  const ran: string[] = [];
  const get = (variable: string): string => {
    const cached = cache.get(variable);
    if (cached !== undefined) return cached;
    let value: string;
    const map = byName.get(variable);
    if (map) value = evaluateMap(map);
    else if (variable.endsWith('_js')) {
      ran.push(variable);
      value = njs(variable.slice(0, -3));
    } else value = vars[variable] ?? '';
    cache.set(variable, value);
    return value;
  };
  const interpolate = (template: string, captures: string[]) =>
    template.replace(/\$(?:(\d)|([A-Za-z_][A-Za-z0-9_]*))/g, (_all, digit: string | undefined, variable: string | undefined) =>
      digit !== undefined ? (captures[Number(digit)] ?? '') : get(variable as string),
    );
  const evaluateMap = (map: NginxMap): string => {
    const source = interpolate(map.source, []);
    for (const entry of map.entries) {
      if (!entry.key.startsWith('~') && asciiLower(entry.key) === asciiLower(source)) return interpolate(entry.value, []);
    }
    if (source === '') return interpolate(map.fallback, []);
    for (const entry of map.entries) {
      if (!entry.key.startsWith('~')) continue;
      const caseless = entry.key.startsWith('~*');
      const m = pcre(entry.key.slice(caseless ? 2 : 1), caseless).exec(source);
      if (!m) continue;
      for (const [group, value] of Object.entries(m.groups ?? {})) cache.set(group, value ?? '');
      return interpolate(entry.value, m.map((c) => c ?? ''));
    }
    return interpolate(map.fallback, []);
  };
  const value = get(name);
  return { value, njs: ran };
}

/** The value njs gives a documented variable (without `$`), from the core's classification. */
export function njsValue(req: RequestFacts, options: ClassifyOptions | undefined, variable: string): string {
  const c = classifyRequest(req, options);
  const fields: Record<string, string> = {
    envd_mode: c.mode,
    envd_route: c.route,
    envd_rpc: c.rpc,
    envd_sandbox_id: c.sandboxId,
    envd_sandbox_port: c.sandboxPort,
    envd_upstream_uri: c.upstreamUri,
    envd_location: dispatchLocation(c.route, c.mode),
  };
  if (!(variable in fields)) throw new Error(`no njs variable $${variable}_js`);
  return fields[variable];
}

/**
 * What the fast path leaves to njs for a request:
 * - `all`: every documented variable is native, njs never runs;
 * - `route`: $envd_location, $envd_upstream_uri, $envd_route and the sandbox are native (what the
 *   dispatch reads), $envd_mode and $envd_rpc still come from njs when something reads them;
 * - `njs`: njs decides, from the dispatch on.
 */
export type FastPath = 'all' | 'route' | 'njs';

export interface FastPathResult {
  fastPath: FastPath;
  /** Each documented variable: the value through the maps, and whether it needed njs. */
  values: Record<string, Evaluation>;
}

const DISPATCH = ['envd_location', 'envd_upstream_uri', 'envd_route', 'envd_sandbox_id', 'envd_sandbox_port'];

export function throughMaps(maps: readonly NginxMap[], req: RequestFacts, options?: ClassifyOptions): FastPathResult {
  const vars = requestVariables(req, options);
  const values: Record<string, Evaluation> = {};
  for (const name of DOCUMENTED_VARIABLES) values[name] = readVariable(maps, vars, name, (v) => njsValue(req, options, v));
  const native = (name: string) => values[name].njs.length === 0;
  let fastPath: FastPath;
  if (DOCUMENTED_VARIABLES.every(native)) fastPath = 'all';
  else if (DISPATCH.every(native)) fastPath = 'route';
  else if (!native('envd_location') && !native('envd_upstream_uri')) fastPath = 'njs';
  else throw new Error(`the fast path decides an odd subset of variables for ${JSON.stringify(req)}: ${JSON.stringify(values)}`);
  return { fastPath, values };
}
