// js_content and js_header_filter handlers. Each writes a response even when something fails.
import type { EdgeResponse } from '../src/types';
import { errorForNginxStatus, renderEdgeError } from '../src/errors';
import { classify } from './request';

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

/** js_content for @envd_error: an error nginx raised itself (upstream down, timeout, 413, ...). */
export function renderError(r: NginxHTTPRequest): void {
  let res = LAST_RESORT;
  try {
    const c = classify(r);
    const connect = r.variables.upstream_connect_time || '';
    const error = errorForNginxStatus({
      status: Number(r.variables.status) || 502,
      sandboxId: c.sandboxId,
      sandboxPort: c.sandboxPort,
      upstreamConnected: /[0-9]/.test(connect),
    });
    res = renderEdgeError(error, c.protocol, r.headersIn['Content-Type']);
  } catch (e) {
    r.error('envd-edge: renderError fell back to a generic error: ' + String(e));
  }
  send(r, res);
}

/** js_header_filter on unbuffered locations: tell any proxy in front not to buffer either. */
export function markUnbuffered(r: NginxHTTPRequest): void {
  r.headersOut['X-Accel-Buffering'] = 'no';
}

/** js_content: which njs and engine this nginx runs, for operators and the test matrix. */
export function version(r: NginxHTTPRequest): void {
  const engine = (njs as unknown as { engine?: string }).engine || 'njs';
  r.headersOut['Content-Type'] = 'application/json';
  r.return(200, JSON.stringify({ njs: njs.version, engine: engine }));
}
