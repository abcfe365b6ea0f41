// js_content handlers. Each writes a response even when something fails.
import { matches } from '../src/text';
import type { EdgeResponse } from '../src/types';
import { errorForNginxStatus, renderEdgeError } from '../src/errors';
import { explainRequest } from '../src/explain';
import { asciiJson } from '../src/errors';
import { classify, classifyOptions } from './request';

/** The last resort when rendering itself fails: a plain Connect-style JSON error. */
const LAST_RESORT: EdgeResponse = {
  status: 502,
  headers: { 'Content-Type': 'application/json' },
  prefix: [],
  body: '{"code":"unavailable","message":"the edge could not render its error"}',
};

function send(r: NginxHTTPRequest, res: EdgeResponse): void {
  const names = Object.keys(res.headers);
  for (let i = 0; i < names.length; i++) r.headersOut[names[i]] = res.headers[names[i]];
  r.return(res.status, res.prefix.length ? Buffer.concat([Buffer.from(res.prefix), Buffer.from(res.body)]) : res.body);
}

/** js_content for /_envd/reject: a malformed route or a refused path, in the client's protocol. */
export function reject(r: NginxHTTPRequest): void {
  let res = LAST_RESORT;
  try {
    const c = classify(r);
    const rejection = c.rejection || { status: 400, code: 'invalid_argument' as const, message: 'malformed envd route' };
    res = renderEdgeError(rejection, c.protocol, r.headersIn['Content-Type']);
  } catch (e) {
    r.error('envd-edge: reject fell back to a generic error: ' + String(e));
  }
  send(r, res);
}

/** js_content for @envd_error_<code>: an error nginx raised itself (upstream down, timeout, 413, ...). */
export function renderError(r: NginxHTTPRequest): void {
  let res = LAST_RESORT;
  try {
    const c = classify(r);
    const connect = r.variables.upstream_connect_time || '';
    const error = errorForNginxStatus({
      status: Number(r.variables.envd_error_status) || 502,
      sandboxId: c.sandboxId,
      sandboxPort: c.sandboxPort,
      upstreamConnected: matches(connect, /[0-9]/),
    });
    res = renderEdgeError(error, c.protocol, r.headersIn['Content-Type']);
  } catch (e) {
    r.error('envd-edge: renderError fell back to a generic error: ' + String(e));
  }
  send(r, res);
}

/**
 * js_content for /_envd/explain (loopback only): how the edge would classify the request described
 * by the query (`?host=…&uri=…&content_type=…`) or by a JSON body with the same fields.
 */
export function explain(r: NginxHTTPRequest): void {
  r.headersOut['Content-Type'] = 'application/json';
  let fields: { [name: string]: unknown } = r.args;
  try {
    const text = r.requestText;
    if (text) fields = JSON.parse(text);
  } catch (e) {
    r.return(400, asciiJson({ code: 400, message: 'explain: the body is not JSON: ' + String(e) }));
    return;
  }
  try {
    r.return(200, asciiJson(explainRequest(fields || {}, classifyOptions(r))));
  } catch (e) {
    r.error('envd-edge: explain failed: ' + String(e));
    r.return(400, asciiJson({ code: 400, message: 'explain: ' + String(e) }));
  }
}

/** js_content: which njs and engine this nginx runs, for operators and the test matrix. */
export function version(r: NginxHTTPRequest): void {
  const engine = (njs as unknown as { engine?: string }).engine || 'njs';
  r.headersOut['Content-Type'] = 'application/json';
  r.return(200, JSON.stringify({ njs: njs.version, engine: engine }));
}
