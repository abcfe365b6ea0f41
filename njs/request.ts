// Reads the facts the core needs from an njs request. The only place that knows r's shape.
import type { Classification, ClassifyOptions, RequestFacts } from '../src/types';
import { classifyRequest } from '../src/classify';

function header(r: NginxHTTPRequest, name: string): string | undefined {
  const value = r.headersIn[name];
  return typeof value === 'string' ? value : undefined;
}

export function requestFacts(r: NginxHTTPRequest): RequestFacts {
  return {
    method: r.method,
    host: header(r, 'Host') || r.variables.host || '',
    uri: r.variables.request_uri || r.uri,
    contentType: header(r, 'Content-Type'),
    accept: header(r, 'Accept'),
    upgrade: header(r, 'Upgrade'),
    connection: header(r, 'Connection'),
    sandboxIdHeader: header(r, 'E2b-Sandbox-Id'),
    sandboxPortHeader: header(r, 'E2b-Sandbox-Port'),
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

/**
 * Runs `read` over the request's classification; on any exception logs one line with r.error
 * and returns `fallback`, so a js_set variable never fails the request.
 */
export function safely(r: NginxHTTPRequest, variable: string, fallback: string, read: (c: Classification) => string): string {
  try {
    return read(classify(r));
  } catch (e) {
    r.error('envd-edge: $' + variable + ' fell back to "' + fallback + '": ' + String(e));
    return fallback;
  }
}
